// Spend by UTC day and by who spent it (model group, deployment, provider, local key): small enough
// to keep for the ledger's whole history (one bucket per day and combination, not per request), and
// enough to answer every spend query and every budget period, which all start on a UTC day boundary.
// Pure: fed every replayed and every new ledger entry.
import type { LedgerEntry } from '../../shared/ledger';
import { COST_UNITS_PER_USD } from './cost';

export const GROUP_BY = ['model', 'deployment', 'provider', 'day', 'key'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

/** What a bucket is about; null where the request had none (no group resolved, no key in use). */
export interface BucketDims {
  day: string;
  model: string | null;
  deployment: string | null;
  provider: string | null;
  key: string | null;
}

export interface Counts {
  requests: number;
  errors: number;
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
  reasoningTokens: number;
  /** Requests whose token counts are a local estimate (the upstream reported none). */
  estimated: number;
  /** Cost in 1e-10 USD, an integer, so sums are exact in any order. */
  units: number;
}

export interface Bucket extends BucketDims, Counts {}

export class SpendIndex {
  private readonly buckets = new Map<string, Bucket>();

  add(e: LedgerEntry): void {
    const day = e.time.slice(0, 10);
    const model = e.model ?? null;
    const key = e.key ?? null;
    const id = bucketId(day, model, e.deployment, key);
    let b = this.buckets.get(id);
    if (!b) {
      b = { day, model, deployment: e.deployment, provider: e.provider, key, ...zeroCounts() };
      this.buckets.set(id, b);
    }
    countEntry(b, e);
  }

  /** Merges a bucket from a month summary (see month-summaries.ts). */
  addBucket(b: Bucket): void {
    const id = bucketId(b.day, b.model, b.deployment, b.key);
    const mine = this.buckets.get(id);
    if (mine) addCounts(mine, b);
    else this.buckets.set(id, { ...b });
  }

  all(): IterableIterator<Bucket> {
    return this.buckets.values();
  }

  /** Buckets whose day is within [fromDay, toDay] (inclusive, "YYYY-MM-DD"). */
  *between(fromDay: string, toDay: string): IterableIterator<Bucket> {
    for (const b of this.buckets.values()) if (b.day >= fromDay && b.day <= toDay) yield b;
  }

  size(): number {
    return this.buckets.size;
  }
}

// \u0000 cannot occur in these names: they come from the config, ids and key labels.
function bucketId(day: string, model: string | null, deployment: string | null, key: string | null): string {
  return `${day}\u0000${model}\u0000${deployment}\u0000${key}`;
}

export function zeroCounts(): Counts {
  return { requests: 0, errors: 0, promptTokens: 0, cachedTokens: 0, completionTokens: 0, reasoningTokens: 0, estimated: 0, units: 0 };
}

/** Counts one ledger entry into `c`. */
export function countEntry(c: Counts, e: LedgerEntry): void {
  c.requests += 1;
  if (!e.ok) c.errors += 1;
  c.promptTokens += e.promptTokens;
  c.cachedTokens += e.cachedTokens ?? 0;
  c.completionTokens += e.completionTokens;
  c.reasoningTokens += e.reasoningTokens ?? 0;
  if (e.usageSource === 'estimated') c.estimated += 1;
  c.units += Math.round(e.costUsd * COST_UNITS_PER_USD);
}

export function addCounts(into: Counts, from: Counts): void {
  into.requests += from.requests;
  into.errors += from.errors;
  into.promptTokens += from.promptTokens;
  into.cachedTokens += from.cachedTokens;
  into.completionTokens += from.completionTokens;
  into.reasoningTokens += from.reasoningTokens;
  into.estimated += from.estimated;
  into.units += from.units;
}
