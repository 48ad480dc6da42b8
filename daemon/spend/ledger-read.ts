// Reading the ledger's month files line by line: shared by the replay on the daemon's main thread
// (ledger.ts) and its worker thread (replay-worker.ts), so both read, split, decode and judge lines
// the same way. A line the daemon wrote takes parseLedgerLine's fast path; anything else goes
// through JSON.parse and ledgerEntryProblem, which accept or reject it and say why.
import { isAscii } from 'node:buffer';
import { open } from 'node:fs/promises';
import type { LedgerEntry } from '../../shared/ledger';
import type { FileMark } from './checkpoint';
import { ledgerEntryProblem } from './ledger-entry';
import { parseLedgerLine } from './ledger-parse';

/** Individual warnings per replay; the rest are counted in one closing warning. */
export const MAX_LINE_WARNINGS = 10;
/** A "line" longer than this is garbage (entries are a few hundred bytes); it is skipped, not buffered. */
export const MAX_LINE_BYTES = 1 << 20;
/** Bytes read at a time by replay. */
const READ_CHUNK = 1 << 20;
/** Bytes decoded into one string at a time (whole lines; a longer line is decoded on its own). */
const DECODE_BYTES = 1 << 16;

/** Where readMonthFile reports skipped lines and a read that stopped early. */
export interface LineSink {
  /** Lines skipped so far. */
  readonly count: number;
  skip(path: string, lineNo: number, why: string): void;
  warn(message: string): void;
}

/** Counts skipped lines across one replay; the first few are warned about one by one. */
export class LineSkips implements LineSink {
  count = 0;

  constructor(readonly warn: (message: string) => void) {}

  skip(path: string, lineNo: number, why: string): void {
    this.count += 1;
    if (this.count <= MAX_LINE_WARNINGS) this.warn(`ledger ${path} line ${lineNo}: skipped (${why})`);
  }

  /** Lines skipped past the listed ones (a worker's; see replay-split.ts): counted, not listed. */
  addUnlisted(n: number): void {
    this.count += n;
  }

  finish(): void {
    if (this.count > MAX_LINE_WARNINGS) {
      this.warn(`ledger: ${this.count - MAX_LINE_WARNINGS} more invalid lines skipped (only the first ${MAX_LINE_WARNINGS} are listed)`);
    }
  }
}

/**
 * Parses one month file from `from` (a line end) to its end, or to `until` (a line start: where a
 * replay worker takes over). `end` is where reading ended, undefined when a read error stopped it
 * early (what was read is counted; the rest is not, with a warning).
 */
export async function readMonthFile(
  path: string,
  from: FileMark,
  skips: LineSink,
  onEntry: (e: LedgerEntry) => void,
  until = Infinity,
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
      take(value as LedgerEntry); // a malformed `client` label was dropped by the check, as the schema does
    }, (lineNo) => skips.skip(path, lineNo, `longer than ${MAX_LINE_BYTES} bytes`), until);
  } catch (err) {
    if (callbackError) throw callbackError.error;
    // An unreadable file must not stop the daemon; what could not be read is missing from the totals.
    skips.warn(`ledger ${path}: reading stopped, entries after that point are not counted (${errorText(err)})`);
  }
  return { entries, skipped: skips.count - skippedBefore, end };
}

/**
 * Reads a file from `from` (a line end) in chunks and calls `onLine` for each line (1-based numbers
 * over the whole file); `last` is true for a final line with no '\n'. Lines are split on the byte 0x0A
 * (never part of a multi-byte UTF-8 character), and whole lines are decoded together, so a character
 * is never split. Never holds more than two chunks plus one line in memory. Stops at `until` (a line
 * start) when given. Returns the end: bytes read in all, and the line ends among them.
 */
async function readLines(
  path: string,
  from: FileMark,
  onLine: (line: string, lineNo: number, last: boolean) => void,
  onTooLong: (lineNo: number) => void,
  until = Infinity,
): Promise<FileMark> {
  const handle = await open(path, 'r');
  // Two buffers: the next chunk is read (on libuv's thread pool) while this one is parsed.
  const buffers = [Buffer.allocUnsafe(READ_CHUNK), Buffer.allocUnsafe(READ_CHUNK)];
  const length = (at: number): number => Math.min(READ_CHUNK, until - at); // 0 at `until`: read as the end
  let offset = from.offset;
  let reading = handle.read(buffers[0], 0, length(offset), offset);
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
      reading = handle.read(buffers[spare], 0, length(offset), offset);
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

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
