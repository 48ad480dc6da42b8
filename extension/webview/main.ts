/// <reference lib="dom" />
// The spend view's script, bundled with Chart.js into dist/webview.js. It draws what the extension
// posts: four charts and two tables, in the theme's colours, redrawn when the theme changes.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  DoughnutController,
  ArcElement,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
} from 'chart.js';
import type { Snapshot } from '../../shared/protocol';
import { formatClock, formatMoney, formatMs, formatTokens, type DisplayCurrency } from '../format';
import { healthRows, spendSeries, teamView } from '../series';
import { ToPageSchema, type FromPage, type ToPage } from '../webview-protocol';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, DoughnutController, ArcElement, Filler, Legend, Tooltip);

declare function acquireVsCodeApi(): { postMessage(message: FromPage): void };
const vscode = acquireVsCodeApi();
const charts = new Map<string, Chart>();
let last: ToPage | undefined;

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function color(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

function palette() {
  return {
    fg: color('--vscode-foreground', '#ccc'),
    grid: color('--vscode-panel-border', '#444'),
    blue: color('--vscode-charts-blue', '#3794ff'),
    red: color('--vscode-charts-red', '#f14c4c'),
    yellow: color('--vscode-charts-yellow', '#cca700'),
    green: color('--vscode-charts-green', '#89d185'),
    purple: color('--vscode-charts-purple', '#b180d7'),
    orange: color('--vscode-charts-orange', '#d18616'),
  };
}

function draw(id: string, config: ChartConfiguration, summary: string): void {
  const canvas = byId<HTMLCanvasElement>(id);
  canvas.setAttribute('aria-label', summary);
  charts.get(id)?.destroy();
  charts.set(id, new Chart(canvas, config));
}

function render(message: ToPage): void {
  last = message;
  const s = message.snapshot;
  const cur = message.currency;
  byId('sandbox').hidden = !s?.sandbox;
  if (!s) {
    byId('summary').textContent = message.connection === 'stopped' ? 'The Shepherd daemon is not running.' : 'Connecting to the Shepherd daemon…';
    return;
  }
  const money = (usd: number) => formatMoney(usd, cur);
  const sim = s.spend.sandbox;
  byId('summary').textContent =
    `This month ${money(s.spend.month.costUsd)} over ${s.spend.month.requests} requests · today ${money(s.spend.today.costUsd)}` +
    cacheNote(s.spend.month, money) +
    // Sandbox answers apart: simulated spend, in none of the figures or charts.
    (sim ? ` · SANDBOX (simulated, not counted): ${money(sim.month.costUsd)} over ${sim.month.requests} requests` : '') +
    (message.connection === 'connected' ? '' : ' · (not connected: showing the last known data)');
  byId('empty').hidden = s.spend.month.requests > 0 || (sim?.month.requests ?? 0) > 0;
  drawCharts(s, cur);
  fillCascade(s, cur);
  fillHealth(s);
  fillTeam(s, money);
  fillRecent(s, cur);
  if (message.focus === 'health') {
    byId('health-section').scrollIntoView();
    byId('health-title').focus();
  }
}

/** The month's prompt-cache figures, when there were any (older daemons send none). */
function cacheNote(m: Snapshot['spend']['month'], money: (usd: number) => string): string {
  if (m.cacheSavedUsd === undefined) return '';
  const tokens = ` (${m.cachedTokens ?? 0} cached, ${m.cacheWriteTokens ?? 0} cache-write tokens)`;
  return m.cacheSavedUsd >= 0 ? ` · caching saved ${money(m.cacheSavedUsd)}${tokens}` : ` · caching cost ${money(-m.cacheSavedUsd)} more${tokens}`;
}

function drawCharts(s: Snapshot, cur: DisplayCurrency): void {
  const p = palette();
  const series = spendSeries(s);
  const conv = (usd: number) => usd * cur.rate;
  const money = (usd: number) => formatMoney(usd, cur);
  const axis = { ticks: { color: p.fg }, grid: { color: p.grid } };
  // Values are already in the display currency: label them as money, not as 1.0E-4.
  const moneyTicks = { color: p.fg, callback: (v: string | number) => formatMoney(Number(v) / cur.rate, cur) };
  const scales = { x: axis, y: { beginAtZero: true, ticks: moneyTicks, grid: { color: p.grid } } };
  const countScales = { x: axis, y: { beginAtZero: true, ticks: { color: p.fg, precision: 0 }, grid: { color: p.grid } } };
  const common = { responsive: true, maintainAspectRatio: false, animation: false as const, plugins: { legend: { labels: { color: p.fg } } } };
  draw(
    'daily',
    { type: 'bar', data: { labels: series.labels, datasets: [{ label: `Spend (${cur.code})`, data: series.daily.map(conv), backgroundColor: p.blue }] }, options: { ...common, scales } },
    `Daily spend this month; today ${money(series.daily[s.spend.days.length - 1] ?? 0)}`,
  );
  const lines: ChartConfiguration<'line'>['data']['datasets'] = [
    { label: 'Month to date', data: series.cumulative.map((v) => (v === null ? null : conv(v))), borderColor: p.blue, backgroundColor: p.blue, fill: false, pointRadius: 2 },
    { label: 'Projection', data: series.projection.map((v) => (v === null ? null : conv(v))), borderColor: p.purple, borderDash: [6, 4], pointRadius: 0 },
  ];
  if (series.budget) lines.push({ label: `Budget "${series.budgetName}"`, data: series.budget.map(conv), borderColor: p.red, pointRadius: 0 });
  draw(
    'cumulative',
    { type: 'line', data: { labels: series.labels, datasets: lines }, options: { ...common, scales } },
    `Month to date ${money(s.spend.month.costUsd)}, projected ${money(series.projectedUsd)} by month end${series.budget ? ` against a budget of ${money(series.budget[0])}` : ', no budget set'}`,
  );
  const groupColors = [p.blue, p.green, p.orange, p.purple, p.yellow, p.red];
  const hasGroups = series.groups.labels.length > 0;
  draw(
    'groups',
    {
      type: 'doughnut',
      data: {
        labels: hasGroups ? series.groups.labels : ['no spend yet'],
        datasets: [{ data: hasGroups ? series.groups.costs.map(conv) : [1], backgroundColor: hasGroups ? series.groups.labels.map((_, i) => groupColors[i % groupColors.length]) : [p.grid], borderWidth: 0 }],
      },
      options: { ...common, plugins: { ...common.plugins, tooltip: { enabled: hasGroups } } },
    },
    hasGroups ? `Spend by model group: ${series.groups.labels.map((g, i) => `${g} ${money(series.groups.costs[i])}`).join(', ')}` : 'No spend by model group yet',
  );
  draw(
    'requests',
    {
      type: 'bar',
      data: {
        labels: series.labels,
        datasets: [
          { label: 'Requests', data: series.requests, backgroundColor: p.green },
          { label: 'Errors', data: series.errors, backgroundColor: p.red },
        ],
      },
      options: { ...common, scales: countScales },
    },
    `Requests and errors per day: ${s.spend.month.requests} requests and ${s.spend.month.errors} errors this month`,
  );
}

function cell(row: HTMLTableRowElement, text: string, className?: string): void {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
}

/** The cascade's month by day: escalation rate, what each check caught, and the saving against the strong group. */
function fillCascade(s: Snapshot, cur: DisplayCurrency): void {
  const c = s.spend.cascade;
  byId('cascade-section').hidden = c === undefined;
  if (!c) return;
  const money = (usd: number | undefined) => (usd === undefined ? '—' : formatMoney(usd, cur));
  const rate = (r: number) => `${(r * 100).toFixed(1)} %`;
  const caught = (m: Record<string, number>) => Object.entries(m).map(([check, n]) => `${check} ${n}`).join(', ') || '—';
  const t = c.totals;
  byId('cascade-summary').textContent =
    `This month ${t.requests} cascaded requests: ${t.kept} kept the cheap answer, ${t.escalated} escalated (${rate(t.escalationRate)}), ${t.direct} went straight to the strong group` +
    (t.savedUsd === undefined ? '' : ` · ${t.savedUsd >= 0 ? 'saved' : 'cost'} ${money(Math.abs(t.savedUsd))} against ${c.baseline}`);
  byId('cascade-baseline').textContent = c.baseline ? `All on ${c.baseline}` : 'All on the strong group';
  const body = byId<HTMLTableElement>('cascade').tBodies[0];
  body.replaceChildren();
  for (const d of [...c.days].reverse()) {
    const row = body.insertRow();
    cell(row, d.day);
    cell(row, String(d.requests), 'num');
    cell(row, `${d.escalated} (${rate(d.escalationRate)})`, 'num');
    cell(row, caught(d.caught));
    cell(row, money(d.costUsd), 'num');
    cell(row, money(d.baselineUsd), 'num');
    cell(row, money(d.savedUsd), 'num');
  }
}

function fillHealth(s: Snapshot): void {
  const body = byId<HTMLTableElement>('health').tBodies[0];
  body.replaceChildren();
  for (const d of healthRows(s)) {
    const row = body.insertRow();
    cell(row, d.deployment);
    cell(row, d.group);
    cell(row, d.region);
    cell(row, d.state, d.stateClass);
    cell(row, d.p50, 'num');
    cell(row, d.errorRate, 'num');
    cell(row, d.circuit, `state-${d.circuit === '—' ? '' : d.circuit}`);
    cell(row, d.lastIncident);
  }
}

function fillTeam(s: Snapshot, money: (usd: number) => string): void {
  const view = teamView(s, money);
  byId('team-section').hidden = view === undefined;
  if (!view) return;
  const state = byId('team-state');
  state.textContent = view.state;
  state.className = view.failing ? 'state-error' : '';
  const body = byId<HTMLTableElement>('team').tBodies[0];
  body.replaceChildren();
  for (const r of view.rows) {
    const row = body.insertRow();
    cell(row, r.member);
    cell(row, r.requests, 'num');
    cell(row, r.spend, 'num');
  }
}

function fillRecent(s: Snapshot, cur: DisplayCurrency): void {
  const body = byId<HTMLTableElement>('recent').tBodies[0];
  body.replaceChildren();
  if (s.recent.length === 0) {
    const row = body.insertRow();
    const td = row.insertCell();
    td.colSpan = 8;
    td.textContent = 'No requests yet.';
    return;
  }
  for (const e of [...s.recent].reverse()) {
    const row = body.insertRow();
    cell(row, formatClock(e.time));
    cell(row, e.model ?? e.requestedModel);
    // Who asked: the caller's own name (e.g. the extension that used a Shepherd model), else its key label.
    cell(row, e.client ?? e.key ?? '—');
    cell(row, e.deployment ?? '—');
    cell(row, `${formatTokens(e.promptTokens)} → ${formatTokens(e.completionTokens)}`, 'num');
    cell(row, e.sandbox ? `${formatMoney(e.costUsd, cur)} (sandbox)` : formatMoney(e.costUsd, cur), 'num');
    cell(row, formatMs(e.latencyMs), 'num');
    cell(row, e.ok ? String(e.status) : `${e.status} ${e.error ?? ''}`.trim(), e.ok ? 'state-healthy' : 'state-error');
  }
}

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const parsed = ToPageSchema.safeParse(event.data);
  if (parsed.success) render(parsed.data);
});
byId('refresh').addEventListener('click', () => vscode.postMessage({ type: 'refresh' }));
byId('open-config').addEventListener('click', () => vscode.postMessage({ type: 'openConfig' }));
// The theme changed (VS Code swaps the body's class): redraw in the new colours.
new MutationObserver(() => last && render({ ...last, focus: undefined })).observe(document.body, { attributes: true, attributeFilter: ['class'] });
vscode.postMessage({ type: 'ready' });
