// Running totals over ledger entries, overall and per model group. Pure: the ledger feeds it every
// replayed and every appended entry.
import type { LedgerEntry } from '../../shared/ledger';
import { COST_UNITS_PER_USD as UNITS_PER_USD } from './cost';
import type { MonthView } from './month-tally';
import type { Bucket, Counts } from './spend-index';

export interface GroupTotals {
  requests: number;
  /** Entries with ok === false. */
  errors: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

export class Aggregates {
  readonly all: GroupTotals = zero();
  /** Keyed by model group (entry.model), or the requested name when the request resolved to none. */
  readonly byModel = new Map<string, GroupTotals>();

  // Costs are summed as integers of 1e-10 USD: exact (up to about $900,000 in total, 2^53 units)
  // and independent of the order entries arrive in, so live totals equal the totals a replay rebuilds.
  private allUnits = 0;
  private readonly groups = new Map<string, { totals: GroupTotals; units: number }>();

  add(e: LedgerEntry): void {
    const group = this.group(e.model ?? e.requestedModel);
    const units = Math.round(e.costUsd * UNITS_PER_USD);
    this.allUnits += units;
    group.units += units;
    bump(this.all, e, this.allUnits);
    bump(group.totals, e, group.units);
  }

  /** Adds a closed month's summary bucket (requests that resolved to no group count as "(unknown model)"). */
  addBucket(b: Bucket): void {
    this.addGroup(b.model ?? '(unknown model)', b);
  }

  /** Adds a month restored as a whole (see month-tally.ts), group by group. */
  addMonth(month: MonthView): void {
    for (const [name, counts] of month.groups()) this.addGroup(name, counts);
  }

  private addGroup(name: string, c: Counts): void {
    const group = this.group(name);
    this.allUnits += c.units;
    group.units += c.units;
    for (const [t, units] of [[this.all, this.allUnits], [group.totals, group.units]] as const) {
      t.requests += c.requests;
      t.errors += c.errors;
      t.promptTokens += c.promptTokens;
      t.completionTokens += c.completionTokens;
      t.costUsd = units / UNITS_PER_USD;
    }
  }

  private group(key: string): { totals: GroupTotals; units: number } {
    let group = this.groups.get(key);
    if (!group) {
      group = { totals: zero(), units: 0 };
      this.groups.set(key, group);
      this.byModel.set(key, group.totals);
    }
    return group;
  }

  /** Back to zero, keeping the same `all` object so holders of a reference see the change. */
  clear(): void {
    Object.assign(this.all, zero());
    this.allUnits = 0;
    this.byModel.clear();
    this.groups.clear();
  }
}

function zero(): GroupTotals {
  return { requests: 0, errors: 0, promptTokens: 0, completionTokens: 0, costUsd: 0 };
}

function bump(t: GroupTotals, e: LedgerEntry, units: number): void {
  t.requests += 1;
  if (!e.ok) t.errors += 1;
  t.promptTokens += e.promptTokens;
  t.completionTokens += e.completionTokens;
  t.costUsd = units / UNITS_PER_USD;
}
