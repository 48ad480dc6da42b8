// Where Shepherd keeps its data. Pure: flag, environment, platform and home directory are all passed in,
// so every platform's answer can be tested from any machine. Shared because the extension finds a
// running daemon through the state file in this directory. Paths are joined here rather than with
// node:path, so that shared/ needs nothing but zod and itself.

/**
 * The data directory: the --data-dir flag, then $SHEPHERD_DATA_DIR, then the platform's usual place
 * for per-user application data. Empty values count as unset.
 */
export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv, platform: NodeJS.Platform, home: string): string {
  if (flag) return flag;
  if (env.SHEPHERD_DATA_DIR) return env.SHEPHERD_DATA_DIR;
  if (platform === 'win32') {
    const appData = env.APPDATA && isAbsoluteWin(env.APPDATA) ? env.APPDATA : join('\\', home, 'AppData', 'Roaming');
    return join('\\', appData, 'Shepherd');
  }
  if (platform === 'darwin') return join('/', home, 'Library', 'Application Support', 'Shepherd');
  // The XDG spec says a relative $XDG_DATA_HOME is invalid and must be ignored.
  const xdg = env.XDG_DATA_HOME && env.XDG_DATA_HOME.startsWith('/') ? env.XDG_DATA_HOME : join('/', home, '.local', 'share');
  return join('/', xdg, 'shepherd');
}

/** Joins with one separator between parts, keeping the first part's own leading form. */
function join(sep: '/' | '\\', first: string, ...rest: string[]): string {
  const trailing = sep === '\\' ? /[\\/]+$/ : /\/+$/;
  let out = first.length > 1 ? first.replace(trailing, '') : first;
  for (const part of rest) out = out.endsWith(sep) ? out + part : `${out}${sep}${part}`;
  return out;
}

/** C:\..., C:/..., or a UNC path \\server\share. */
function isAbsoluteWin(path: string): boolean {
  return /^[a-zA-Z]:[\\/]/.test(path) || path.startsWith('\\\\');
}
