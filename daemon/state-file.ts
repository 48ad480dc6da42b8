// The small file that tells other processes (the VS Code extension, a second `shepherd start`) that a
// daemon runs, where, and which version. Owner-only: it names a local port a page could probe.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface DaemonState {
  pid: number;
  version: string;
  host: string;
  port: number;
  url: string;
  sandbox: boolean;
  startedAt: string;
}

export function stateFilePath(dataDir: string): string {
  return join(dataDir, 'daemon.json');
}

export async function writeStateFile(dataDir: string, state: DaemonState): Promise<void> {
  await writeFile(stateFilePath(dataDir), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
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
