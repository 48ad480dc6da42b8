// Spend by day and by model group for the current UTC month, and the latest requests: what the
// extension's status bar and spend view draw. Fed every replayed and every new ledger entry; pure
// apart from the injected clock.
import type { LedgerEntry } from '../../shared/ledger';
import type { SpendSnapshot, SpendTotals } from '../../shared/protocol';

const RECENT_MAX = 50;
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

  constructor(private readonly now: () => Date = () => new Date()) {}

  add(entry: LedgerEntry): void {
    const day = entry.time.slice(0, 10);
    const month = day.slice(0, 7);
    bump(getOr(this.days, day, zero), entry);
    const byGroup = getOr(this.groups, month, () => new Map<string, Sum>());
    bump(getOr(byGroup, entry.model ?? entry.requestedModel, zero), entry);
    this.latest.push(entry);
    if (this.latest.length > RECENT_MAX) this.latest.splice(0, this.latest.length - RECENT_MAX);
    this.prune();
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

  private prune(): void {
    const month = this.now().toISOString().slice(0, 7);
    for (const key of this.groups.keys()) if (key < previousMonth(month)) this.groups.delete(key);
    for (const key of this.days.keys()) if (key.slice(0, 7) < previousMonth(month)) this.days.delete(key);
  }
}

function previousMonth(month: string): string {
  const [y, m] = month.split('-').map(Number);
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
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
