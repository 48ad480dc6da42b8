// Summaries of closed ledger months, so start-up does not parse a year of JSON lines again: a month
// older than the previous one can receive no more entries (they are stamped with the time they
// finish), so its spend by day, group, deployment and key is computed once and kept beside the ledger
// in ledger/summaries/YYYY-MM.json. A summary is used only while its month file has the size it was
// made from; anything else (missing, unreadable, another size) means the month is parsed again.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomic-file';
import type { Bucket } from './spend-index';

export interface MonthSummary {
  /** Bytes of the month file it was made from. */
  size: number;
  entries: number;
  skipped: number;
  buckets: Bucket[];
}

export interface ClosedMonths {
  /** Months before this one ("YYYY-MM") are closed. */
  before: string;
  load(month: string, size: number): Promise<MonthSummary | undefined>;
  save(month: string, summary: MonthSummary): Promise<void>;
  /** Receives each closed month's summary (replayed entries of closed months are not passed one by one). */
  onSummary(summary: MonthSummary): void;
}

// 2: sandbox entries have buckets of their own (spend-index.ts); older summaries are made again.
const VERSION = 2;

/** The month before `now`'s UTC month: it and later months are open, earlier ones closed. */
export function previousMonth(now: number): string {
  const d = new Date(now);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
}

export function summaryStore(ledgerDir: string, now: number, onSummary: (s: MonthSummary) => void): ClosedMonths {
  const dir = join(ledgerDir, 'summaries');
  return {
    before: previousMonth(now),
    onSummary,
    async load(month, size) {
      try {
        const data = JSON.parse(await readFile(join(dir, `${month}.json`), 'utf8')) as Partial<MonthSummary> & { version?: number };
        if (data.version !== VERSION || data.size !== size || !Array.isArray(data.buckets)) return undefined;
        if (typeof data.entries !== 'number' || typeof data.skipped !== 'number') return undefined;
        return { size, entries: data.entries, skipped: data.skipped, buckets: data.buckets };
      } catch {
        return undefined;
      }
    },
    async save(month, summary) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFileAtomic(join(dir, `${month}.json`), JSON.stringify({ version: VERSION, ...summary }));
    },
  };
}
