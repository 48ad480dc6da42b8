// Writes a whole file or nothing: the text goes to a fresh temp file beside the target, created with
// its final mode before any byte is in it, which is then renamed over the target. A crash or a
// concurrent reader sees the old file or the new one, never half of one.
import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';

/** `mode` defaults to owner-only: most of what the daemon writes (state, alerts, ledger summaries) is private. */
export async function writeFileAtomic(file: string, text: string, mode = 0o600): Promise<void> {
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, text, { mode, flag: 'wx' });
    await rename(tmp, file);
  } finally {
    await rm(tmp, { force: true });
  }
}
