// The small file that tells other processes (the VS Code extension, a second `shepherd start`) that a
// daemon runs, where, which version, and the control channel's token. Owner-only: the token lets its
// reader control the daemon, and the file names a local port a page could probe.
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { STATE_FILE_NAME, type DaemonState } from '../../shared/protocol';
import { writeFileAtomic } from '../core/atomic-file';

export type { DaemonState };

export function stateFilePath(dataDir: string): string {
  return join(dataDir, STATE_FILE_NAME);
}

/** 32 random bytes, hex: unguessable, and safe to put in a JSON file and a WebSocket message. */
export function newControlToken(): string {
  return randomBytes(32).toString('hex');
}

/** Written aside and renamed, so a reader never sees half a file; created 0600 before any byte is in it. */
export async function writeStateFile(dataDir: string, state: DaemonState): Promise<void> {
  await writeFileAtomic(stateFilePath(dataDir), `${JSON.stringify(state, null, 2)}\n`);
}

/** Removes the file only if it still describes this process (a newer daemon may own it now). */
export async function removeStateFile(dataDir: string, pid: number): Promise<void> {
  try {
    const current = JSON.parse(await readFile(stateFilePath(dataDir), 'utf8')) as Partial<DaemonState>;
    if (current.pid === pid) await rm(stateFilePath(dataDir), { force: true });
  } catch {
    // Missing or unreadable: nothing of ours to remove.
  }
}
