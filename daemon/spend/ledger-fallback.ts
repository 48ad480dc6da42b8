// Where ledger lines go that could not be written by the time the daemon stops (the disk was full or
// read-only), and how the next start takes them back. Two places, tried in order: a file beside the
// month files (the disk may have recovered by then), else the system's temp folder under a name made
// from the ledger folder's path, so each data directory has its own and a start finds exactly its own.
// The next start reads both, leaves out what the month files already hold (by request id), appends
// the rest to the ledger and removes the files once the lines are written.
import { createHash } from 'node:crypto';
import { open, readFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { LedgerEntry } from '../../shared/ledger';
import { ledgerEntryProblem } from './ledger-entry';
import { errorText } from './ledger-read';

/** The fallback files of the ledger in `ledgerDir`, in the order they are tried. */
export function fallbackPaths(ledgerDir: string): string[] {
  const tag = createHash('sha256').update(resolve(ledgerDir)).digest('hex').slice(0, 16);
  return [join(ledgerDir, 'pending.jsonl'), join(tmpdir(), `shepherd-ledger-pending-${tag}.jsonl`)];
}

/**
 * Appends `text` (whole lines) to the first fallback file that takes all of it; a file that takes
 * only part is cut back to its old length. Returns where it went, or why no file took it.
 */
export async function saveFallback(ledgerDir: string, text: string): Promise<{ path: string } | { error: string }> {
  const errors: string[] = [];
  for (const path of fallbackPaths(ledgerDir)) {
    try {
      await appendWhole(path, Buffer.from(text, 'utf8'));
      return { path };
    } catch (err) {
      errors.push(`${path}: ${errorText(err)}`);
    }
  }
  return { error: errors.join('; ') };
}

async function appendWhole(path: string, bytes: Buffer): Promise<void> {
  const handle = await open(path, 'a', 0o600);
  try {
    const size = (await handle.stat()).size;
    try {
      let offset = 0;
      while (offset < bytes.length) offset += (await handle.write(bytes, offset, bytes.length - offset)).bytesWritten;
      await handle.sync();
    } catch (err) {
      await handle.truncate(size).catch(() => {});
      throw err;
    }
  } finally {
    await handle.close().catch(() => {});
  }
}

export interface FallbackLines {
  /** The files read (each to be removed once its lines are in the ledger). */
  paths: string[];
  /** Valid entries, in file order, each id once. */
  entries: LedgerEntry[];
  /** Lines that were not valid entries (a torn last line), skipped. */
  skipped: number;
}

/** Reads the fallback files of the ledger in `ledgerDir` (none: no paths). */
export async function readFallback(ledgerDir: string): Promise<FallbackLines> {
  const out: FallbackLines = { paths: [], entries: [], skipped: 0 };
  const ids = new Set<string>();
  for (const path of fallbackPaths(ledgerDir)) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    out.paths.push(path);
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        out.skipped += 1;
        continue;
      }
      if (ledgerEntryProblem(value) !== undefined) {
        out.skipped += 1;
        continue;
      }
      const entry = value as LedgerEntry;
      if (ids.has(entry.id)) continue; // saved twice (a start that could not write them either)
      ids.add(entry.id);
      out.entries.push(entry);
    }
  }
  return out;
}

export async function removeFallback(paths: string[]): Promise<void> {
  for (const path of paths) await unlink(path).catch(() => {});
}
