// The spend view's chart data, computed from a snapshot. Pure and DOM-free: the webview draws what
// this returns, and the unit tests check the numbers.
import type { Snapshot } from '../shared/protocol';
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
  // The budget module's projection when there is one; else the month's burn rate so far.
  const projectedUsd = budget?.projectedUsd ?? round((spent / elapsed) * daysInMonth);
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

function round(n: number): number {
  return Math.round(n * 1e8) / 1e8;
}
