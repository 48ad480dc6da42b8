// `shepherd spend --by escalation`: the cascade's figures by day, as a table, CSV or JSON.
import type { CascadeReport } from '../spend/cascade-stats';
import { csvLine } from './csv';

export function formatCascade(report: CascadeReport | undefined, format: 'table' | 'csv' | 'json', range: { from: string; to: string }): string {
  const empty: CascadeReport = { baseline: null, totals: { requests: 0, kept: 0, escalated: 0, direct: 0, escalationRate: 0, caught: {}, costUsd: 0 }, days: [] };
  const r = report ?? empty;
  if (format === 'json') return `${JSON.stringify(r, null, 2)}\n`;
  const rows = [...r.days.map((d) => ({ key: d.day, ...d })), { key: 'total', ...r.totals }];
  const caught = (c: Record<string, number>) => Object.entries(c).map(([k, n]) => `${k} ${n}`).join(', ') || '-';
  const money = (n: number | undefined) => (n === undefined ? '-' : n.toFixed(4));
  if (format === 'csv') {
    let text = csvLine(['day', 'requests', 'kept', 'escalated', 'direct', 'escalationRate', 'caught', 'costUsd', 'baselineUsd', 'savedUsd']);
    for (const d of rows) text += csvLine([d.key, d.requests, d.kept, d.escalated, d.direct, d.escalationRate, Object.entries(d.caught).map(([k, n]) => `${k} ${n}`).join(', '), d.costUsd, d.baselineUsd, d.savedUsd]);
    return text;
  }
  if (r.days.length === 0) return `No cascaded requests from ${range.from} to ${range.to} (routing.auto.cascade, model "auto:cascade").\n`;
  const head = ['day', 'requests', 'kept', 'escalated', 'rate', 'caught', 'cost $', `${r.baseline ?? 'baseline'} $`, 'saved $'];
  const body = rows.map((d) => [d.key, String(d.requests), String(d.kept), String(d.escalated), `${(d.escalationRate * 100).toFixed(1)}%`, caught(d.caught), money(d.costUsd), money(d.baselineUsd), money(d.savedUsd)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === 5 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return `Cascade from ${r.days[0].day} to ${r.days[r.days.length - 1].day}: escalations and the saving against ${r.baseline ?? '(no priced baseline)'}\n${[head, ...body].map(line).join('\n')}\n`;
}
