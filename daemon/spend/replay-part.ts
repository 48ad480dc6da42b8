// The later part of a cold replay's bytes, read apart from the rest: by the replay worker
// (replay-worker.ts), or on the main thread when the worker cannot do it. It is read exactly as the
// main thread reads (readMonthFile), but into one MonthTally per month file, and handed back as plain
// data: the tallies (never an object per line), the line count and end of each file read, and what
// the main thread must warn about, with line numbers counted from the part's start. The main thread
// merges it (replay-split.ts) so that everything equals a replay on one thread.
import { MAX_LINE_WARNINGS, readMonthFile, type LineSink } from './ledger-read';
import { MonthTally, type MonthState } from './month-tally';

/** One month file from `offset` (a line start) to its end. */
export interface ReplayPart {
  path: string;
  month: string;
  offset: number;
}

/** A skipped line (its number counted from the part's offset), or a warning to repeat as it is. */
export type PartEvent = { lineNo: number; why: string } | { warning: string };

export interface PartResult {
  /** The part's tally; `skipped` counts all its skipped lines, listed in `events` or not. */
  state: MonthState;
  /** Line ends read. */
  lines: number;
  /** Where reading ended (an absolute offset); absent when a read error stopped it early. */
  end?: number;
  /** In the order they happened: the first MAX_LINE_WARNINGS skipped lines of all parts, and any read error. */
  events: PartEvent[];
}

/** The worker's reply: one result per part, in order. */
export interface PartsReply {
  results: PartResult[];
}

/**
 * Records what the main thread's LineSkips would say. Only the first MAX_LINE_WARNINGS skips of all
 * the parts can be among the replay's listed ones (the main thread's come first), so only those keep
 * their line numbers; the rest are counted.
 */
class PartSkips implements LineSink {
  count = 0;
  events: PartEvent[] = [];

  skip(_path: string, lineNo: number, why: string): void {
    this.count += 1;
    if (this.count <= MAX_LINE_WARNINGS) this.events.push({ lineNo, why });
  }

  warn(message: string): void {
    this.events.push({ warning: message });
  }
}

/** Reads the parts in order. */
export async function readParts(parts: readonly ReplayPart[]): Promise<PartResult[]> {
  const skips = new PartSkips();
  const results: PartResult[] = [];
  for (const part of parts) {
    const tally = new MonthTally(part.month);
    skips.events = [];
    const read = await readMonthFile(part.path, { offset: part.offset, lines: 0 }, skips, (e) => tally.add(e));
    tally.skipped = read.skipped;
    results.push({ state: tally.state(), lines: read.end?.lines ?? 0, end: read.end?.offset, events: skips.events });
  }
  return results;
}

/** Whether a worker's message has the reply's shape (it crossed a thread boundary: checked, not trusted blindly). */
export function isPartsReply(value: unknown, parts: number): value is PartsReply {
  if (typeof value !== 'object' || value === null) return false;
  const { results } = value as { results?: unknown };
  return Array.isArray(results) && results.length === parts && results.every(isPartResult);
}

function isPartResult(value: unknown): value is PartResult {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Partial<Record<keyof PartResult, unknown>>;
  const state = r.state as Partial<Record<keyof MonthState, unknown>> | undefined;
  return typeof r.lines === 'number' && (r.end === undefined || typeof r.end === 'number') && Array.isArray(r.events) &&
    typeof state === 'object' && state !== null && typeof state.entries === 'number' && typeof state.skipped === 'number' &&
    Array.isArray(state.buckets) && Array.isArray(state.groups) && Array.isArray(state.recent);
}
