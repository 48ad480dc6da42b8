// How `shepherd spend` prints a report: an aligned table for people (amounts in the display currency),
// CSV for spreadsheets (USD and the display currency side by side), or the JSON the daemon serves.
import { formatMoney, roundUsd } from '../../shared/money';
import type { SpendReport } from '../spend/spend-query';
import { csvLine } from './csv';

export const SPEND_FORMATS = ['table', 'csv', 'json'] as const;
export type SpendFormat = (typeof SPEND_FORMATS)[number];

export function formatSpend(report: SpendReport, format: SpendFormat): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  if (format === 'csv') return spendCsv(report);
  return spendTable(report);
}

function spendCsv(r: SpendReport): string {
  const cur = r.currency;
  const header = [r.groupBy, 'requests', 'errors', 'prompt_tokens', 'cached_tokens', 'completion_tokens', 'reasoning_tokens', 'estimated_requests', 'cost_usd'];
  if (cur.code !== 'USD') header.push(`cost_${cur.code.toLowerCase()}`);
  // Added later: at the end, so columns spreadsheets already read keep their places.
  header.push('cache_write_tokens', 'cache_saved_usd');
  const lines = [csvLine(header)];
  // Sandbox rows come after the real total, each key marked: they are in no real figure.
  const sandboxRows = r.sandbox ? [...r.sandbox.rows, { ...r.sandbox.totals, key: 'total' }].map((row) => ({ ...row, key: `[sandbox] ${row.key}` })) : [];
  for (const row of [...r.rows, { key: 'total', ...r.totals }, ...sandboxRows]) {
    const cells: (string | number)[] = [row.key, row.requests, row.errors, row.promptTokens, row.cachedTokens, row.completionTokens, row.reasoningTokens, row.estimatedRequests, row.costUsd];
    if (cur.code !== 'USD') cells.push(roundUsd(row.costUsd * cur.rate)); // the cost unit's precision, in the display currency
    cells.push(row.cacheWriteTokens, row.cacheSavedUsd);
    lines.push(csvLine(cells));
  }
  return lines.join('');
}

function spendTable(r: SpendReport): string {
  const money = (usd: number) => formatMoney(usd, r.currency);
  const head = [r.groupBy, 'requests', 'errors', 'tokens in', 'tokens out', `cost (${r.currency.code})`];
  const body = [...r.rows, { key: 'total', ...r.totals }].map((row) => [
    row.key,
    String(row.requests),
    String(row.errors),
    String(row.promptTokens),
    String(row.completionTokens),
    money(row.costUsd) + (row.estimatedRequests > 0 ? ' *' : ''),
  ]);
  const rows = [head, ...body];
  const widths = head.map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const line = (row: string[]) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ').trimEnd();
  const out = [`Spend ${r.from} to ${r.to} (UTC), by ${r.groupBy}`, '', line(head), ...body.slice(0, -1).map(line), '-'.repeat(line(head).length), line(body[body.length - 1]), ''];
  if (r.totals.estimatedRequests > 0) {
    out.push(`* includes ${r.totals.estimatedRequests} request(s) whose tokens were estimated locally (the upstream reported no usage)`);
  }
  const t = r.totals;
  if (t.cachedTokens > 0 || t.cacheWriteTokens > 0) {
    out.push(
      `Prompt cache: ${t.cachedTokens} tokens read, ${t.cacheWriteTokens} written; ` +
        (t.cacheSavedUsd >= 0 ? `caching saved ${money(t.cacheSavedUsd)}` : `caching cost ${money(-t.cacheSavedUsd)} more (writes not read back)`),
    );
  }
  out.push(`This month: ${money(r.month.spentUsd)} so far, ${money(r.month.projectedUsd)} projected by month end at the current rate`);
  if (r.savings) {
    const s = r.savings;
    out.push(`Against "${s.baseline}" for every request: ${money(s.baselineUsd)}; ${s.savedUsd >= 0 ? `saved ${money(s.savedUsd)}` : `${money(-s.savedUsd)} more`}`);
  }
  if (r.sandbox) out.push('', ...sandboxTable(r, r.sandbox));
  if (r.currency.code !== 'USD') out.push(`Amounts in ${r.currency.code} at ${r.currency.rate} per USD; the ledger is in USD.`);
  return `${out.join('\n')}\n`;
}

/** The sandbox's requests apart, so simulated spend is never read as money spent. */
function sandboxTable(r: SpendReport, s: NonNullable<SpendReport['sandbox']>): string[] {
  const money = (usd: number) => formatMoney(usd, r.currency);
  const head = [r.groupBy, 'requests', 'errors', 'tokens in', 'tokens out', `simulated (${r.currency.code})`];
  const body = [...s.rows, { ...s.totals, key: 'total' }].map((row) => [
    row.key,
    String(row.requests),
    String(row.errors),
    String(row.promptTokens),
    String(row.completionTokens),
    money(row.costUsd),
  ]);
  const rows = [head, ...body];
  const widths = head.map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const line = (row: string[]) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ').trimEnd();
  return [
    'SANDBOX (simulated upstreams, not real spend; in none of the figures above nor in any budget)',
    '',
    line(head),
    ...body.slice(0, -1).map(line),
    '-'.repeat(line(head).length),
    line(body[body.length - 1]),
  ];
}
