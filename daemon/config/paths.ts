// Where Shepherd keeps its data. Pure: platform, environment and home directory are passed in.
import { homedir } from 'node:os';
import { join, posix, win32 } from 'node:path';

/** --data-dir, then $SHEPHERD_DATA_DIR, then the platform's usual place for application data. */
export function resolveDataDir(
  flag?: string,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  if (flag) return flag;
  if (env.SHEPHERD_DATA_DIR) return env.SHEPHERD_DATA_DIR;
  if (platform === 'win32') return win32.join(env.APPDATA || win32.join(home, 'AppData', 'Roaming'), 'Shepherd');
  if (platform === 'darwin') return posix.join(home, 'Library', 'Application Support', 'Shepherd');
  return posix.join(env.XDG_DATA_HOME || posix.join(home, '.local', 'share'), 'shepherd');
}

export function configPathFor(dataDir: string): string {
  return join(dataDir, 'config.json');
}
