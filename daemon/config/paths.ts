// Where Shepherd keeps its data: the pure resolver lives in shared/ (the extension needs it too).
import { homedir } from 'node:os';
import { join } from 'node:path';
import { resolveDataDir as resolveSharedDataDir } from '../../shared/data-dir';

/** The data directory (see shared/data-dir.ts), with this process's environment, platform and home as defaults. */
export function resolveDataDir(
  flag?: string,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  return resolveSharedDataDir(flag, env, platform, home);
}

export function configPathFor(dataDir: string): string {
  return join(dataDir, 'config.json');
}
