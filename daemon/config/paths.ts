import { homedir } from 'node:os';
import { join } from 'node:path';
export function resolveDataDir(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? env.SHEPHERD_DATA_DIR ?? join(env.XDG_DATA_HOME ?? join(homedir(), '.local/share'), 'shepherd');
}
export function configPathFor(dataDir: string): string {
  return join(dataDir, 'config.json');
}
