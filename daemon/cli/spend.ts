// `shepherd spend` and `shepherd export`. Spend asks the running daemon (its state file gives the URL)
// and, when none answers, reads the ledger itself; export always reads the ledger files (they are
// append-only, so reading beside a running daemon is safe).
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { LedgerEntrySchema, type LedgerEntry } from '../../shared/ledger';
import { DaemonStateSchema } from '../../shared/protocol';
import { loadConfigFile } from '../config/load';
import { readLedgerMonths } from '../spend/ledger';
import { SpendIndex } from '../spend/spend-index';
import { CascadeStats } from '../spend/cascade-stats';
import type { SpendScope } from '../spend/team-spend';
import { cascadeBaseline, isDay, reportContext, spendReport, type SpendQuery, type SpendReport } from '../spend/spend-query';
import { stateFilePath } from '../lifecycle/state-file';
import { csvLine } from './csv';

/** The daemon's report, or undefined when no daemon runs here (or it does not answer in time). */
export async function spendFromDaemon(dataDir: string, q: SpendQuery, timeoutMs = 3_000, scope: SpendScope = 'local'): Promise<SpendReport | undefined> {
  let url: string;
  try {
    url = DaemonStateSchema.parse(JSON.parse(await readFile(stateFilePath(dataDir), 'utf8'))).url;
  } catch {
    return undefined;
  }
  try {
    const params = new URLSearchParams({ from: q.from, to: q.to, groupBy: q.groupBy, ...(scope === 'team' ? { scope } : {}) });
    const res = await fetch(`${url}/v1/shepherd/spend?${params}`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return undefined; // e.g. local keys required: the ledger has the same answer
    return (await res.json()) as SpendReport;
  } catch {
    return undefined; // a stale state file: the daemon died without removing it
  }
}

/** The same report from the ledger files, with currency and baseline from the config when it loads. */
export async function spendFromLedger(dataDir: string, configPath: string, q: SpendQuery, now: number, warn: (m: string) => void): Promise<SpendReport> {
  const index = new SpendIndex();
  const cascade = new CascadeStats();
  // The month of `now` too: the report's month-end projection needs it.
  const months = [q.from.slice(0, 7), new Date(now).toISOString().slice(0, 7)].sort();
  const toMonth = [q.to.slice(0, 7), months[1]].sort()[1];
  await readLedgerMonths(dataDir, { fromMonth: months[0], toMonth }, (e) => {
    index.add(e);
    cascade.add(e);
  }, warn);
  const loaded = await loadConfigFile(configPath);
  const ctx = loaded.ok ? reportContext(loaded.config, now) : { now, currency: { code: 'USD', rate: 1 } };
  const report = spendReport(index, q, ctx);
  const figures = cascade.report(q.from, q.to, loaded.ok ? cascadeBaseline(loaded.config) : undefined);
  if (figures.totals.requests > 0) report.cascade = figures;
  return report;
}

export type EntrySource = (range: { from?: string; to?: string }, onEntry: (e: LedgerEntry) => void) => Promise<unknown>;

export const EXPORT_FORMATS = ['csv', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Every ledger field, in the schema's order: the CSV header. */
const COLUMNS = Object.keys(LedgerEntrySchema.shape) as (keyof LedgerEntry)[];

/**
 * Writes the ledger entries whose UTC day is within [from, to] (either may be open) to `out` (a file
 * path) or stdout, as CSV or a JSON array. Resolves with the number of entries written.
 */
export async function exportLedger(
  dataDir: string,
  range: { from?: string; to?: string },
  format: ExportFormat,
  out: string | undefined,
  warn: (m: string) => void,
  /** Where the entries come from: the local ledger files by default, the team ledger with --team. */
  source: EntrySource = (r, onEntry) => readLedgerMonths(dataDir, { fromMonth: r.from?.slice(0, 7), toMonth: r.to?.slice(0, 7) }, onEntry, warn),
): Promise<number> {
  for (const day of [range.from, range.to]) if (day !== undefined && !isDay(day)) throw new Error(`not a date: ${day}`);
  const sink = out === undefined ? process.stdout : createWriteStream(out, { mode: 0o600 });
  let count = 0;
  let buffer = format === 'csv' ? csvLine(COLUMNS) : '[';
  const flush = () => {
    sink.write(buffer);
    buffer = '';
  };
  await source(range, (e) => {
    const day = e.time.slice(0, 10);
    if ((range.from !== undefined && day < range.from) || (range.to !== undefined && day > range.to)) return;
    buffer += format === 'csv' ? csvLine(COLUMNS.map((c) => e[c])) : `${count === 0 ? '\n' : ',\n'}${JSON.stringify(e)}`;
    count++;
    if (buffer.length > 1 << 16) flush();
  });
  buffer += format === 'json' ? (count === 0 ? ']\n' : '\n]\n') : '';
  flush();
  if (sink !== process.stdout) await new Promise<void>((resolve, reject) => (sink as ReturnType<typeof createWriteStream>).end((err?: Error | null) => (err ? reject(err) : resolve())));
  return count;
}
