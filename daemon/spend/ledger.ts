// The request ledger: one JSON line per finished request, appended to <dataDir>/ledger/YYYY-MM.jsonl
// (the UTC month of entry.time), replayed at start-up to rebuild the totals.
//
// Durability: append() resolves once write(2) has returned, and the daemon awaits it before a
// response's last byte. There is deliberately no fsync: data handed to the kernel survives a crash of
// this process (it sits in the page cache), and an fsync per request would cost milliseconds on the hot
// path. What a power loss or kernel crash can lose is the last few seconds, at worst as a torn last
// line, which replay skips and the next append repairs.
//
// Writes: the lines of requests that finish in one turn of the event loop are written together, with
// a synchronous write(2) of the page cache. Through the thread pool the same write costs the main
// thread tens of microseconds and a wake-up of another thread each way (over 0.1 ms of latency per
// request on a small VM); synchronously it costs a few. A disk slow enough to make a synchronous
// write take longer than SLOW_WRITE_MS would stall the event loop, so then the ledger falls back to
// the thread pool for a while (and says so).
import { isAscii } from 'node:buffer';
import { writeSync } from 'node:fs';
import { mkdir, open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { LedgerEntry } from '../../shared/ledger';
import { Aggregates } from './aggregates';
import { checkpointMismatch, decodeCheckpoint, type FileMark } from './checkpoint';
import { Checkpointer, probeFile, type CheckpointStore, type OpenMonths } from './checkpoints';
import { ledgerEntryProblem } from './ledger-entry';
import { parseLedgerLine } from './ledger-parse';
import type { ClosedMonths, MonthSummary } from './month-summaries';
import { MonthTally } from './month-tally';

export { ledgerEntryProblem };

export interface LedgerOptions {
  /** Skipped lines, repaired files, unreadable files. Default: nothing. */
  warn?: (message: string) => void;
  /** The synchronous write(2) of the fast path (tests stand in a short or failing one). Default: fs.writeSync. */
  writeSync?: (fd: number, buffer: Buffer, offset: number, length: number) => number;
}

export interface ReplaySummary {
  files: number;
  entries: number;
  skipped: number;
  /** With checkpoints (replay's `open`): open months restored from one (only their later lines were parsed). */
  restored?: number;
  ms: number;
}

const FILE_NAME = /^\d{4}-\d{2}\.jsonl$/;
/** Individual warnings per replay; the rest are counted in one closing warning. */
const MAX_LINE_WARNINGS = 10;
/** A "line" longer than this is garbage (entries are a few hundred bytes); it is skipped, not buffered. */
const MAX_LINE_BYTES = 1 << 20;
/** Bytes read at a time by replay. */
const READ_CHUNK = 1 << 20;
/** Bytes decoded into one string at a time (whole lines; a longer line is decoded on its own). */
const DECODE_BYTES = 1 << 16;
/** Month files kept open: the current one and the one before (a late entry from around midnight). */
const MAX_OPEN_FILES = 2;
/** A synchronous write slower than this means a slow disk: writes go through the thread pool... */
const SLOW_WRITE_MS = 5;
/** ...for this long before synchronous writes are tried again. */
const SLOW_DISK_BACKOFF_MS = 60_000;

interface Pending {
  month: string;
  line: string;
  entry: LedgerEntry;
  resolve: () => void;
  reject: (err: Error) => void;
}

interface MonthFile {
  path: string;
  handle: FileHandle;
  /** '\n' when the file ended in a torn line: written in front of the next batch. */
  prefix: string;
}

export class Ledger {
  readonly totals = new Aggregates();
  private readonly warn: (message: string) => void;
  private readonly files = new Map<string, MonthFile>();
  private queue: Pending[] = [];
  private draining: Promise<void> | undefined;
  /** The batch being written right now; never rejects. */
  private writing: Promise<void> = Promise.resolve();
  /** Set while replay() reads the files; the writer waits for it. */
  private replaying: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  /** Keeps the open months' checkpoints fresh; set by a replay with `open`. */
  private checkpointer: Checkpointer | undefined;
  /** performance.now() until which writes go through the thread pool (after a slow synchronous one). */
  private asyncWritesUntil = 0;

  private readonly writeSync: NonNullable<LedgerOptions['writeSync']>;

  private constructor(readonly dir: string, options: LedgerOptions) {
    this.warn = options.warn ?? (() => {});
    this.writeSync = options.writeSync ?? writeSync;
  }

  /** Creates <dataDir>/ledger (owner-only) if missing. Files are opened lazily by the first append. */
  static async open(dataDir: string, options: LedgerOptions = {}): Promise<Ledger> {
    const dir = join(dataDir, 'ledger');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return new Ledger(dir, options);
  }

  /**
   * Queues one line; resolves once it has been handed to the OS. Rejects (and counts nothing) when the
   * entry is malformed, the ledger is closed, or the write fails; the ledger stays usable either way.
   * Totals include an entry once its line is written, so they always match what a replay would rebuild.
   */
  append(entry: LedgerEntry): Promise<void> {
    if (this.closing) return Promise.reject(new Error(`ledger is closed; request ${entry.id} was not recorded`));
    // Checked here so the ledger never writes a line its own replay would skip.
    const problem = ledgerEntryProblem(entry);
    if (problem) return Promise.reject(new Error(`invalid ledger entry ${String(entry?.id)}: ${problem}`));
    const month = monthOf(entry.time);
    if (!month) return Promise.reject(new Error(`invalid ledger entry ${entry.id}: time "${entry.time}" is not an ISO-8601 date`));
    const line = `${JSON.stringify(entry)}\n`;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ month, line, entry, resolve, reject });
      this.kick();
    });
  }

  /** Resolves when every append queued so far has been written or has failed (it never rejects). */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** Flushes, then closes the files; appends after this reject. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.flush();
      await this.checkpointer?.close();
      const files = [...this.files.values()];
      this.files.clear();
      await Promise.all(files.map((f) => this.closeFile(f)));
    })();
    return this.closing;
  }

  /**
   * Reads every month file oldest first and rebuilds `totals` from scratch. Invalid lines (a torn last
   * line, garbage) are skipped with a warning naming the file and line. Appends made meanwhile wait
   * and are written after it, so nothing is counted twice or missed. With `closed`, months before
   * `closed.before` come from their saved summaries (made on first sight) instead of line by line:
   * closed.onSummary receives one summary per closed month. With `open`, every other month is
   * restored from its checkpoint plus the lines after it (or parsed in full when it has no usable
   * checkpoint) and handed to open.onMonth as a whole; from then on the ledger keeps those
   * checkpoints fresh. onEntry sees every entry parsed line by line (with `open`, those are already in
   * the months handed over; without it, all entries of the months not summarised).
   */
  async replay(onEntry?: (e: LedgerEntry) => void, closed?: ClosedMonths, open?: OpenMonths): Promise<ReplaySummary> {
    while (this.replaying) await this.replaying;
    let release!: () => void;
    this.replaying = new Promise<void>((r) => (release = r));
    try {
      await this.writing;
      const started = performance.now();
      const summary: ReplaySummary = { files: 0, entries: 0, skipped: 0, ms: 0 };
      const names = await monthFileNames(this.dir);
      this.totals.clear();
      await this.checkpointer?.stop();
      this.checkpointer = open ? new Checkpointer(this.dir, open.store, this.warn, open.policy) : undefined;
      const skips = new LineSkips(this.warn);
      const isClosed = (name: string): boolean => closed !== undefined && name.slice(0, 7) < closed.before;
      if (closed) {
        for (const name of names.filter(isClosed)) {
          try {
            const month = await this.replayClosed(name, closed, skips, open?.store);
            summary.files += 1;
            summary.entries += month.entries;
            summary.skipped += month.skipped;
          } catch (err) {
            this.warn(`ledger ${join(this.dir, name)}: not counted (${errorText(err)})`);
          }
        }
      }
      const openNames = names.filter((n) => !isClosed(n));
      if (open) {
        summary.restored = 0;
        for (const name of openNames) {
          const month = await this.readMonth(name, skips, open.store, onEntry);
          summary.files += month.mark ? 1 : 0;
          summary.entries += month.tally.entries;
          summary.skipped += month.tally.skipped;
          if (month.restored) summary.restored += 1;
          this.totals.addMonth(month.tally);
          open.onMonth(month.tally);
          if (month.mark) this.checkpointer?.track(month.tally.month, month.tally, month.mark, month.dirty);
        }
      } else {
        const read = await readMonthFiles(this.dir, openNames, skips, (entry) => {
          this.totals.add(entry);
          onEntry?.(entry);
        });
        summary.files += read.files;
        summary.entries += read.entries;
        summary.skipped += read.skipped;
      }
      skips.finish();
      summary.ms = performance.now() - started;
      return summary;
    } finally {
      this.replaying = undefined;
      release();
    }
  }

  /** Writes the open months' checkpoints now (they are also written periodically and at close). */
  async checkpoint(): Promise<void> {
    await this.checkpointer?.save();
  }

  /** A closed month: from its saved summary, else parsed once and its summary saved for next time. */
  private async replayClosed(name: string, closed: ClosedMonths, skips: LineSkips, store?: CheckpointStore): Promise<MonthSummary> {
    const path = join(this.dir, name);
    const month = name.slice(0, 7);
    const size = (await stat(path)).size;
    let summary = await closed.load(month, size);
    if (!summary) {
      // A month that closed while the daemon ran still has its checkpoint: most of it need not be parsed.
      const read = await this.readMonth(name, skips, store);
      const { tally } = read;
      summary = { size: read.mark?.offset ?? size, entries: tally.entries, skipped: tally.skipped, buckets: [...tally.buckets()] };
      // A month that could not be read to its end is counted as far as it was read, but not summarised.
      if (read.mark) {
        try {
          await closed.save(month, summary);
          await store?.remove(month).catch(() => {}); // a leftover checkpoint of a closed month is never read
        } catch (err) {
          this.warn(`ledger ${path}: could not save its summary (${errorText(err)})`);
        }
      }
    }
    for (const b of summary.buckets) this.totals.addBucket(b);
    closed.onSummary(summary);
    return summary;
  }

  /**
   * One month file as a tally: its checkpoint (when it can be trusted) plus the lines after it, or
   * every line. `mark` is where reading ended (undefined when it stopped early on a read error).
   */
  private async readMonth(
    name: string,
    skips: LineSkips,
    store: CheckpointStore | undefined,
    onEntry?: (e: LedgerEntry) => void,
  ): Promise<{ tally: MonthTally; restored: boolean; mark?: FileMark; dirty: boolean }> {
    const path = join(this.dir, name);
    const month = name.slice(0, 7);
    const restored = store ? await this.restore(month, path, store) : undefined;
    const tally = restored?.tally ?? new MonthTally(month);
    const from = restored?.mark ?? { offset: 0, lines: 0 };
    const read = await readMonthFile(path, from, skips, (e) => {
      tally.add(e);
      onEntry?.(e);
    });
    tally.skipped += read.skipped;
    return { tally, restored: restored !== undefined, mark: read.end, dirty: (read.end?.offset ?? 0) > from.offset };
  }

  /** The month's checkpoint when it can be trusted; otherwise undefined, after one warning saying why. */
  private async restore(month: string, path: string, store: CheckpointStore): Promise<{ tally: MonthTally; mark: FileMark } | undefined> {
    let problem: string | undefined;
    try {
      const text = await store.load(month);
      if (text === undefined) return undefined; // none yet: a first start, or a new month
      const decoded = decodeCheckpoint(text, month);
      if ('problem' in decoded) {
        problem = decoded.problem;
      } else {
        const { checkpoint } = decoded;
        problem = checkpointMismatch(checkpoint, await probeFile(path, checkpoint.offset));
        if (!problem) return { tally: MonthTally.from(month, checkpoint), mark: { offset: checkpoint.offset, lines: checkpoint.lines } };
      }
    } catch (err) {
      problem = errorText(err);
    }
    this.warn(`ledger ${path}: checkpoint not used (${problem}); reading the whole month`);
    return undefined;
  }

  // One writer loop at a time. It takes everything queued so far as one batch, so appends that
  // arrive while a write is in flight are coalesced into the next single write.
  private kick(): void {
    if (this.draining) return;
    this.draining = (async () => {
      while (this.queue.length > 0) {
        // Wait for the end of this turn of the event loop, so every request that finished in it (under
        // load, dozens) joins one write, at the cost of microseconds.
        await new Promise<void>((resolve) => setImmediate(resolve));
        while (this.replaying) await this.replaying;
        const batch = this.queue;
        this.queue = [];
        this.writing = this.writeBatch(batch);
        await this.writing;
      }
    })().finally(() => {
      this.draining = undefined;
      if (this.queue.length > 0) this.kick(); // queued after the loop's last check
    });
  }

  /** Writes a batch in order, one write per run of same-month lines; never rejects. */
  private async writeBatch(batch: Pending[]): Promise<void> {
    for (let i = 0; i < batch.length; ) {
      let j = i + 1;
      while (j < batch.length && batch[j].month === batch[i].month) j++;
      await this.writeRun(batch.slice(i, j));
      i = j;
    }
  }

  private async writeRun(run: Pending[]): Promise<void> {
    const month = run[0].month;
    let file: MonthFile | undefined;
    let written = 0;
    let failure: Error | undefined;
    try {
      file = await this.fileFor(month);
      let text = file.prefix;
      for (const p of run) text += p.line;
      written = await this.write(file, Buffer.from(text, 'utf8'));
      this.checkpointer?.written(month, written, file.prefix.length + run.length, run.map((p) => p.entry));
      if (file.prefix) {
        file.prefix = '';
        this.warn(`repaired torn last line in ledger ${file.path} (it is skipped on replay; new entries start on a fresh line)`);
      }
    } catch (err) {
      written = (err as PartialWrite).written ?? 0;
      failure = new Error(`could not write to the ledger ${file?.path ?? join(this.dir, `${month}.jsonl`)}: ${errorText(err)}`, { cause: err });
      // Some bytes of this run reached the file: what it now ends with is not known exactly.
      if (written > 0) this.checkpointer?.failed(month);
      // The file may now end mid-line or the handle may be broken: drop it, so the next append reopens
      // it and repairs the tail before writing.
      if (file && this.files.get(month) === file) {
        this.files.delete(month);
        await this.closeFile(file);
      }
    }
    // After a write that failed part-way, the lines that did reach the file complete are recorded (a
    // replay will count them), so they resolve; only the rest reject.
    let end = file?.prefix.length ?? 0;
    for (const p of run) {
      end += failure ? Buffer.byteLength(p.line) : 0;
      if (failure && end > written) {
        p.reject(failure);
        continue;
      }
      this.totals.add(p.entry);
      p.resolve();
    }
  }

  /** Synchronously while the disk is fast (see the top of this file), else through the thread pool. */
  private async write(file: MonthFile, bytes: Buffer): Promise<number> {
    if (performance.now() < this.asyncWritesUntil) return writeAll(file.handle, bytes);
    const started = performance.now();
    try {
      return writeAllSync(this.writeSync, file.handle.fd, bytes);
    } finally {
      const ms = performance.now() - started;
      if (ms > SLOW_WRITE_MS) {
        this.asyncWritesUntil = performance.now() + SLOW_DISK_BACKOFF_MS;
        this.warn(`ledger ${file.path}: a write took ${Math.round(ms)} ms; writing through the thread pool for the next ${SLOW_DISK_BACKOFF_MS / 1000} s`);
      }
    }
  }

  private async fileFor(month: string): Promise<MonthFile> {
    const existing = this.files.get(month);
    if (existing) return existing;
    const path = join(this.dir, `${month}.jsonl`);
    // 'a+' rather than 'a': the same handle reads the last byte to detect a torn line.
    const handle = await open(path, 'a+', 0o600);
    let prefix = '';
    let size: number;
    try {
      size = (await handle.stat()).size;
      if (size > 0) {
        const { bytesRead, buffer } = await handle.read(Buffer.alloc(1), 0, 1, size - 1);
        if (bytesRead === 1 && buffer[0] !== 0x0a) prefix = '\n';
      }
    } catch (err) {
      await handle.close().catch(() => {});
      throw err;
    }
    const file: MonthFile = { path, handle, prefix };
    this.files.set(month, file);
    this.checkpointer?.opened(month, size);
    for (const [m, f] of this.files) {
      if (this.files.size <= MAX_OPEN_FILES) break;
      if (m === month) continue;
      this.files.delete(m);
      await this.closeFile(f);
    }
    return file;
  }

  private async closeFile(file: MonthFile): Promise<void> {
    try {
      await file.handle.close();
    } catch (err) {
      this.warn(`ledger ${file.path}: close failed (${errorText(err)})`);
    }
  }
}

/**
 * Reads the ledger without opening it for writing (the CLI, when no daemon runs): every entry of the
 * month files from `fromMonth` to `toMonth` ("YYYY-MM", inclusive, either may be open), oldest first.
 */
export async function readLedgerMonths(
  dataDir: string,
  range: { fromMonth?: string; toMonth?: string },
  onEntry: (e: LedgerEntry) => void,
  warn: (message: string) => void = () => {},
): Promise<ReplaySummary> {
  const started = performance.now();
  const dir = join(dataDir, 'ledger');
  const from = range.fromMonth ?? '';
  const to = range.toMonth ?? '9999-99';
  const names = (await monthFileNames(dir)).filter((n) => n.slice(0, 7) >= from && n.slice(0, 7) <= to);
  const skips = new LineSkips(warn);
  const read = await readMonthFiles(dir, names, skips, onEntry);
  skips.finish();
  return { ...read, ms: performance.now() - started };
}

/** The month files' names, oldest first (YYYY-MM sorts by time); none when the folder is missing. */
async function monthFileNames(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => FILE_NAME.test(n)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return [];
  }
}

/** Counts skipped lines across one replay; the first few are warned about one by one. */
class LineSkips {
  count = 0;

  constructor(readonly warn: (message: string) => void) {}

  skip(path: string, lineNo: number, why: string): void {
    this.count += 1;
    if (this.count <= MAX_LINE_WARNINGS) this.warn(`ledger ${path} line ${lineNo}: skipped (${why})`);
  }

  finish(): void {
    if (this.count > MAX_LINE_WARNINGS) {
      this.warn(`ledger: ${this.count - MAX_LINE_WARNINGS} more invalid lines skipped (only the first ${MAX_LINE_WARNINGS} are listed)`);
    }
  }
}

/** Parses month files in order; invalid lines are skipped with a warning, an error from onEntry is rethrown. */
async function readMonthFiles(
  dir: string,
  names: string[],
  skips: LineSkips,
  onEntry: (e: LedgerEntry) => void,
): Promise<Omit<ReplaySummary, 'ms'>> {
  const summary = { files: 0, entries: 0, skipped: 0 };
  for (const name of names) {
    const read = await readMonthFile(join(dir, name), { offset: 0, lines: 0 }, skips, onEntry);
    summary.files += read.end ? 1 : 0;
    summary.entries += read.entries;
    summary.skipped += read.skipped;
  }
  return summary;
}

/**
 * Parses one month file from `from` (a line end) to its end. `end` is where reading ended, undefined
 * when a read error stopped it early (what was read is counted; the rest is not, with a warning).
 */
async function readMonthFile(
  path: string,
  from: FileMark,
  skips: LineSkips,
  onEntry: (e: LedgerEntry) => void,
): Promise<{ entries: number; skipped: number; end?: FileMark }> {
  const skippedBefore = skips.count;
  let entries = 0;
  let callbackError: { error: unknown } | undefined; // the caller's, not a read failure
  let end: FileMark | undefined;
  const take = (entry: LedgerEntry): void => {
    entries += 1;
    try {
      onEntry(entry);
    } catch (error) {
      callbackError = { error };
      throw error;
    }
  };
  try {
    end = await readLines(path, from, (line, lineNo, last) => {
      const usual = parseLedgerLine(line);
      if (usual) {
        take(usual);
        return;
      }
      // Not in the shape the daemon writes: JSON.parse and the entry check decide, and say why not.
      if (line.charCodeAt(0) !== 0x7b /* { */ && line.trim() === '') return; // blank lines are harmless
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        skips.skip(path, lineNo, last ? 'torn last line: not complete JSON' : 'not valid JSON');
        return;
      }
      const problem = ledgerEntryProblem(value);
      if (problem) {
        skips.skip(path, lineNo, `not a ledger entry: ${problem}`);
        return;
      }
      take(value as LedgerEntry);
    }, (lineNo) => skips.skip(path, lineNo, `longer than ${MAX_LINE_BYTES} bytes`));
  } catch (err) {
    if (callbackError) throw callbackError.error;
    // An unreadable file must not stop the daemon; what could not be read is missing from the totals.
    skips.warn(`ledger ${path}: reading stopped, entries after that point are not counted (${errorText(err)})`);
  }
  return { entries, skipped: skips.count - skippedBefore, end };
}

/** The UTC month ("YYYY-MM") of an ISO-8601 time, or undefined when it is not a usable date. */
function monthOf(time: string): string | undefined {
  const ms = Date.parse(time);
  if (Number.isNaN(ms)) return undefined;
  const month = new Date(ms).toISOString().slice(0, 7);
  return /^\d{4}-\d{2}$/.test(month) ? month : undefined; // years beyond 9999 would make odd file names
}

interface PartialWrite extends Error {
  written?: number;
}

/** writeAll's synchronous twin, for the page-cache appends of the fast path. */
function writeAllSync(write: NonNullable<LedgerOptions['writeSync']>, fd: number, buf: Buffer): number {
  let offset = 0;
  try {
    while (offset < buf.length) {
      const n = write(fd, buf, offset, buf.length - offset);
      if (n <= 0) throw new Error('write made no progress');
      offset += n;
    }
  } catch (err) {
    const partial: PartialWrite = err instanceof Error ? err : new Error(String(err));
    partial.written = offset;
    throw partial;
  }
  return offset;
}

/** Writes the whole buffer (looping over short writes); returns its length, or throws with `written`. */
async function writeAll(handle: FileHandle, buf: Buffer): Promise<number> {
  let offset = 0;
  try {
    while (offset < buf.length) {
      const { bytesWritten } = await handle.write(buf, offset, buf.length - offset);
      if (bytesWritten <= 0) throw new Error('write made no progress');
      offset += bytesWritten;
    }
  } catch (err) {
    const partial: PartialWrite = err instanceof Error ? err : new Error(String(err));
    partial.written = offset;
    throw partial;
  }
  return offset;
}

/**
 * Reads a file from `from` (a line end) in chunks and calls `onLine` for each line (1-based numbers
 * over the whole file); `last` is true for a final line with no '\n'. Lines are split on the byte 0x0A
 * (never part of a multi-byte UTF-8 character), and whole lines are decoded together, so a character
 * is never split. Never holds more than two chunks plus one line in memory. Returns the end: bytes
 * read in all, and the line ends among them.
 */
async function readLines(
  path: string,
  from: FileMark,
  onLine: (line: string, lineNo: number, last: boolean) => void,
  onTooLong: (lineNo: number) => void,
): Promise<FileMark> {
  const handle = await open(path, 'r');
  // Two buffers: the next chunk is read (on libuv's thread pool) while this one is parsed.
  const buffers = [Buffer.allocUnsafe(READ_CHUNK), Buffer.allocUnsafe(READ_CHUNK)];
  let offset = from.offset;
  let reading = handle.read(buffers[0], 0, READ_CHUNK, offset);
  let spare = 1;
  try {
    let lineNo = from.lines;
    // The line begun in earlier chunks (copies), or `discarding` inside an over-long one until its '\n'.
    let carry: Buffer[] = [];
    let carried = 0;
    let discarding = false;
    for (;;) {
      const { bytesRead, buffer } = await reading;
      if (bytesRead === 0) break;
      offset += bytesRead;
      reading = handle.read(buffers[spare], 0, READ_CHUNK, offset);
      spare ^= 1;
      const chunk = buffer.subarray(0, bytesRead);
      let start = 0; // of the first line that starts in this chunk
      if (carried > 0 || discarding) {
        const end = chunk.indexOf(0x0a);
        if (end === -1) {
          if (!discarding) carry.push(Buffer.from(chunk));
          carried += bytesRead;
          start = bytesRead;
        } else {
          lineNo += 1;
          if (!discarding && carried + end > MAX_LINE_BYTES) onTooLong(lineNo);
          else if (!discarding) onLine(decode(Buffer.concat([...carry, chunk.subarray(0, end)])), lineNo, false);
          carry = [];
          carried = 0;
          discarding = false;
          start = end + 1;
        }
      }
      const lastEnd = chunk.lastIndexOf(0x0a);
      while (start <= lastEnd) {
        // Decoded a few lines at a time: strings this small are made in V8's young generation, where
        // they are cheap to make and to collect (a 1 MiB one is a large object).
        let end = start + DECODE_BYTES >= lastEnd ? lastEnd : chunk.lastIndexOf(0x0a, start + DECODE_BYTES);
        if (end < start) end = chunk.indexOf(0x0a, start + DECODE_BYTES); // one line longer than that
        const text = decode(chunk.subarray(start, end + 1));
        for (let s = 0, nl = text.indexOf('\n'); nl !== -1; s = nl + 1, nl = text.indexOf('\n', s)) {
          lineNo += 1;
          onLine(text.slice(s, nl), lineNo, false);
        }
        start = end + 1;
      }
      if (start < bytesRead) {
        carry.push(Buffer.from(chunk.subarray(start)));
        carried += bytesRead - start;
      }
      if (!discarding && carried > MAX_LINE_BYTES) {
        onTooLong(lineNo + 1);
        carry = [];
        discarding = true;
      }
    }
    if (carried > 0 && !discarding) onLine(decode(Buffer.concat(carry)), lineNo + 1, true);
    return { offset, lines: lineNo };
  } finally {
    await reading.catch(() => {}); // still under way when onLine threw
    await handle.close();
  }
}

/** UTF-8 text (invalid bytes become U+FFFD); ASCII, the usual case, is copied without decoding. */
function decode(bytes: Buffer): string {
  return isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
