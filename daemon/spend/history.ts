// Spend by day and by model group for the current UTC month, and the latest requests: what the
// extension's status bar and spend view draw. Sandbox requests are counted apart (`sandbox`). Fed the replayed months as a whole (addMonth) and every
// new ledger entry (add); pure apart from the injected clock.
import type { LedgerEntry } from '../../shared/ledger';
import type { Price } from '../../shared/config';
import type { SpendSnapshot, SpendTotals } from '../../shared/protocol';
import { previousMonth } from './month-summaries';
import { cacheSavingUsd, COST_UNITS_PER_USD, roundUsd } from './cost';
import { RECENT_KEPT as RECENT_MAX, type MonthView } from './month-tally';
import { CascadeStats } from './cascade-stats';
import { addCounts as merge, countEntry as bump, zeroCounts as zero, type Counts as Sum } from './spend-index';

/** Spend by day and by month and group: one for real requests, one for the sandbox's. */
class Tally {
  /** YYYY-MM-DD -> totals; only the current and previous month are kept. */
  readonly days = new Map<string, Sum>();
  /** YYYY-MM -> group -> totals. */
  readonly groups = new Map<string, Map<string, Sum>>();
  /** The day of the last entry added and where it is counted (a replay adds a day's entries in a row). */
  lastDay: { day: string; sum: Sum; byGroup: Map<string, Sum> } | undefined;

  add(entry: LedgerEntry, oldestKept: string): void {
    const day = entry.time.slice(0, 10);
    let kept = this.lastDay;
    if (kept?.day !== day) {
      const month = day.slice(0, 7);
      kept = month >= oldestKept ? { day, sum: getOr(this.days, day, zero), byGroup: getOr(this.groups, month, newGroups) } : undefined;
      this.lastDay = kept;
    }
    if (kept) {
      bump(kept.sum, entry);
      bump(getOr(kept.byGroup, entry.model ?? entry.requestedModel, zero), entry);
    }
  }

  /** Drops months before `oldestKept`. */
  prune(oldestKept: string): void {
    this.lastDay = undefined; // its month may be dropped now
    for (const key of this.groups.keys()) if (key < oldestKept) this.groups.delete(key);
    for (const key of this.days.keys()) if (key.slice(0, 7) < oldestKept) this.days.delete(key);
  }

  byGroup(month: string, priceOf: PriceOf): SpendSnapshot['byGroup'] {
    return [...(this.groups.get(month) ?? new Map<string, Sum>())]
      .map(([group, sum]) => ({ group, ...totals(sum, saving(sum, priceOf(group))) }))
      .sort((a, b) => b.costUsd - a.costUsd || a.group.localeCompare(b.group));
  }
}

export class SpendHistory {
  private readonly real = new Tally();
  /** Requests the built-in sandbox answered: shown apart, never in the real figures. */
  private readonly sandbox = new Tally();
  /** The latest entries, oldest first; trimmed to RECENT_MAX only when twice as long, so add() stays O(1). */
  private latest: LedgerEntry[] = [];
  /** Months before this one ("YYYY-MM") are not kept; recomputed when the current month changes. */
  private oldestKept = '';
  /** The current UTC month as [start, end) epoch ms, when oldestKept was computed. */
  private monthStart = 0;
  private monthEnd = 0;

  private readonly now: () => Date;
  /** The same clock in epoch ms: add() reads it every time, so without a Date unless one is injected. */
  private readonly nowMs: () => number;

  /** A model group's price now, for what caching saved (the snapshot prices each group's tokens). */
  private readonly priceOf: PriceOf;
  /** Cascade figures (auto in cascade mode) since start, and the group their saving is measured against. */
  readonly cascade = new CascadeStats();
  private readonly cascadeBaseline: () => { name: string; price: Price | undefined } | undefined;

  constructor(now?: () => Date, priceOf?: PriceOf, cascadeBaseline?: () => { name: string; price: Price | undefined } | undefined) {
    this.priceOf = priceOf ?? (() => undefined);
    this.cascadeBaseline = cascadeBaseline ?? (() => undefined);
    this.now = now ?? (() => new Date());
    this.nowMs = now ? () => now().getTime() : Date.now;
  }

  add(entry: LedgerEntry): void {
    this.prune();
    (entry.sandbox === true ? this.sandbox : this.real).add(entry, this.oldestKept);
    this.cascade.add(entry);
    this.latest.push(entry);
    if (this.latest.length >= 2 * RECENT_MAX) this.latest = this.latest.slice(-RECENT_MAX);
  }

  /** A whole month from the ledger replay (its spend by day and group, and its latest entries). */
  addMonth(view: MonthView): void {
    this.prune();
    if (view.month >= this.oldestKept) {
      const sandboxGroups = getOr(this.sandbox.groups, view.month, newGroups);
      for (const b of view.buckets()) {
        merge(getOr((b.sandbox ? this.sandbox : this.real).days, b.day, zero), b);
        // The view's groups are real spend only; the sandbox's come from its buckets.
        if (b.sandbox) merge(getOr(sandboxGroups, b.model ?? '(unknown model)', zero), b);
      }
      const byGroup = getOr(this.real.groups, view.month, newGroups);
      for (const [group, counts] of view.groups()) merge(getOr(byGroup, group, zero), counts);
    }
    this.remember(view.recent());
  }

  /**
   * What caching saved on one request at its group's price now (the figure the snapshot sums), so the
   * extension can keep its total current between snapshots; undefined when it cached nothing.
   */
  savedOn(entry: LedgerEntry): number | undefined {
    const tokens = { cachedTokens: entry.cachedTokens ?? 0, cacheWriteTokens: entry.cacheWriteTokens ?? 0 };
    return tokens.cachedTokens > 0 || tokens.cacheWriteTokens > 0 ? cacheSavingUsd(tokens, this.priceOf(entry.model ?? entry.requestedModel)) : undefined;
  }

  /** A finished request seen lately, by id (the chat relay reads its cost here). */
  find(id: string): LedgerEntry | undefined {
    const oldest = Math.max(0, this.latest.length - RECENT_MAX);
    for (let i = this.latest.length - 1; i >= oldest; i--) if (this.latest[i].id === id) return this.latest[i];
    return undefined;
  }

  recent(): LedgerEntry[] {
    return this.latest.slice(-RECENT_MAX);
  }

  snapshot(): SpendSnapshot {
    const today = this.now().toISOString().slice(0, 10);
    const month = today.slice(0, 7);
    const days: SpendSnapshot['days'] = [];
    const monthSum = zero();
    const sandboxMonth = zero();
    for (let d = 1; d <= Number(today.slice(8, 10)); d++) {
      const date = `${month}-${String(d).padStart(2, '0')}`;
      const sum = this.real.days.get(date) ?? zero();
      merge(monthSum, sum);
      merge(sandboxMonth, this.sandbox.days.get(date) ?? zero());
      days.push({ date, ...totals(sum) });
    }
    const byGroup = this.real.byGroup(month, this.priceOf);
    const snapshot: SpendSnapshot = { today: totals(this.real.days.get(today) ?? zero()), month: totals(monthSum, savedIn(byGroup)), days, byGroup };
    if (sandboxMonth.requests > 0) {
      const sandboxGroups = this.sandbox.byGroup(month, this.priceOf);
      snapshot.sandbox = { today: totals(this.sandbox.days.get(today) ?? zero()), month: totals(sandboxMonth, savedIn(sandboxGroups)), byGroup: sandboxGroups };
    }
    const cascade = this.cascade.report(`${month}-01`, today, this.cascadeBaseline());
    if (cascade.totals.requests > 0) snapshot.cascade = cascade;
    return snapshot;
  }

  private remember(entries: readonly LedgerEntry[]): void {
    this.latest = [...this.latest.slice(-RECENT_MAX), ...entries].slice(-RECENT_MAX);
  }

  /** Drops months before last month; the work is done only when the current month has changed. */
  private prune(): void {
    const ms = this.nowMs();
    if (ms >= this.monthStart && ms < this.monthEnd) return;
    const d = new Date(ms);
    this.monthStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    this.monthEnd = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    this.oldestKept = previousMonth(ms);
    this.real.prune(this.oldestKept);
    this.sandbox.prune(this.oldestKept);
  }
}

function newGroups(): Map<string, Sum> {
  return new Map();
}

function getOr<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

type PriceOf = (group: string) => Price | undefined;

/** What caching saved on a group's tokens at its price; undefined when nothing was cached. */
function saving(sum: Sum, price: Price | undefined): number | undefined {
  return sum.cachedTokens > 0 || sum.cacheWriteTokens > 0 ? cacheSavingUsd(sum, price) : undefined;
}

function savedIn(groups: SpendSnapshot['byGroup']): number | undefined {
  let units: number | undefined;
  for (const g of groups) if (g.cacheSavedUsd !== undefined) units = (units ?? 0) + Math.round(g.cacheSavedUsd * COST_UNITS_PER_USD);
  return units === undefined ? undefined : roundUsd(units / COST_UNITS_PER_USD);
}

/** The wire shape (shared/protocol.ts) of the spend counted in `sum`; cache fields only when there was caching. */
function totals(sum: Sum, cacheSavedUsd?: number): SpendTotals {
  const t: SpendTotals = { requests: sum.requests, errors: sum.errors, promptTokens: sum.promptTokens, completionTokens: sum.completionTokens, costUsd: sum.units / COST_UNITS_PER_USD };
  if (sum.cachedTokens > 0) t.cachedTokens = sum.cachedTokens;
  if (sum.cacheWriteTokens > 0) t.cacheWriteTokens = sum.cacheWriteTokens;
  if (cacheSavedUsd !== undefined) t.cacheSavedUsd = cacheSavedUsd;
  return t;
}
