// The data directory holds the ledger, the config (which may carry keys) and the state file with the
// control token: owner-only. A directory made before Shepherd (or by an older one) is tightened too.
import { chmod, mkdir, stat } from 'node:fs/promises';
import type { Logger } from '../core/log';

export async function prepareDataDir(dataDir: string, log: Logger): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const info = await stat(dataDir);
  const loose = info.mode & 0o077;
  if (loose === 0) return;
  const mode = (info.mode & 0o777).toString(8);
  // Never chmod a directory others share (sticky like /tmp) or one we do not own: say so instead.
  const ours = process.getuid === undefined || info.uid === process.getuid();
  if (!ours || (info.mode & 0o1000) !== 0) {
    log.warn(`the data directory ${dataDir} is readable by others (mode ${mode}); use a directory of your own`);
    return;
  }
  try {
    await chmod(dataDir, 0o700);
    log.info(`tightened the data directory ${dataDir} from mode ${mode} to 700 (owner only)`);
  } catch (err) {
    log.warn(`the data directory ${dataDir} is readable by others (mode ${mode}) and could not be tightened: ${(err as Error).message}`);
  }
}
