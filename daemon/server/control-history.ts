// Spend by day and by model group for the current UTC month, and the latest requests: what the
// extension's status bar and spend view draw. Fed the replayed months as a whole (addMonth) and every
// new ledger entry (add); pure apart from the injected clock.
import type { LedgerEntry } from '../../shared/ledger';
import type { SpendSnapshot, SpendTotals } from '../../shared/protocol';
import { previousMonth } from '../spend/month-summaries';
import { RECENT_KEPT as RECENT_MAX, type MonthView } from '../spend/month-tally';
// Costs are summed as integers of 1e-10 USD so the totals do not depend on the order entries arrive in.
const UNITS_PER_USD = 1e10;

interface Sum {
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  units: number;
}

export class SpendHistory {
  /** YYYY-MM-DD -> totals; only the current and previous month are kept. */
  private readonly days = new Map<string, Sum>();
  /** YYYY-MM -> group -> totals. */
  private readonly groups = new Map<string, Map<string, Sum>>();
  private readonly latest: LedgerEntry[] = [];
  /** Months before this one ("YYYY-MM") are not kept; recomputed when the current month changes. */
  private oldestKept = '';
  /** The current month as year * 12 + month, when oldestKept was computed. */
  private monthNumber = -1;

  constructor(private readonly now: () => Date = () => new Date()) {}

  add(entry: LedgerEntry): void {
    this.prune();
    const day = entry.time.slice(0, 10);
    const month = day.slice(0, 7);
    if (month >= this.oldestKept) {
      bump(getOr(this.days, day, zero), entry);
      const byGroup = getOr(this.groups, month, () => new Map<string, Sum>());
      bump(getOr(byGroup, entry.model ?? entry.requestedModel, zero), entry);
    }
    this.remember([entry]);
  }

  /** A whole month from the ledger replay (its spend by day and group, and its latest entries). */
  addMonth(view: MonthView): void {
    this.prune();
    if (view.month >= this.oldestKept) {
      for (const b of view.buckets()) merge(getOr(this.days, b.day, zero), b);
      const byGroup = getOr(this.groups, view.month, () => new Map<string, Sum>());
      for (const [group, counts] of view.groups()) merge(getOr(byGroup, group, zero), counts);
    }
    this.remember(view.recent());
  }

  /** A finished request seen lately, by id (the chat relay reads its cost here). */
  find(id: string): LedgerEntry | undefined {
    for (let i = this.latest.length - 1; i >= 0; i--) if (this.latest[i].id === id) return this.latest[i];
    return undefined;
  }

  recent(): LedgerEntry[] {
    return [...this.latest];
  }

  snapshot(): SpendSnapshot {
    const today = this.now().toISOString().slice(0, 10);
    const month = today.slice(0, 7);
    const days: SpendSnapshot['days'] = [];
    const monthSum = zero();
    for (let d = 1; d <= Number(today.slice(8, 10)); d++) {
      const date = `${month}-${String(d).padStart(2, '0')}`;
      const sum = this.days.get(date) ?? zero();
      merge(monthSum, sum);
      days.push({ date, ...totals(sum) });
    }
    const byGroup = [...(this.groups.get(month) ?? new Map<string, Sum>())]
      .map(([group, sum]) => ({ group, ...totals(sum) }))
      .sort((a, b) => b.costUsd - a.costUsd || a.group.localeCompare(b.group));
    return { today: totals(this.days.get(today) ?? zero()), month: totals(monthSum), days, byGroup };
  }

  private remember(entries: readonly LedgerEntry[]): void {
    this.latest.push(...entries);
    if (this.latest.length > RECENT_MAX) this.latest.splice(0, this.latest.length - RECENT_MAX);
  }

  /** Drops months before last month; the work is done only when the current month has changed. */
  private prune(): void {
    const now = this.now();
    const number = now.getUTCFullYear() * 12 + now.getUTCMonth();
    if (number === this.monthNumber) return;
    this.monthNumber = number;
    this.oldestKept = previousMonth(now.getTime());
    for (const key of this.groups.keys()) if (key < this.oldestKept) this.groups.delete(key);
    for (const key of this.days.keys()) if (key.slice(0, 7) < this.oldestKept) this.days.delete(key);
  }
}

function getOr<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

function zero(): Sum {
  return { requests: 0, errors: 0, promptTokens: 0, completionTokens: 0, units: 0 };
}

function bump(sum: Sum, e: LedgerEntry): void {
  sum.requests += 1;
  if (!e.ok) sum.errors += 1;
  sum.promptTokens += e.promptTokens;
  sum.completionTokens += e.completionTokens;
  sum.units += Math.round(e.costUsd * UNITS_PER_USD);
}

function merge(into: Sum, from: Sum): void {
  into.requests += from.requests;
  into.errors += from.errors;
  into.promptTokens += from.promptTokens;
  into.completionTokens += from.completionTokens;
  into.units += from.units;
}

function totals(sum: Sum): SpendTotals {
  const { units, ...rest } = sum;
  return { ...rest, costUsd: units / UNITS_PER_USD };
}
