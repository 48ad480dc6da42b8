// Checkpoints of the open ledger months on disk (ledger/checkpoints/YYYY-MM.json), and the writer that
// keeps them fresh while the daemon runs: after every `appends` new entries, every `ms` while some
// month has changed, and at close. The format and the trust decision are in checkpoint.ts.
//
// Crash safety: a checkpoint covers only lines already written, and start-up counts the lines before
// its offset from the checkpoint alone and parses the rest, so a SIGKILL between checkpoints loses
// nothing and counts nothing twice; a checkpoint that cannot be trusted means a full parse.
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { LedgerEntry } from '../../shared/ledger';
import { writeFileAtomic } from '../core/atomic-file';
import { encodeCheckpoint, windows, type FileMark, type FileProbe } from './checkpoint';
import { MonthTally, type MonthView } from './month-tally';

export interface CheckpointStore {
  /** The checkpoint's text, or undefined when there is none. */
  load(month: string): Promise<string | undefined>;
  save(month: string, text: string): Promise<void>;
  remove(month: string): Promise<void>;
}

export interface CheckpointPolicy {
  /** Write after this many new entries (default 10,000). */
  appends: number;
  /** Write this often while something changed (default 5 s). */
  ms: number;
}

/** The open months for Ledger.replay: restored from checkpoints, and checkpointed while running. */
export interface OpenMonths {
  store: CheckpointStore;
  /** Each open month's tally (checkpoint plus later lines, or every line), oldest month first. */
  onMonth(month: MonthView): void;
  policy?: Partial<CheckpointPolicy>;
}

const DEFAULT_POLICY: CheckpointPolicy = { appends: 10_000, ms: 5_000 };

export function checkpointedMonths(ledgerDir: string, onMonth: (month: MonthView) => void, policy?: Partial<CheckpointPolicy>): OpenMonths {
  return { store: checkpointStore(ledgerDir), onMonth, policy };
}

export function checkpointStore(ledgerDir: string): CheckpointStore {
  const dir = join(ledgerDir, 'checkpoints');
  const file = (month: string) => join(dir, `${month}.json`);
  return {
    async load(month) {
      try {
        return await readFile(file(month), 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
    async save(month, text) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFileAtomic(file(month), text);
    },
    remove: (month) => rm(file(month), { force: true }),
  };
}

/** Reads what checkpoint.ts needs to judge a checkpoint at `offset` of the file at `path`. */
export async function probeFile(path: string, offset: number): Promise<FileProbe> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size < offset) return { size, atLineEnd: false };
    const hash = async ([start, end]: [number, number]): Promise<{ hex: string; bytes: Buffer }> => {
      const bytes = Buffer.alloc(end - start);
      let got = 0;
      while (got < bytes.length) {
        const { bytesRead } = await handle.read(bytes, got, bytes.length - got, start + got);
        if (bytesRead === 0) throw new Error(`${path} ended while being read`);
        got += bytesRead;
      }
      return { hex: createHash('sha256').update(bytes).digest('hex'), bytes };
    };
    const w = windows(offset);
    const head = await hash(w.head);
    const tail = await hash(w.tail);
    return { size, head: head.hex, tail: tail.hex, atLineEnd: offset === 0 || tail.bytes[tail.bytes.length - 1] === 0x0a };
  } finally {
    await handle.close();
  }
}

interface Tracked extends FileMark {
  tally: MonthTally;
  /** Changed since its checkpoint was written. */
  dirty: boolean;
}

/**
 * Follows the open month files as the ledger writes them and writes their checkpoints. The ledger
 * calls opened/written/failed from its single writer, in order, right after each write returns, so
 * a month's tally and offset always describe the same bytes.
 */
export class Checkpointer {
  private readonly months = new Map<string, Tracked>();
  private readonly policy: CheckpointPolicy;
  private readonly timer: NodeJS.Timeout;
  private sinceSave = 0;
  private saving: Promise<void> = Promise.resolve();
  private warned = false;

  constructor(
    private readonly ledgerDir: string,
    private readonly store: CheckpointStore,
    private readonly warn: (message: string) => void,
    policy: Partial<CheckpointPolicy> = {},
  ) {
    this.policy = { ...DEFAULT_POLICY, ...policy };
    this.timer = setInterval(() => {
      if ([...this.months.values()].some((m) => m.dirty)) void this.save();
    }, this.policy.ms);
    this.timer.unref(); // never what keeps the process alive
  }

  /** A month replayed up to `mark`; dirty when its checkpoint (if any) covers less. */
  track(month: string, tally: MonthTally, mark: FileMark, dirty: boolean): void {
    this.months.set(month, { tally, ...mark, dirty });
  }

  /** The ledger opened a month file for appending; `size` is its length now. */
  opened(month: string, size: number): void {
    const m = this.months.get(month);
    if (m && m.offset !== size) {
      // Someone else wrote to it: the tally no longer describes the file. The checkpoint already on
      // disk still covers an unchanged prefix, or start-up will find out that it does not.
      this.months.delete(month);
      this.warn(`ledger ${month}.jsonl: changed outside the daemon (${size} bytes, expected ${m.offset}); its checkpoint is not updated until the next start`);
    } else if (!m && size === 0) {
      this.months.set(month, { tally: new MonthTally(month), offset: 0, lines: 0, dirty: false });
    }
  }

  /** `bytes` (holding `newlines` line ends) were written to the month's file, recording `entries`. */
  written(month: string, bytes: number, newlines: number, entries: readonly LedgerEntry[]): void {
    const m = this.months.get(month);
    if (!m) return;
    m.offset += bytes;
    m.lines += newlines;
    for (const e of entries) m.tally.add(e);
    m.dirty = true;
    this.sinceSave += entries.length;
    if (this.sinceSave >= this.policy.appends) void this.save();
  }

  /** A write failed part-way: what the file now holds is uncertain, so stop checkpointing the month. */
  failed(month: string): void {
    this.months.delete(month);
  }

  /** Writes the checkpoints of changed months (one save at a time); never rejects. */
  save(): Promise<void> {
    this.sinceSave = 0;
    this.saving = this.saving.then(() => this.saveChanged());
    return this.saving;
  }

  /** Stops the timer and writes what changed (the ledger calls it when it closes). */
  close(): Promise<void> {
    clearInterval(this.timer);
    return this.save();
  }

  /** Stops the timer without writing (a new replay replaces this writer). */
  stop(): Promise<void> {
    clearInterval(this.timer);
    return this.saving;
  }

  private async saveChanged(): Promise<void> {
    for (const [month, m] of this.months) {
      if (!m.dirty) continue;
      m.dirty = false;
      // Taken synchronously, so tally and offset match; bytes before the offset never change.
      const mark: FileMark = { offset: m.offset, lines: m.lines };
      const state = m.tally.state();
      try {
        const probe = await probeFile(join(this.ledgerDir, `${month}.jsonl`), mark.offset);
        // Mid-line (a torn last line found by replay): the next write ends it, and marks it dirty.
        if (!probe.atLineEnd) continue;
        await this.store.save(month, encodeCheckpoint(month, mark, state, probe));
      } catch (err) {
        m.dirty = true;
        if (!this.warned) this.warn(`ledger ${month}.jsonl: could not write its checkpoint (${err instanceof Error ? err.message : String(err)}); start-up may parse it in full`);
        this.warned = true;
      }
    }
  }
}
