// One daemon per data directory. The lock is a file created exclusively (link(2) of a complete temp
// file, so it never exists half-written) that names the holder's pid; it is held for the process's
// life and removed on stop. A lock whose pid is gone was left by a killed daemon and is taken over;
// takeovers are serialised by a second exclusive file, so two starters cannot both take it. Pids are
// reused (after a reboot, or in a busy container), so the lock also names when its holder started
// (Linux: /proc/<pid>/stat); a live pid that started at another time is another process.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { EXIT_ALREADY_RUNNING, STATE_FILE_NAME } from '../../shared/protocol';
import { StartError } from './start-error';

export const LOCK_FILE_NAME = 'daemon.lock';

export interface DataDirLock {
  release(): Promise<void>;
}

interface Holder {
  pid: number;
  /** When the holder process started (clock ticks since boot), where the system tells. */
  started?: string;
}

/** Locks held by this process, so a second in-process start on the same directory is refused too. */
const heldHere = new Set<string>();

export async function lockDataDir(dataDir: string, pid = process.pid): Promise<DataDirLock> {
  const file = join(dataDir, LOCK_FILE_NAME);
  if (heldHere.has(file)) throw await heldError(dataDir, pid);
  // Bounded: each round either takes the lock, finds a live holder, or removes a dead one.
  for (let round = 0; round < 10; round++) {
    if (round > 0) await delay(20); // another starter is mid-takeover: give it a moment
    if (await createExclusive(file, withStart(pid))) {
      heldHere.add(file);
      return { release: () => release(file, pid) };
    }
    const holder = await readHolder(file);
    if (holder === undefined) continue; // removed between our attempt and the read: try again
    // Our own pid in a lock we do not hold is a previous life of this pid (e.g. pid 1 in a container).
    if (holder.pid !== pid && holds(holder)) throw await heldError(dataDir, holder.pid);
    await takeOver(file, holder, pid);
  }
  throw new StartError(`could not lock ${file}: it keeps changing (another Shepherd starting at the same time?)`);
}

/** The live process holding the data directory's lock, if any (for callers that want to attach to it). */
export async function lockHolder(dataDir: string): Promise<number | undefined> {
  const holder = await readHolder(join(dataDir, LOCK_FILE_NAME));
  return holder && holds(holder) ? holder.pid : undefined;
}

/** Whether the process that wrote this lock still runs: its pid is alive and, where known, started when it did. */
function holds(holder: Holder): boolean {
  if (!isAlive(holder.pid)) return false;
  if (holder.started === undefined) return true;
  const now = processStart(holder.pid);
  return now === undefined || now === holder.started;
}

function withStart(pid: number): Holder {
  const started = processStart(pid);
  return started === undefined ? { pid } : { pid, started };
}

/** The process's start time (field 22 of /proc/<pid>/stat), or undefined off Linux or when unreadable. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] || undefined;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  if (pid <= 0) return false; // 0 and negatives address process groups, not a process
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/** Removes the dead holder's lock under the takeover guard, re-checking it is still that holder's. */
async function takeOver(file: string, dead: Holder, pid: number): Promise<void> {
  const guard = `${file}.takeover`;
  if (!(await createExclusive(guard, { pid }))) {
    const other = await readHolder(guard);
    // A guard whose owner died mid-takeover would block every later start: clear it, then retry.
    if (other && !isAlive(other.pid)) await rm(guard, { force: true });
    return;
  }
  try {
    const now = await readHolder(file);
    if (now?.pid === dead.pid) await rm(file, { force: true });
  } finally {
    await rm(guard, { force: true });
  }
}

/** Creates `file` with `holder` in it only if no such file exists; false if one does. */
async function createExclusive(file: string, holder: Holder): Promise<boolean> {
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, `${JSON.stringify(holder)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await rm(tmp, { force: true });
  }
}

async function readHolder(file: string): Promise<Holder | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<Holder>;
    if (typeof parsed.pid !== 'number' || !Number.isInteger(parsed.pid) || parsed.pid <= 0) return { pid: 0 };
    return typeof parsed.started === 'string' ? { pid: parsed.pid, started: parsed.started } : { pid: parsed.pid };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return { pid: 0 }; // unreadable garbage (never written by link): treat as a dead holder
  }
}

async function release(file: string, pid: number): Promise<void> {
  heldHere.delete(file);
  const holder = await readHolder(file);
  if (holder?.pid === pid) await rm(file, { force: true });
}

/** Names the holder, and its port when its state file says it is listening already. */
async function heldError(dataDir: string, pid: number): Promise<StartError> {
  let where = 'still starting';
  try {
    const state = JSON.parse(await readFile(join(dataDir, STATE_FILE_NAME), 'utf8')) as { pid?: number; url?: string; port?: number };
    if (state.pid === pid && state.port !== undefined) where = `port ${state.port}${state.url ? `, ${state.url}` : ''}`;
  } catch {
    // No state file yet: the holder has not finished starting.
  }
  return new StartError(`another Shepherd daemon is already running in ${dataDir} (pid ${pid}, ${where}); stop it first, or use another --data-dir`, EXIT_ALREADY_RUNNING);
}
