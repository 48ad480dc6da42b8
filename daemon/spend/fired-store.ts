// The alerts already fired, in <dataDir>/budget-alerts.json, so a restart does not send them again.
// Loaded once at start-up; every change is written aside and renamed (a crash leaves the old file or
// the new one, never half of one), one write at a time, the latest state last.
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../core/atomic-file';
import { join } from 'node:path';
import type { FiredSet } from './budgets';

export const FIRED_FILE_NAME = 'budget-alerts.json';

export interface FiredStore extends FiredSet {
  /** Resolves when everything added so far is on disk (or its write failed and was reported). */
  flush(): Promise<void>;
}

export async function openFiredStore(dataDir: string, warn: (message: string) => void = () => {}): Promise<FiredStore> {
  const file = join(dataDir, FIRED_FILE_NAME);
  const ids = new Set<string>();
  try {
    const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
    const fired = typeof parsed === 'object' && parsed !== null ? (parsed as { fired?: unknown }).fired : undefined;
    if (Array.isArray(fired)) for (const id of fired) if (typeof id === 'string') ids.add(id);
  } catch (err) {
    // Missing is normal on first run; unreadable means alerts of this period may repeat once.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') warn(`${file}: not readable, alerts already sent may be sent again (${String(err)})`);
  }
  let writing = Promise.resolve();
  let dirty = false;
  const save = () => {
    dirty = true;
    writing = writing.then(async () => {
      if (!dirty) return; // a later change's write already covered this one
      dirty = false;
      try {
        await writeFileAtomic(file, `${JSON.stringify({ fired: [...ids] })}\n`);
      } catch (err) {
        warn(`${file}: could not save the alerts sent (${err instanceof Error ? err.message : String(err)})`);
      }
    });
  };
  return {
    has: (id) => ids.has(id),
    add(id) {
      ids.add(id);
      save();
    },
    retain(keep) {
      let changed = false;
      for (const id of ids) {
        if (!keep(id)) {
          ids.delete(id);
          changed = true;
        }
      }
      if (changed) save();
    },
    flush: () => writing,
  };
}
