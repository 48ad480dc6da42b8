// The request ledger: one JSON line per finished request, appended to <dataDir>/ledger/YYYY-MM.jsonl
// (the UTC month of entry.time), replayed at start-up to rebuild the totals.
//
// Durability: append() resolves once write(2) has returned, and the daemon awaits it before a
// response's last byte. There is deliberately no fsync: data handed to the kernel survives a crash of
// this process (it sits in the page cache), and an fsync per request would cost milliseconds on the hot
// path. What a power loss or kernel crash can lose is the last few seconds, at worst as a torn last
// line, which replay skips and the next append repairs.
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { LedgerEntry } from '../../shared/ledger';
import { Aggregates } from './aggregates';
import type { ClosedMonths, MonthSummary } from './month-summaries';
import { SpendIndex } from './spend-index';

export interface LedgerOptions {
  /** Skipped lines, repaired files, unreadable files. Default: nothing. */
  warn?: (message: string) => void;
}

export interface ReplaySummary {
  files: number;
  entries: number;
  skipped: number;
  ms: number;
}

const FILE_NAME = /^\d{4}-\d{2}\.jsonl$/;
/** Individual warnings per replay; the rest are counted in one closing warning. */
const MAX_LINE_WARNINGS = 10;
/** A "line" longer than this is garbage (entries are a few hundred bytes); it is skipped, not buffered. */
const MAX_LINE_CHARS = 1 << 20;
/** Month files kept open: the current one and the one before (a late entry from around midnight). */
const MAX_OPEN_FILES = 2;

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

  private constructor(readonly dir: string, options: LedgerOptions) {
    this.warn = options.warn ?? (() => {});
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
   * onEntry sees only the open months' entries, closed.onSummary one summary per closed month.
   */
  async replay(onEntry?: (e: LedgerEntry) => void, closed?: ClosedMonths): Promise<ReplaySummary> {
    while (this.replaying) await this.replaying;
    let release!: () => void;
    this.replaying = new Promise<void>((r) => (release = r));
    try {
      await this.writing;
      const started = performance.now();
      const summary: ReplaySummary = { files: 0, entries: 0, skipped: 0, ms: 0 };
      const names = await monthFileNames(this.dir);
      this.totals.clear();
      const open = closed ? names.filter((n) => n.slice(0, 7) >= closed.before) : names;
      if (closed) {
        for (const name of names.filter((n) => n.slice(0, 7) < closed.before)) {
          try {
            const month = await this.replayClosed(name, closed);
            summary.files += 1;
            summary.entries += month.entries;
            summary.skipped += month.skipped;
          } catch (err) {
            this.warn(`ledger ${join(this.dir, name)}: not counted (${errorText(err)})`);
          }
        }
      }
      const read = await readMonthFiles(this.dir, open, this.warn, (entry) => {
        this.totals.add(entry);
        onEntry?.(entry);
      });
      summary.files += read.files;
      summary.entries += read.entries;
      summary.skipped += read.skipped;
      summary.ms = performance.now() - started;
      return summary;
    } finally {
      this.replaying = undefined;
      release();
    }
  }

  /** A closed month: from its saved summary, else parsed once and its summary saved for next time. */
  private async replayClosed(name: string, closed: ClosedMonths): Promise<MonthSummary> {
    const path = join(this.dir, name);
    const month = name.slice(0, 7);
    const size = (await stat(path)).size;
    let summary = await closed.load(month, size);
    if (!summary) {
      const index = new SpendIndex();
      const read = await readMonthFiles(this.dir, [name], this.warn, (e) => index.add(e));
      summary = { size, entries: read.entries, skipped: read.skipped, buckets: [...index.all()] };
      await closed.save(month, summary).catch((err: unknown) => this.warn(`ledger ${path}: could not save its summary (${errorText(err)})`));
    }
    for (const b of summary.buckets) this.totals.addBucket(b);
    closed.onSummary(summary);
    return summary;
  }

  // One writer loop at a time. It takes everything queued so far as one batch, so appends that
  // arrive while a write is in flight are coalesced into the next single write.
  private kick(): void {
    if (this.draining) return;
    this.draining = (async () => {
      while (this.queue.length > 0) {
        await null; // yield once, so appends made in the same tick join this batch
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
      written = await writeAll(file.handle, Buffer.from(text, 'utf8'));
      if (file.prefix) {
        file.prefix = '';
        this.warn(`repaired torn last line in ledger ${file.path} (it is skipped on replay; new entries start on a fresh line)`);
      }
    } catch (err) {
      written = (err as PartialWrite).written ?? 0;
      failure = new Error(`could not write to the ledger ${file?.path ?? join(this.dir, `${month}.jsonl`)}: ${errorText(err)}`, { cause: err });
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

  private async fileFor(month: string): Promise<MonthFile> {
    const existing = this.files.get(month);
    if (existing) return existing;
    const path = join(this.dir, `${month}.jsonl`);
    // 'a+' rather than 'a': the same handle reads the last byte to detect a torn line.
    const handle = await open(path, 'a+', 0o600);
    let prefix = '';
    try {
      const { size } = await handle.stat();
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
  const read = await readMonthFiles(dir, names, warn, onEntry);
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

/** Parses month files in order; invalid lines are skipped with a warning, an error from onEntry is rethrown. */
async function readMonthFiles(
  dir: string,
  names: string[],
  warn: (message: string) => void,
  onEntry: (e: LedgerEntry) => void,
): Promise<Omit<ReplaySummary, 'ms'>> {
  const summary = { files: 0, entries: 0, skipped: 0 };
  const skip = (path: string, lineNo: number, why: string): void => {
    summary.skipped += 1;
    if (summary.skipped <= MAX_LINE_WARNINGS) warn(`ledger ${path} line ${lineNo}: skipped (${why})`);
  };
  let callbackError: { error: unknown } | undefined; // the caller's, not a read failure
  for (const name of names) {
    const path = join(dir, name);
    try {
      await readLines(path, (line, lineNo, last) => {
        if (line.charCodeAt(0) !== 0x7b /* { */ && line.trim() === '') return; // blank lines are harmless
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          skip(path, lineNo, last ? 'torn last line: not complete JSON' : 'not valid JSON');
          return;
        }
        const problem = ledgerEntryProblem(value);
        if (problem) {
          skip(path, lineNo, `not a ledger entry: ${problem}`);
          return;
        }
        summary.entries += 1;
        try {
          onEntry(value as LedgerEntry);
        } catch (error) {
          callbackError = { error };
          throw error;
        }
      }, (lineNo) => skip(path, lineNo, `longer than ${MAX_LINE_CHARS} characters`));
      summary.files += 1;
    } catch (err) {
      if (callbackError) throw callbackError.error;
      // An unreadable file must not stop the daemon; what could not be read is missing from the totals.
      warn(`ledger ${path}: reading stopped, entries after that point are not counted (${errorText(err)})`);
    }
  }
  if (summary.skipped > MAX_LINE_WARNINGS) {
    warn(`ledger: ${summary.skipped - MAX_LINE_WARNINGS} more invalid lines skipped (only the first ${MAX_LINE_WARNINGS} are listed)`);
  }
  return summary;
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
 * Streams a file in chunks and calls `onLine` for each line (1-based numbers); `last` is true for a
 * final line with no '\n'. Never holds more than one chunk plus one line in memory.
 */
async function readLines(
  path: string,
  onLine: (line: string, lineNo: number, last: boolean) => void,
  onTooLong: (lineNo: number) => void,
): Promise<void> {
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
  let rest = '';
  let lineNo = 0;
  let discarding = false; // inside an over-long line, until its '\n'
  for await (const chunk of stream as AsyncIterable<string>) {
    let start = 0;
    let nl = chunk.indexOf('\n');
    if (nl !== -1) {
      lineNo += 1;
      if (discarding) discarding = false;
      else onLine(rest + chunk.slice(0, nl), lineNo, false);
      rest = '';
      start = nl + 1;
      while ((nl = chunk.indexOf('\n', start)) !== -1) {
        lineNo += 1;
        onLine(chunk.slice(start, nl), lineNo, false);
        start = nl + 1;
      }
    }
    if (discarding) continue;
    rest += start === 0 ? chunk : chunk.slice(start);
    if (rest.length > MAX_LINE_CHARS) {
      onTooLong(lineNo + 1);
      rest = '';
      discarding = true;
    }
  }
  if (rest !== '' && !discarding) onLine(rest, lineNo + 1, true);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---------------------------------------------------------------------------------------------------
// Validation. LedgerEntrySchema (shared/ledger.ts) is the contract; this hand-written check accepts
// exactly what it accepts (a unit test compares the two field by field), because replaying a million
// lines through zod costs more than the whole start-up budget. Unknown fields are kept, not rejected,
// so a ledger written by a newer daemon still replays.

/** Why `value` is not a valid LedgerEntry (naming the field), or undefined when it is one. */
// Plain property reads on purpose: a table of field names read with e[field] is several times slower.
export function ledgerEntryProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const e = value as Record<string, unknown>;
  if (typeof e.id !== 'string') return wrong('id', e.id, STRING);
  if (typeof e.time !== 'string') return wrong('time', e.time, STRING);
  if (typeof e.requestedModel !== 'string') return wrong('requestedModel', e.requestedModel, STRING);
  if (e.model !== null && typeof e.model !== 'string') return wrong('model', e.model, STRING_OR_NULL);
  if (e.servedModel !== null && typeof e.servedModel !== 'string') return wrong('servedModel', e.servedModel, STRING_OR_NULL);
  if (e.deployment !== null && typeof e.deployment !== 'string') return wrong('deployment', e.deployment, STRING_OR_NULL);
  if (e.provider !== null && typeof e.provider !== 'string') return wrong('provider', e.provider, STRING_OR_NULL);
  if (!isCount(e.attempts)) return wrong('attempts', e.attempts, COUNT);
  if (!Number.isSafeInteger(e.status)) return wrong('status', e.status, 'an integer');
  if (typeof e.ok !== 'boolean') return wrong('ok', e.ok, BOOLEAN);
  if (e.error !== undefined && typeof e.error !== 'string') return wrong('error', e.error, STRING);
  if (typeof e.stream !== 'boolean') return wrong('stream', e.stream, BOOLEAN);
  if (!isCount(e.promptTokens)) return wrong('promptTokens', e.promptTokens, COUNT);
  if (!isCount(e.completionTokens)) return wrong('completionTokens', e.completionTokens, COUNT);
  if (e.cachedTokens !== undefined && !isCount(e.cachedTokens)) return wrong('cachedTokens', e.cachedTokens, COUNT);
  if (e.reasoningTokens !== undefined && !isCount(e.reasoningTokens)) return wrong('reasoningTokens', e.reasoningTokens, COUNT);
  if (e.usageSource !== 'upstream' && e.usageSource !== 'estimated' && e.usageSource !== 'none') {
    return wrong('usageSource', e.usageSource, '"upstream", "estimated" or "none"');
  }
  if (!isAmount(e.costUsd)) return wrong('costUsd', e.costUsd, AMOUNT);
  if (!isAmount(e.latencyMs)) return wrong('latencyMs', e.latencyMs, AMOUNT);
  if (e.ttftMs !== undefined && !isAmount(e.ttftMs)) return wrong('ttftMs', e.ttftMs, AMOUNT);
  if (e.sandbox !== undefined && typeof e.sandbox !== 'boolean') return wrong('sandbox', e.sandbox, BOOLEAN);
  if (e.key !== undefined && typeof e.key !== 'string') return wrong('key', e.key, STRING);
  return undefined;
}

const STRING = 'a string';
const STRING_OR_NULL = 'a string or null';
const BOOLEAN = 'a boolean';
const COUNT = 'a non-negative integer';
const AMOUNT = 'a non-negative number';

function isCount(v: unknown): boolean {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

function isAmount(v: unknown): boolean {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

function wrong(field: string, v: unknown, expected: string): string {
  return v === undefined ? `${field} is missing` : `${field} must be ${expected}`;
}
