// The request ledger: one JSON line per finished request, appended to <dataDir>/ledger/YYYY-MM.jsonl
// (the UTC month of entry.time), replayed at start-up: what the replay hands over rebuilds spend,
// budgets and the extension's history (start.ts).
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
//
// When the disk refuses (full, read-only, gone): a finished request's line is never dropped and never
// fails the request. Lines that cannot be written wait in memory, in order, bounded by MAX_WAITING;
// the ledger reports itself failing (health(), onStateChange) and tries again every RETRY_MS. The first
// write that succeeds repairs a torn tail as usual and writes the waiting lines in order. At close,
// lines still waiting go to a fallback file that the next start takes back (ledger-fallback.ts).
import { writeSync } from 'node:fs';
import { mkdir, open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { LedgerEntry, LedgerHealth } from '../../shared/ledger';
import { checkpointMismatch, decodeCheckpoint, type FileMark } from './checkpoint';
import { Checkpointer, probeFile, type CheckpointStore, type OpenMonths } from './checkpoints';
import { fallbackPaths, readFallback, removeFallback, saveFallback } from './ledger-fallback';
import { ledgerEntryProblem } from './ledger-entry';
import { errorText, LineSkips, readMonthFile } from './ledger-read';
import type { ClosedMonths, MonthSummary } from './month-summaries';
import { MonthTally } from './month-tally';
import { DEFAULT_WORKER_BYTES, ReplaySplit, type ReadRange } from './replay-split';

export { ledgerEntryProblem };

export interface LedgerOptions {
  /** Skipped lines, repaired files, unreadable files, lines saved to or taken back from a fallback file. Default: nothing. */
  warn?: (message: string) => void;
  /** How long after a failed write the waiting lines are tried again. Default RETRY_MS. */
  retryMs?: number;
  /** Most lines that wait while writes fail; more are dropped (and counted). Default MAX_WAITING. */
  maxWaiting?: number;
  /** The synchronous write(2) of the fast path (tests stand in a short or failing one). Default: fs.writeSync. */
  writeSync?: (fd: number, buffer: Buffer, offset: number, length: number) => number;
  /**
   * A cold replay (see replay-split.ts) with more than `minBytes` to parse line by line (default 16 MiB)
   * reads the later part on a worker thread; `script` stands in another worker (tests: a broken one).
   */
  replayWorker?: { minBytes?: number; script?: string };
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
/** Month files kept open: the current one and the one before (a late entry from around midnight). */
const MAX_OPEN_FILES = 2;
/** A synchronous write slower than this means a slow disk: writes go through the thread pool... */
const SLOW_WRITE_MS = 5;
/** ...for this long before synchronous writes are tried again. */
const SLOW_DISK_BACKOFF_MS = 60_000;
/** While writes fail, the waiting lines are tried again this often. */
const RETRY_MS = 1_000;
/** Lines kept waiting while writes fail (about 40 MB of lines and their entries); beyond, new ones are dropped. */
const MAX_WAITING = 100_000;
/** Most lines one write takes: a long wait queue is written in steps, not in one long blocking call. */
const MAX_BATCH_LINES = 5_000;

interface Pending {
  month: string;
  line: string;
  entry: LedgerEntry;
  /** Called once the line is written or waits for the disk (then the request need not wait). */
  resolve?: () => void;
}

/**
 * What replay learns about a month file it reads through readMonth before reading any line of it, so
 * that the lines to parse are known up front and can be split between two threads.
 */
interface MonthStart {
  name: string;
  path: string;
  month: string;
  /** Bytes when looked at (closed months, and open ones when the replay may split). */
  size?: number;
  /** A closed month's saved summary, when there is one for this size. */
  summary?: MonthSummary;
  /** A closed month whose file could not be looked at: it is not counted. */
  failure?: { error: unknown };
  /** The month's checkpoint, when there is one and it can be trusted. */
  restored?: { tally: MonthTally; mark: FileMark };
  /** Why its checkpoint is not used (warned when the month is read). */
  restoreProblem?: string;
}

interface MonthFile {
  path: string;
  handle: FileHandle;
  /** '\n' when the file ended in a torn line: written in front of the next batch. */
  prefix: string;
}

export class Ledger {
  private readonly warn: (message: string) => void;
  private readonly files = new Map<string, MonthFile>();
  /** Lines not yet written, in order: this turn's, and while writes fail, all that wait. */
  private queue: Pending[] = [];
  private draining: Promise<void> | undefined;
  /** The batch being written right now; never rejects. */
  private writing: Promise<unknown> = Promise.resolve();
  /** Whether writes fail (and since when, and why); `dropped` counts lines given up since then. */
  private failure: { since: string; error: string; dropped: number } | undefined;
  /** Set while writes wait for the next retry. */
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly stateListeners = new Set<(health: LedgerHealth) => void>();
  /** How many lines waited when listeners were last told. */
  private toldWaiting = 0;
  private readonly retryMs: number;
  private readonly maxWaiting: number;
  /** Set while replay() reads the files; the writer waits for it. */
  private replaying: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  /** Keeps the open months' checkpoints fresh; set by a replay with `open`. */
  private checkpointer: Checkpointer | undefined;
  /** performance.now() until which writes go through the thread pool (after a slow synchronous one). */
  private asyncWritesUntil = 0;

  private readonly writeSync: NonNullable<LedgerOptions['writeSync']>;
  private readonly replayWorker: { minBytes: number; script?: string };

  private constructor(readonly dir: string, options: LedgerOptions) {
    this.warn = options.warn ?? (() => {});
    this.writeSync = options.writeSync ?? writeSync;
    this.replayWorker = { minBytes: options.replayWorker?.minBytes ?? DEFAULT_WORKER_BYTES, script: options.replayWorker?.script };
    this.retryMs = options.retryMs ?? RETRY_MS;
    this.maxWaiting = options.maxWaiting ?? MAX_WAITING;
  }

  /**
   * Creates <dataDir>/ledger (owner-only) if missing, and takes back the lines an earlier run saved to
   * a fallback file because it could not write them. Files are opened lazily by the first append.
   */
  static async open(dataDir: string, options: LedgerOptions = {}): Promise<Ledger> {
    const dir = join(dataDir, 'ledger');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const ledger = new Ledger(dir, options);
    await ledger.takeBack();
    return ledger;
  }

  /** Whether lines reach the disk, and how many wait. */
  health(): LedgerHealth {
    const f = this.failure;
    if (!f) return { state: 'ok', waiting: this.queue.length };
    return { state: 'failing', since: f.since, waiting: this.queue.length, ...(f.dropped > 0 ? { dropped: f.dropped } : {}), lastError: f.error };
  }

  /**
   * Calls `listener` when writes start or stop failing, when lines are first dropped, and while
   * failing after a failed retry when the number of waiting lines changed (at most once a retry).
   */
  onStateChange(listener: (health: LedgerHealth) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /**
   * Queues one line; resolves once it has been handed to the OS, or, when writes fail, once it waits
   * to be written later (see the top of this file). Rejects only when the entry is malformed or the
   * ledger is closed; the ledger stays usable either way.
   */
  append(entry: LedgerEntry): Promise<void> {
    if (this.closing) return Promise.reject(new Error(`ledger is closed; request ${entry.id} was not recorded`));
    // Checked here so the ledger never writes a line its own replay would skip.
    const problem = ledgerEntryProblem(entry);
    if (problem) return Promise.reject(new Error(`invalid ledger entry ${String(entry?.id)}: ${problem}`));
    const month = monthOf(entry.time);
    if (!month) return Promise.reject(new Error(`invalid ledger entry ${entry.id}: time "${entry.time}" is not an ISO-8601 date`));
    const line = `${JSON.stringify(entry)}\n`;
    if (this.failure) {
      // The disk refuses: the line waits behind the others, and the request need not.
      if (this.queue.length >= this.maxWaiting) this.drop();
      else this.queue.push({ month, line, entry });
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.queue.push({ month, line, entry, resolve });
      this.kick();
    });
  }

  /** Resolves when every append queued so far has been written or waits for the disk (it never rejects). */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /**
   * Flushes, then closes the files; appends after this reject. Lines still waiting for the disk get
   * one more try, then go to a fallback file that the next start takes back (or, failing that, to
   * stderr); the warning says how many and where.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.retryTimer) {
        clearTimeout(this.retryTimer);
        this.retryTimer = undefined;
        this.kick();
      }
      await this.flush();
      if (this.queue.length > 0) await this.saveWaiting();
      await this.checkpointer?.close();
      const files = [...this.files.values()];
      this.files.clear();
      await Promise.all(files.map((f) => this.closeFile(f)));
    })();
    return this.closing;
  }

  /**
   * Reads every month file oldest first, handing over what it finds (below). Invalid lines (a torn last
   * line, garbage) are skipped with a warning naming the file and line. Appends made meanwhile wait
   * and are written after it, so nothing is counted twice or missed. With `closed`, months before
   * `closed.before` come from their saved summaries (made on first sight) instead of line by line:
   * closed.onSummary receives one summary per closed month. With `open`, every other month is
   * restored from its checkpoint plus the lines after it (or parsed in full when it has no usable
   * checkpoint) and handed to open.onMonth as a whole; from then on the ledger keeps those
   * checkpoints fresh. onEntry sees every entry parsed line by line (with `open`, those are already in
   * the months handed over; without it, all entries of the months not summarised). With `open` and no
   * onEntry, a replay with many lines to parse (a first start on a big ledger) reads the later half of
   * them on a worker thread at the same time, with the same result (replay-split.ts).
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
      await this.checkpointer?.stop();
      this.checkpointer = open ? new Checkpointer(this.dir, open.store, this.warn, open.policy) : undefined;
      const skips = new LineSkips(this.warn);
      const isClosed = (name: string): boolean => closed !== undefined && name.slice(0, 7) < closed.before;
      const openNames = names.filter((n) => !isClosed(n));
      // Split between two threads only when no entry has to be handed to onEntry (on this thread).
      const splittable = open !== undefined && onEntry === undefined;
      const starts = {
        closed: closed ? await this.monthStarts(names.filter(isClosed), closed, open?.store) : [],
        open: open ? await this.monthStarts(openNames, undefined, open.store, splittable) : [],
      };
      const split = splittable ? await ReplaySplit.start(readRanges([...starts.closed, ...starts.open]), { ...this.replayWorker, warn: this.warn }) : undefined;
      try {
        if (closed) {
          for (const start of starts.closed) {
            try {
              const month = await this.replayClosed(start, closed, skips, open?.store, split);
              summary.files += 1;
              summary.entries += month.entries;
              summary.skipped += month.skipped;
            } catch (err) {
              this.warn(`ledger ${start.path}: not counted (${errorText(err)})`);
            }
          }
        }
        if (open) {
          summary.restored = 0;
          for (const start of starts.open) {
            const month = await this.readMonth(start, skips, onEntry, split);
            summary.files += month.mark ? 1 : 0;
            summary.entries += month.tally.entries;
            summary.skipped += month.tally.skipped;
            if (month.restored) summary.restored += 1;
            open.onMonth(month.tally);
            if (month.mark) this.checkpointer?.track(month.tally.month, month.tally, month.mark, month.dirty);
          }
        } else {
          const read = await readMonthFiles(this.dir, openNames, skips, (entry) => onEntry?.(entry));
          summary.files += read.files;
          summary.entries += read.entries;
          summary.skipped += read.skipped;
        }
      } finally {
        split?.close();
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

  /**
   * Looks at month files before any is read: their sizes (closed months, and open ones with `sized`),
   * closed months' summaries (with `closed`: these are closed months), and the checkpoints in `store`
   * of the months that will be read line by line.
   */
  private async monthStarts(names: string[], closed: ClosedMonths | undefined, store: CheckpointStore | undefined, sized = false): Promise<MonthStart[]> {
    const starts: MonthStart[] = [];
    for (const name of names) {
      const start: MonthStart = { name, path: join(this.dir, name), month: name.slice(0, 7) };
      starts.push(start);
      if (closed) {
        try {
          start.size = (await stat(start.path)).size;
          start.summary = await closed.load(start.month, start.size);
        } catch (error) {
          start.failure = { error };
        }
        if (start.summary || start.failure) continue;
      } else if (sized) {
        start.size = await stat(start.path).then((s) => s.size, () => undefined); // reading it says what is wrong
      }
      if (store) Object.assign(start, await this.restore(start.month, start.path, store));
    }
    return starts;
  }

  /** A closed month: from its saved summary, else parsed once and its summary saved for next time. */
  private async replayClosed(start: MonthStart, closed: ClosedMonths, skips: LineSkips, store?: CheckpointStore, split?: ReplaySplit): Promise<MonthSummary> {
    if (start.failure) throw start.failure.error;
    const { path, month } = start;
    let summary = start.summary;
    if (!summary) {
      // A month that closed while the daemon ran still has its checkpoint: most of it need not be parsed.
      const read = await this.readMonth(start, skips, undefined, split);
      const { tally } = read;
      summary = { size: read.mark?.offset ?? start.size ?? 0, entries: tally.entries, skipped: tally.skipped, buckets: [...tally.buckets()] };
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
    closed.onSummary(summary);
    return summary;
  }

  /**
   * One month file as a tally: its checkpoint (when it can be trusted) plus the lines after it, or
   * every line. With a split, the lines from split.until on were read by the worker and are merged in.
   * `mark` is where reading ended (undefined when it stopped early on a read error).
   */
  private async readMonth(
    start: MonthStart,
    skips: LineSkips,
    onEntry?: (e: LedgerEntry) => void,
    split?: ReplaySplit,
  ): Promise<{ tally: MonthTally; restored: boolean; mark?: FileMark; dirty: boolean }> {
    const { path, month, restored } = start;
    if (start.restoreProblem !== undefined) this.warn(`ledger ${path}: checkpoint not used (${start.restoreProblem}); reading the whole month`);
    const tally = restored?.tally ?? new MonthTally(month);
    const from = restored?.mark ?? { offset: 0, lines: 0 };
    const until = split?.until(path);
    // A file the worker reads from where this thread would start is not opened here at all.
    const read = until === from.offset
      ? { skipped: 0, end: from }
      : await readMonthFile(path, from, skips, (e) => {
        tally.add(e);
        onEntry?.(e);
      }, until);
    tally.skipped += read.skipped;
    // After a read error here, the single-thread replay would have stopped: the worker's part is dropped.
    const end = until !== undefined && read.end ? await split?.finish(path, tally, read.end, skips) : read.end;
    return { tally, restored: restored !== undefined, mark: end, dirty: (end?.offset ?? 0) > from.offset };
  }

  /** The month's checkpoint when it can be trusted; otherwise why not (nothing when there is none). */
  private async restore(month: string, path: string, store: CheckpointStore): Promise<Pick<MonthStart, 'restored' | 'restoreProblem'>> {
    let problem: string | undefined;
    try {
      const text = await store.load(month);
      if (text === undefined) return {}; // none yet: a first start, or a new month
      const decoded = decodeCheckpoint(text, month);
      if ('problem' in decoded) {
        problem = decoded.problem;
      } else {
        const { checkpoint } = decoded;
        problem = checkpointMismatch(checkpoint, await probeFile(path, checkpoint.offset));
        if (!problem) return { restored: { tally: MonthTally.from(month, checkpoint), mark: { offset: checkpoint.offset, lines: checkpoint.lines } } };
      }
    } catch (err) {
      problem = errorText(err);
    }
    return { restoreProblem: problem };
  }

  // One writer loop at a time. It takes everything queued so far as one batch, so appends that
  // arrive while a write is in flight are coalesced into the next single write. After a failed write
  // it stops; the retry timer starts it again.
  private kick(): void {
    if (this.draining || this.retryTimer) return;
    this.draining = (async () => {
      while (this.queue.length > 0) {
        // Wait for the end of this turn of the event loop, so every request that finished in it (under
        // load, dozens) joins one write, at the cost of microseconds.
        await new Promise<void>((resolve) => setImmediate(resolve));
        while (this.replaying) await this.replaying;
        const batch = this.queue.slice(0, MAX_BATCH_LINES);
        const writing = this.writeBatch(batch);
        this.writing = writing;
        const { lines, error } = await writing;
        // Only appends (at the end) change the queue meanwhile: the batch is still its front.
        this.queue.splice(0, lines);
        if (error) {
          this.failed(error);
          return;
        }
        if (this.failure && this.queue.length === 0) this.recovered();
      }
    })().finally(() => {
      this.draining = undefined;
      // Queued after the loop's last check (while writes fail, the retry timer or close() starts it).
      if (this.queue.length > 0 && !this.failure) this.kick();
    });
  }

  /** A write failed: what is not written waits (its requests go on), and a retry is due. */
  private failed(err: Error): void {
    for (const p of this.queue) {
      p.resolve?.();
      p.resolve = undefined;
    }
    const error = errorText(err.cause ?? err);
    const first = this.failure === undefined;
    this.failure ??= { since: new Date().toISOString(), error, dropped: 0 };
    const changedError = this.failure.error !== error;
    this.failure.error = error;
    if (!this.closing) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.kick();
      }, this.retryMs);
      this.retryTimer.unref();
    }
    // Listeners hear of the start, of another error, and of how many wait, at most once a retry.
    if (first || changedError || this.queue.length !== this.toldWaiting) this.changed();
  }

  private recovered(): void {
    this.failure = undefined;
    this.changed();
  }

  /** The wait queue is full: this line is given up, counted in health() (listeners hear of the first). */
  private drop(): void {
    const f = this.failure;
    if (!f) return;
    f.dropped += 1;
    if (f.dropped === 1) this.changed();
  }

  private changed(): void {
    const health = this.health();
    this.toldWaiting = health.waiting;
    for (const listener of this.stateListeners) {
      try {
        listener(health);
      } catch (err) {
        this.warn(`ledger: a state listener failed (${errorText(err)})`);
      }
    }
  }

  /** At close: the lines that could not be written go where the next start finds them. */
  private async saveWaiting(): Promise<void> {
    const text = this.queue.map((p) => p.line).join('');
    const n = this.queue.length;
    this.queue = [];
    const saved = await saveFallback(this.dir, text);
    if ('path' in saved) {
      this.warn(`ledger: ${n} line(s) could not be written to ${this.dir} (${this.failure?.error ?? 'unknown error'}); saved to ${saved.path}; the next start takes them back into the ledger`);
      return;
    }
    process.stderr.write(text);
    this.warn(`ledger: ${n} line(s) could not be written to ${this.dir} nor to a fallback file (${saved.error}); they were written to stderr, one JSON line each`);
  }

  /**
   * At open: lines an earlier run saved to a fallback file are appended to the ledger, leaving out any
   * the month files already hold (by request id); the files are removed once the lines are written.
   */
  private async takeBack(): Promise<void> {
    let found;
    try {
      found = await readFallback(this.dir);
    } catch (err) {
      this.warn(`ledger: could not read a fallback file (${errorText(err)}); looked at ${fallbackPaths(this.dir).join(' and ')}`);
      return;
    }
    if (found.paths.length === 0) return;
    const ids = new Set(found.entries.map((e) => e.id));
    const months = new Set(found.entries.map((e) => monthOf(e.time)));
    const present = new Set<string>();
    for (const name of await monthFileNames(this.dir)) {
      if (!months.has(name.slice(0, 7))) continue;
      await readMonthFile(join(this.dir, name), { offset: 0, lines: 0 }, new LineSkips(() => {}), (e) => {
        if (ids.has(e.id)) present.add(e.id);
      });
    }
    const fresh = found.entries.filter((e) => !present.has(e.id));
    const appended = await Promise.allSettled(fresh.map((e) => this.append(e)));
    await this.flush();
    const invalid = found.skipped + appended.filter((r) => r.status === 'rejected').length;
    const skipped = invalid > 0 ? `, ${invalid} invalid line(s) skipped` : '';
    if (this.failure) {
      this.warn(`ledger: ${fresh.length} line(s) from ${found.paths.join(' and ')} wait to be written (${this.failure.error}); the files stay until they are`);
      return;
    }
    await removeFallback(found.paths);
    this.warn(`ledger: took back ${fresh.length} line(s) saved by an earlier run in ${found.paths.join(' and ')} (${present.size} already in the ledger${skipped})`);
  }

  /** Writes a batch in order, one write per run of same-month lines; stops at the first failure. Never rejects. */
  private async writeBatch(batch: Pending[]): Promise<{ lines: number; error?: Error }> {
    let lines = 0;
    for (let i = 0; i < batch.length; ) {
      let j = i + 1;
      while (j < batch.length && batch[j].month === batch[i].month) j++;
      const run = await this.writeRun(batch.slice(i, j));
      lines += run.lines;
      if (run.error) return { lines, error: run.error };
      i = j;
    }
    return { lines };
  }

  /** Writes one month's lines; says how many reached the file whole (their appends resolve). */
  private async writeRun(run: Pending[]): Promise<{ lines: number; error?: Error }> {
    const month = run[0].month;
    let file: MonthFile | undefined;
    let written = 0;
    let failure: Error | undefined;
    let prefix = 0;
    try {
      file = await this.fileFor(month);
      prefix = file.prefix.length;
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
      // The file may now end mid-line or the handle may be broken: drop it, so the next write reopens
      // it and repairs the tail before writing.
      if (file && this.files.get(month) === file) {
        this.files.delete(month);
        await this.closeFile(file);
      }
    }
    // After a write that failed part-way, the lines that did reach the file complete are recorded (a
    // replay will count them); the rest wait.
    let end = prefix;
    let lines = 0;
    for (const p of run) {
      if (failure) {
        end += Buffer.byteLength(p.line);
        if (end > written) break;
      }
      p.resolve?.();
      p.resolve = undefined;
      lines += 1;
    }
    return { lines, error: failure };
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

/** The parts of month files that replay will parse line by line, in the order it reads them. */
function readRanges(starts: MonthStart[]): ReadRange[] {
  return starts
    .filter((s) => !s.summary && !s.failure)
    .map((s) => ({ path: s.path, month: s.month, offset: s.restored?.mark.offset ?? 0, size: s.size ?? 0 }));
}
