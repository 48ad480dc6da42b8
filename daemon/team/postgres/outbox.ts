// The local ledger as the outbox of the team ledger: a line is durable in ledger/YYYY-MM.jsonl first
// (the ledger writes it before the response ends) and shipped to PostgreSQL after. A cursor file
// beside the ledger records, per month file, the byte offset shipped so far; it is written atomically
// after each shipment, so after a crash the lines after it are shipped again. That is safe because
// rows are keyed by (time, id) and inserted with ON CONFLICT DO NOTHING: a lagging cursor costs a
// repeat, never a double count. Only whole lines ('\n'-terminated) are taken: a line being written
// (or torn by a crash, which the ledger ends with a '\n' at its next write and replay skips) waits.
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LedgerEntry } from '../../../shared/ledger';
import { writeFileAtomic } from '../../core/atomic-file';
import { ledgerEntryProblem } from '../../spend/ledger-entry';

const MONTH_FILE = /^(\d{4}-\d{2})\.jsonl$/;
/** Bytes first read for a batch of `max` lines (ledger lines are mostly well under 2 KiB)... */
const BYTES_PER_LINE = 2048;
/** ...and the most read when that holds no whole line: above the ledger's longest line (1 MiB). */
const READ_BYTES = 4 << 20;
const CURSOR_VERSION = 1;

export interface Batch {
  month: string;
  /** The offset after the last whole line taken: the cursor once the batch is in PostgreSQL. */
  end: number;
  entries: LedgerEntry[];
  /** Lines taken that are not ledger entries (torn, garbage): passed over, never shipped. */
  skipped: number;
}

/**
 * The whole lines at the front of `buf` (at most `max`), and how many bytes they span; a last line
 * with no '\n' yet is left for later. Pure.
 */
export function wholeLines(buf: Buffer, max: number): { lines: string[]; bytes: number } {
  const lines: string[] = [];
  let start = 0;
  while (lines.length < max) {
    const nl = buf.indexOf(0x0a, start);
    if (nl < 0) break;
    lines.push(buf.toString('utf8', start, nl));
    start = nl + 1;
  }
  return { lines, bytes: start };
}

const INT32 = 2 ** 31 - 1;

/**
 * A ledger line as an entry to ship, or undefined when it is not one, or holds what the table's
 * columns cannot (a time outside the years 1970 to 9999, a status or attempt count beyond 32 bits):
 * PostgreSQL would refuse the whole batch.
 */
export function entryOf(line: string): LedgerEntry | undefined {
  if (line.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (ledgerEntryProblem(value) !== undefined) return undefined;
  const e = value as LedgerEntry;
  const ms = Date.parse(e.time);
  if (Number.isNaN(ms) || ms < 0 || ms >= Date.UTC(10_000, 0, 1)) return undefined;
  return e.status > INT32 || e.status < -INT32 || e.attempts > INT32 ? undefined : e;
}

/** The cursor file's content: offsets shipped per month, for one target (server, database and table). */
export function decodeCursor(text: string, target: string): Map<string, number> {
  const out = new Map<string, number>();
  try {
    const data = JSON.parse(text) as { version?: unknown; target?: unknown; months?: unknown };
    // Another target (a new database or table): everything is shipped there again, from the start.
    if (data.version !== CURSOR_VERSION || data.target !== target || typeof data.months !== 'object' || data.months === null) return out;
    for (const [month, offset] of Object.entries(data.months)) {
      if (/^\d{4}-\d{2}$/.test(month) && Number.isSafeInteger(offset) && (offset as number) >= 0) out.set(month, offset as number);
    }
  } catch {
    // Unreadable: start over; the primary key keeps repeats out.
  }
  return out;
}

export function encodeCursor(target: string, months: ReadonlyMap<string, number>): string {
  return JSON.stringify({ version: CURSOR_VERSION, target, months: Object.fromEntries(months) });
}

export class Outbox {
  private shipped = new Map<string, number>();
  /** Per month: up to which offset newlines were counted, and how many of them lie past the shipped offset. */
  private readonly counted = new Map<string, { offset: number; lines: number }>();

  constructor(
    private readonly ledgerDir: string,
    private readonly cursorPath: string,
    private readonly target: string,
  ) {}

  async load(): Promise<void> {
    try {
      this.shipped = decodeCursor(await readFile(this.cursorPath, 'utf8'), this.target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  /** The month files, oldest first, with their sizes. */
  private async files(): Promise<{ month: string; path: string; size: number }[]> {
    let names: string[];
    try {
      names = (await readdir(this.ledgerDir)).filter((n) => MONTH_FILE.test(n)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out = [];
    for (const name of names) {
      const path = join(this.ledgerDir, name);
      out.push({ month: name.slice(0, 7), path, size: (await stat(path)).size });
    }
    return out;
  }

  /** The next lines to ship (at most `max`), from the oldest month with any; undefined when all is shipped. */
  async next(max: number): Promise<Batch | undefined> {
    for (const f of await this.files()) {
      let from = this.shipped.get(f.month) ?? 0;
      // Shorter than what was shipped: the file was replaced or lost its tail (a power loss: the ledger
      // does not fsync); ship it again from the start (repeats are skipped by key).
      if (f.size < from) from = 0;
      if (f.size === from) continue;
      const handle = await open(f.path, 'r');
      try {
        // The cursor must sit just after a newline; otherwise the file is not the one it was made for.
        if (from > 0 && (await byteAt(handle, from - 1)) !== 0x0a) from = 0;
        let window = Math.min(f.size - from, Math.max(64 << 10, max * BYTES_PER_LINE));
        let read = await readLines(handle, from, window, max);
        // No whole line in the window: a long line, or one still being written; look further once.
        if (read.bytes === 0 && window < f.size - from) {
          window = Math.min(f.size - from, READ_BYTES);
          read = await readLines(handle, from, window, max);
        }
        const { lines, bytes } = read;
        if (bytes === 0) continue; // only a line still being written
        const entries: LedgerEntry[] = [];
        for (const line of lines) {
          const e = entryOf(line);
          if (e) entries.push(e);
        }
        return { month: f.month, end: from + bytes, entries, skipped: lines.length - entries.length };
      } finally {
        await handle.close();
      }
    }
    return undefined;
  }

  /** The batch is in PostgreSQL: the cursor moves past it, on disk before anything else is shipped. */
  async commit(batch: Batch): Promise<void> {
    const before = this.shipped.get(batch.month) ?? 0;
    this.shipped.set(batch.month, batch.end);
    await writeFileAtomic(this.cursorPath, encodeCursor(this.target, this.shipped));
    const c = this.counted.get(batch.month);
    if (c && batch.end > before) c.lines = Math.max(0, c.lines - (batch.entries.length + batch.skipped));
  }

  /** Whole lines in the ledger not yet shipped: new bytes are counted once, as the files grow. */
  async waiting(): Promise<number> {
    let total = 0;
    for (const f of await this.files()) {
      const shipped = this.shipped.get(f.month) ?? 0;
      let c = this.counted.get(f.month);
      if (!c || c.offset < shipped || f.size < c.offset) c = { offset: Math.min(shipped, f.size), lines: 0 };
      if (f.size > c.offset) c.lines += await countLines(f.path, c.offset, f.size);
      c.offset = Math.max(c.offset, f.size);
      this.counted.set(f.month, c);
      total += c.lines;
    }
    return total;
  }
}

async function byteAt(handle: Awaited<ReturnType<typeof open>>, at: number): Promise<number | undefined> {
  const buf = Buffer.alloc(1);
  const { bytesRead } = await handle.read(buf, 0, 1, at);
  return bytesRead === 1 ? buf[0] : undefined;
}

async function readLines(handle: Awaited<ReturnType<typeof open>>, from: number, length: number, max: number): Promise<{ lines: string[]; bytes: number }> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buf, 0, length, from);
  return wholeLines(buf.subarray(0, bytesRead), max);
}

/** Newlines in [from, to) of a file, read in chunks. */
async function countLines(path: string, from: number, to: number): Promise<number> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(1 << 20, to - from));
    let n = 0;
    for (let at = from; at < to; ) {
      const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, to - at), at);
      if (bytesRead <= 0) break;
      for (let i = buf.indexOf(0x0a); i >= 0 && i < bytesRead; i = buf.indexOf(0x0a, i + 1)) n++;
      at += bytesRead;
    }
    return n;
  } finally {
    await handle.close();
  }
}
