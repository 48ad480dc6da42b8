// A cold replay (no summaries or checkpoints yet: the first start on an existing ledger) parses every
// line, about 2 s for a million. Past a size where starting a thread is worth it, the bytes to parse
// are cut in two at a line start near their middle: the main thread reads the earlier part as usual,
// a worker_threads Worker reads the later part at the same time (replay-worker.ts) and hands back one
// tally per month file, and the main thread merges those in file order when its own reading gets
// there. Everything the replay produces (totals, tallies, marks, warnings with their line numbers) is
// what one thread would have produced; see mergePart. A worker that cannot start or fails costs time,
// never a result: the main thread then reads the later part itself, after one warning.
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FileMark } from './checkpoint';
import { errorText, type LineSkips } from './ledger-read';
import type { MonthTally } from './month-tally';
import { isPartsReply, readParts, type PartResult, type ReplayPart } from './replay-part';

/** Injected by esbuild (esbuild.mjs) into the bundles; absent when run from source. */
declare const SHEPHERD_VERSION: string | undefined;

/** Below this many bytes to parse, a thread's start-up (tens of ms) is not worth it. */
export const DEFAULT_WORKER_BYTES = 16 << 20;
/** tsx's require hook, for the worker run from source (a name in a variable: the bundles never load it). */
const TSX_HOOK = 'tsx/cjs';
/** Bytes read at a time while looking for the line start to cut at. */
const PROBE_CHUNK = 1 << 16;

/** One month file that the replay reads line by line, from `offset` (0, or its checkpoint's). */
export interface ReadRange {
  path: string;
  month: string;
  offset: number;
  /** Its size when the replay began. */
  size: number;
}

export interface SplitOptions {
  /** Use a worker only with more bytes than this to parse. */
  minBytes: number;
  /** The worker's script (tests inject a broken one); default: replay-worker beside this module. */
  script?: string;
  warn: (message: string) => void;
}

/** How the bytes were split, and the worker's results once they come. */
export class ReplaySplit {
  private readonly worker: Worker | undefined;
  private readonly reply: Promise<PartResult[] | { error: unknown }>;
  private readonly warn: (message: string) => void;
  private results: Promise<PartResult[]> | undefined;

  private constructor(private readonly parts: readonly ReplayPart[], options: SplitOptions) {
    const started = startWorker(parts, options.script);
    this.worker = started.worker;
    this.reply = started.reply;
    this.warn = options.warn;
  }

  /** A split of `ranges` (in replay order), or undefined when they are too small or cannot be cut. */
  static async start(ranges: readonly ReadRange[], options: SplitOptions): Promise<ReplaySplit | undefined> {
    const total = ranges.reduce((sum, r) => sum + Math.max(0, r.size - r.offset), 0);
    if (total <= options.minBytes) return undefined;
    const parts = await laterParts(ranges, total / 2);
    return parts.length > 0 ? new ReplaySplit(parts, options) : undefined;
  }

  /** Where the main thread stops reading this file (the worker reads on from there); undefined: to its end. */
  until(path: string): number | undefined {
    return this.parts.find((p) => p.path === path)?.offset;
  }

  /**
   * Merges the worker's part of the file into `tally`, which holds the file's lines up to that part,
   * ending at `before`; its skipped lines go to `skips` as if read here. Returns the file's end mark
   * (undefined when a read error stopped the part early).
   */
  async finish(path: string, tally: MonthTally, before: FileMark, skips: LineSkips): Promise<FileMark | undefined> {
    const index = this.parts.findIndex((p) => p.path === path);
    const result = (await this.partResults())[index];
    return mergePart(result, path, tally, before, skips);
  }

  /** Ends the worker (it normally ends on its own once it has replied); safe to call more than once. */
  close(): void {
    void this.worker?.terminate().catch(() => {});
  }

  /** The worker's results; should it fail, the same results read on this thread, after one warning. */
  private partResults(): Promise<PartResult[]> {
    this.results ??= this.reply.then((reply) => {
      this.close();
      if (Array.isArray(reply)) return reply;
      this.warn(`ledger: the replay worker failed (${errorText(reply.error)}); reading the rest of the ledger on one thread`);
      return readParts(this.parts);
    });
    return this.results;
  }
}

/**
 * Adds a part read apart to the tally of the lines before it, and repeats its warnings with line
 * numbers counted from the file's start. Its skipped lines come after the ones already counted, as
 * on one thread: the listed ones go through skips.skip (which lists them while the replay's first few
 * last), the others are only counted, since skips before them were already past that limit.
 */
function mergePart(result: PartResult, path: string, tally: MonthTally, before: FileMark, skips: LineSkips): FileMark | undefined {
  let listed = 0;
  for (const event of result.events) {
    if ('warning' in event) {
      skips.warn(event.warning);
    } else {
      skips.skip(path, before.lines + event.lineNo, event.why);
      listed += 1;
    }
  }
  skips.addUnlisted(result.state.skipped - listed);
  tally.merge(result.state);
  return result.end === undefined ? undefined : { offset: result.end, lines: before.lines + result.lines };
}

/**
 * The parts from about `half` of the ranges' bytes on: the rest of the file where that byte falls,
 * from the line start after it, and every later file whole. None when there is nothing after the cut.
 */
async function laterParts(ranges: readonly ReadRange[], half: number): Promise<ReplayPart[]> {
  let before = 0;
  for (const [i, r] of ranges.entries()) {
    const bytes = Math.max(0, r.size - r.offset);
    if (before + bytes <= half) {
      before += bytes;
      continue;
    }
    const later = ranges.slice(i + 1).map((l) => ({ path: l.path, month: l.month, offset: l.offset }));
    const cut = await lineStartAfter(r.path, r.offset + Math.floor(half - before), r.size);
    return cut === undefined ? later : [{ path: r.path, month: r.month, offset: cut }, ...later];
  }
  return [];
}

/** The offset just after the first '\n' at or after `at`, when that is before `size`; else undefined. */
async function lineStartAfter(path: string, at: number, size: number): Promise<number | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
    const buffer = Buffer.allocUnsafe(PROBE_CHUNK);
    for (let offset = at; offset < size; ) {
      const { bytesRead } = await handle.read(buffer, 0, PROBE_CHUNK, offset);
      if (bytesRead === 0) return undefined;
      const nl = buffer.subarray(0, bytesRead).indexOf(0x0a);
      if (nl !== -1) return offset + nl + 1 < size ? offset + nl + 1 : undefined;
      offset += bytesRead;
    }
    return undefined;
  } catch {
    return undefined; // not cut there: the main thread reads the file, and says what went wrong
  } finally {
    await handle?.close().catch(() => {});
  }
}

/** Far longer than a healthy worker needs for gigabytes; only a hung one reaches it. */
const WORKER_TIMEOUT_MS = 120_000;

/**
 * Starts the worker on `parts`. The reply never rejects: a failure to start, an error in the worker,
 * an exit without a reply or a malformed reply all come back as { error }.
 */
function startWorker(parts: readonly ReplayPart[], script?: string): { worker?: Worker; reply: Promise<PartResult[] | { error: unknown }> } {
  let worker: Worker;
  try {
    const where = workerScript(script);
    worker = new Worker(where.script, { workerData: { parts }, execArgv: where.execArgv });
  } catch (error) {
    return { reply: Promise.resolve({ error }) };
  }
  const reply = new Promise<PartResult[] | { error: unknown }>((resolve) => {
    worker.once('message', (message: unknown) => {
      resolve(isPartsReply(message, parts.length) ? message.results : { error: new Error('its reply was malformed') });
    });
    worker.once('error', (error) => resolve({ error }));
    worker.once('exit', (code) => resolve({ error: new Error(`it exited with code ${code} before replying`) }));
    // A worker that neither answers nor exits must not hold start-up forever: its part is then read here.
    setTimeout(() => resolve({ error: new Error(`no reply within ${WORKER_TIMEOUT_MS / 1000} s`) }), WORKER_TIMEOUT_MS).unref();
  });
  return { worker, reply };
}

/**
 * Bundled (esbuild defines SHEPHERD_VERSION), the worker is dist/replay-worker.js beside
 * dist/daemon.js and inherits the daemon's Node options. From source (mocha with tsx, `tsx`), it is
 * the .ts file beside this one, compiled on load by tsx's require hook.
 */
function workerScript(script?: string): { script: string; execArgv?: string[] } {
  if (typeof SHEPHERD_VERSION === 'string') return { script: script ?? join(__dirname, 'replay-worker.js') };
  return { script: script ?? join(__dirname, 'replay-worker.ts'), execArgv: ['--require', require.resolve(TSX_HOOK)] };
}
