// The cascade's figures after a restart. Start-up restores spend from checkpoints and summaries, which
// hold no cascade figures, so the lines that carry a `cascade` field are read again, in the
// background: only this month's and last month's files (what the spend view shows), only the bytes
// they held at start-up (later lines reach the figures as they are written), and only once a cascade
// has ever run here (a marker file in the data directory): a ledger without one costs nothing.
import { createReadStream, existsSync } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LedgerEntry } from '../../shared/ledger';
import { ledgerEntryProblem } from './ledger-entry';
import { parseLedgerLine } from './ledger-parse';

const MARKER = 'cascade-seen';
/** Every line the daemon writes for a cascade carries this; other lines are skipped unparsed. */
const FIELD = ',"cascade":"';

/** Writes the marker once (the first cascaded request), so later starts know to read the figures back. */
export function cascadeMarker(dataDir: string, warn: (m: string) => void): (e: LedgerEntry) => void {
  let marked = existsSync(join(dataDir, MARKER));
  return (e) => {
    if (marked || e.cascade === undefined) return;
    marked = true;
    writeFile(join(dataDir, MARKER), 'auto in cascade mode has run here: start-up reads cascade figures back from the ledger\n', { mode: 0o600 }).catch((err: unknown) =>
      warn(`could not write ${MARKER}: ${err instanceof Error ? err.message : String(err)}`),
    );
  };
}

/**
 * Sizes of the month files to read (this month and last), taken now: call before any request is
 * served. Undefined when no cascade has run here.
 */
export async function cascadeFilesAtStart(dataDir: string, now: number): Promise<{ path: string; size: number }[] | undefined> {
  if (!existsSync(join(dataDir, MARKER))) return undefined;
  const d = new Date(now);
  const months = [new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1)), d].map((m) => m.toISOString().slice(0, 7));
  const files: { path: string; size: number }[] = [];
  for (const month of months) {
    const path = join(dataDir, 'ledger', `${month}.jsonl`);
    try {
      files.push({ path, size: (await stat(path)).size });
    } catch {
      // no file for that month
    }
  }
  return files;
}

/** Reads the cascade lines of `files` up to their sizes; resolves with how many it handed on. */
export async function replayCascade(files: { path: string; size: number }[], onEntry: (e: LedgerEntry) => void): Promise<number> {
  let count = 0;
  for (const { path, size } of files) {
    if (size === 0) continue;
    let rest = '';
    const take = (line: string) => {
      if (!line.includes(FIELD)) return;
      const e = parseLedgerLine(line) ?? slow(line);
      if (e && e.cascade !== undefined) {
        onEntry(e);
        count++;
      }
    };
    for await (const chunk of createReadStream(path, { start: 0, end: size - 1, encoding: 'utf8', highWaterMark: 1 << 20 })) {
      const lines = (rest + (chunk as string)).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) take(line);
    }
    take(rest);
  }
  return count;
}

function slow(line: string): LedgerEntry | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return ledgerEntryProblem(value) === undefined ? (value as LedgerEntry) : undefined;
  } catch {
    return undefined;
  }
}
