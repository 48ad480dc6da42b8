// The spend view's chart data, computed from a snapshot. Pure and DOM-free: the webview draws what
// this returns, and the unit tests check the numbers.
import type { Snapshot } from '../shared/protocol';
import { formatClock, formatMs, formatPercent } from './format';
import { mainBudget } from './status';

export interface SpendSeries {
  labels: string[];
  /** USD per day. */
  daily: number[];
  /** Running total per day, then null for days still to come. */
  cumulative: (number | null)[];
  /** Straight line from today's total to the projected month-end total; null before today. */
  projection: (number | null)[];
  /** The budget limit on every day, or undefined when there is no monthly budget. */
  budget: number[] | undefined;
  budgetName: string | undefined;
  projectedUsd: number;
  requests: number[];
  errors: number[];
  groups: { labels: string[]; costs: number[] };
}

export function spendSeries(s: Snapshot): SpendSeries {
  const days = s.spend.days;
  const today = days.at(-1)?.date ?? new Date().toISOString().slice(0, 10);
  const [year, month] = today.split('-').map(Number);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const elapsed = Math.max(1, days.length);
  const labels = Array.from({ length: daysInMonth }, (_, i) => String(i + 1));
  const daily = labels.map((_, i) => days[i]?.costUsd ?? 0);
  let run = 0;
  const cumulative = labels.map((_, i) => (i < elapsed ? (run = round(run + daily[i])) : null));
  const budget = mainBudget(s.budgets);
  const spent = s.spend.month.costUsd;
  // The chart projects all of this calendar month's spend. A budget's own projection covers only its
  // scope and period (a key's budget, one that resets on the 15th), so it stands in only for a global
  // budget over this very month; else the month's burn rate so far. Never below what is spent.
  const budgetCovers = budget?.scope.kind === 'global' && budget.periodStart.slice(0, 10) === `${today.slice(0, 7)}-01`;
  const projectedUsd = Math.max(spent, budgetCovers ? budget.projectedUsd : round((spent / elapsed) * daysInMonth));
  const projection = labels.map((_, i) => (i < elapsed - 1 ? null : round(spent + ((projectedUsd - spent) * (i - (elapsed - 1))) / Math.max(1, daysInMonth - elapsed))));
  return {
    labels,
    daily,
    cumulative,
    projection,
    budget: budget ? labels.map(() => budget.limitUsd) : undefined,
    budgetName: budget?.name,
    projectedUsd,
    requests: labels.map((_, i) => days[i]?.requests ?? 0),
    errors: labels.map((_, i) => days[i]?.errors ?? 0),
    groups: { labels: s.spend.byGroup.map((g) => g.group), costs: s.spend.byGroup.map((g) => g.costUsd) },
  };
}

/** One row of the spend view's health table: the group tells apart a deployment that serves several. */
export interface HealthRow {
  deployment: string;
  group: string;
  region: string;
  state: string;
  /** For the state cell's colour class. */
  stateClass: string;
  p50: string;
  errorRate: string;
  circuit: string;
  lastIncident: string;
}

export function healthRows(s: Snapshot): HealthRow[] {
  return s.deployments.map((d) => ({
    deployment: d.id,
    group: d.group,
    region: d.region ?? '—',
    state: d.available ? d.state : `unavailable (${d.unavailableReason ?? 'no key'})`,
    stateClass: `state-${d.available ? d.state : 'error'}`,
    p50: formatMs(d.p50Ms),
    errorRate: formatPercent(d.errorRate),
    circuit: d.circuit ?? '—',
    lastIncident: d.lastIncident ? `${d.lastIncident.start.slice(0, 16).replace('T', ' ')} ${d.lastIncident.reason}` : '—',
  }));
}

function round(n: number): number {
  return Math.round(n * 1e8) / 1e8;
}

export interface TeamView {
  /** The team ledger's state in words: shipping works, or lines wait for PostgreSQL and why. */
  state: string;
  failing: boolean;
  /** This month's spend by member, most first; empty until the daemon has read the team ledger. */
  rows: { member: string; requests: string; spend: string }[];
}

/** The spend view's Team section, when the daemon ships to a team ledger (team mode); undefined otherwise. */
export function teamView(s: Snapshot, money: (usd: number) => string): TeamView | undefined {
  const t = s.teamLedger;
  if (!t) return undefined;
  const waiting = t.waiting > 0 ? ` · ${t.waiting} line(s) waiting to be shipped` : '';
  const state =
    t.state === 'failing'
      ? `Team ledger: PostgreSQL is not taking lines${t.lastError ? ` (${t.lastError})` : ''}; they are kept locally and shipped when it answers${waiting}`
      : `Team ledger (${t.table}): ${t.state === 'ok' ? 'shipping' : 'starting'}${waiting}` +
        (s.teamSpend ? ` · this month's spend as of ${formatClock(s.teamSpend.asOf)} UTC` : '');
  const rows = (s.teamSpend?.members ?? []).map((m) => ({
    member: m.member,
    requests: String(m.requests + m.sandboxRequests),
    // Simulated spend apart, as in every other figure.
    spend: m.sandboxRequests > 0 ? `${money(m.costUsd)} (+ ${money(m.sandboxCostUsd)} sandbox)` : money(m.costUsd),
  }));
  return { state, failing: t.state === 'failing', rows };
}
