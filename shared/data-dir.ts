// Where Shepherd keeps its data. Pure: flag, environment, platform and home directory are all passed in,
// so every platform's answer can be tested from any machine. Shared because the extension finds a
// running daemon through the state file in this directory.
import { posix, win32 } from 'node:path';

/**
 * The data directory: the --data-dir flag, then $SHEPHERD_DATA_DIR, then the platform's usual place
 * for per-user application data. Empty values count as unset.
 */
export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv, platform: NodeJS.Platform, home: string): string {
  if (flag) return flag;
  if (env.SHEPHERD_DATA_DIR) return env.SHEPHERD_DATA_DIR;
  if (platform === 'win32') {
    const appData = env.APPDATA && win32.isAbsolute(env.APPDATA) ? env.APPDATA : win32.join(home, 'AppData', 'Roaming');
    return win32.join(appData, 'Shepherd');
  }
  if (platform === 'darwin') return posix.join(home, 'Library', 'Application Support', 'Shepherd');
  // The XDG spec says a relative $XDG_DATA_HOME is invalid and must be ignored.
  const xdg = env.XDG_DATA_HOME && posix.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : posix.join(home, '.local', 'share');
  return posix.join(xdg, 'shepherd');
}
