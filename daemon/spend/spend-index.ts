// Spend by UTC day and by who spent it (model group, deployment, provider, local key, team member): small enough
// to keep for the ledger's whole history (one bucket per day and combination, not per request), and
// enough to answer every spend query and every budget period, which all start on a UTC day boundary.
// Pure: fed every replayed and every new ledger entry. Sandbox entries (served by the built-in
// simulated upstreams) get buckets of their own, marked `sandbox: true`, so budgets and real totals
// can leave them out and reports can show them apart.
import type { LedgerEntry } from '../../shared/ledger';
import { COST_UNITS_PER_USD } from './cost';

export const GROUP_BY = ['model', 'deployment', 'provider', 'day', 'key', 'member'] as const;
export type GroupBy = (typeof GROUP_BY)[number];

/** What a bucket is about; null where the request had none (no group resolved, no key in use). */
export interface BucketDims {
  day: string;
  model: string | null;
  deployment: string | null;
  provider: string | null;
  key: string | null;
  /**
   * Team mode: the member the requests belong to. Checkpoints and month summaries written before
   * members were counted lack it: read as null, which is right, since only team mode sets one.
   */
  member?: string | null;
  /** Present (true) only on buckets of sandbox entries: simulated spend, never real money. */
  sandbox?: true;
}

export interface Counts {
  requests: number;
  errors: number;
  promptTokens: number;
  cachedTokens: number;
  /** Prompt tokens written to a prompt cache. */
  cacheWriteTokens: number;
  completionTokens: number;
  reasoningTokens: number;
  /** Requests whose token counts are a local estimate (the upstream reported none). */
  estimated: number;
  /** Cost in 1e-10 USD, an integer, so sums are exact in any order. */
  units: number;
}

export interface Bucket extends BucketDims, Counts {}

type DayMap = Map<string | null, Map<string | null, Map<string | null, Map<string | null, Bucket>>>>;

/** The buckets of real or of sandbox entries, by day. */
class Days {
  /** day -> model -> deployment -> key -> member -> bucket: nested maps, so adding an entry builds no key string. */
  readonly byDay = new Map<string, DayMap>();
  /** The last day looked up and its map: entries come in time order, so mostly the same day. */
  lastDay = '';
  lastDayMap: DayMap | undefined;
}

export class SpendIndex {
  /** In the order they were made (what all() returns). */
  private readonly list: Bucket[] = [];
  private readonly real = new Days();
  private readonly simulated = new Days();

  add(e: LedgerEntry): void {
    const b = this.bucket(e.time.slice(0, 10), e.model ?? null, e.deployment, e.key ?? null, e.member ?? null, e.provider, e.sandbox === true);
    countEntry(b, e);
  }

  /** Merges a bucket from a month summary (see month-summaries.ts). */
  addBucket(b: Bucket): void {
    addCounts(this.bucket(b.day, b.model, b.deployment, b.key, b.member ?? null, b.provider, b.sandbox === true), b);
  }

  all(): IterableIterator<Bucket> {
    return this.list.values();
  }

  /** Buckets whose day is within [fromDay, toDay] (inclusive, "YYYY-MM-DD"). */
  *between(fromDay: string, toDay: string): IterableIterator<Bucket> {
    for (const b of this.list) if (b.day >= fromDay && b.day <= toDay) yield b;
  }

  size(): number {
    return this.list.length;
  }

  /** The bucket of these dimensions, made empty (with this provider) when there is none yet. */
  private bucket(
    day: string,
    model: string | null,
    deployment: string | null,
    key: string | null,
    member: string | null,
    provider: string | null,
    sandbox: boolean,
  ): Bucket {
    const days = sandbox ? this.simulated : this.real;
    let byModel = day === days.lastDay ? days.lastDayMap : days.byDay.get(day);
    if (!byModel) {
      byModel = new Map();
      days.byDay.set(day, byModel);
    }
    days.lastDay = day;
    days.lastDayMap = byModel;
    let byDeployment = byModel.get(model);
    if (!byDeployment) {
      byDeployment = new Map();
      byModel.set(model, byDeployment);
    }
    let byKey = byDeployment.get(deployment);
    if (!byKey) {
      byKey = new Map();
      byDeployment.set(deployment, byKey);
    }
    let byMember = byKey.get(key);
    if (!byMember) {
      byMember = new Map();
      byKey.set(key, byMember);
    }
    let b = byMember.get(member);
    if (!b) {
      b = { day, model, deployment, provider, key, member, ...(sandbox ? { sandbox: true as const } : {}), ...zeroCounts() };
      byMember.set(member, b);
      this.list.push(b);
    }
    return b;
  }
}

export function zeroCounts(): Counts {
  return { requests: 0, errors: 0, promptTokens: 0, cachedTokens: 0, cacheWriteTokens: 0, completionTokens: 0, reasoningTokens: 0, estimated: 0, units: 0 };
}

/**
 * Counts one ledger entry into `c`. An extra upstream call made for another request (`parent`: a
 * hedge's cancelled loser) costs money and tokens, but it is not a request a client made, nor its error.
 */
export function countEntry(c: Counts, e: LedgerEntry): void {
  if (e.parent === undefined) {
    c.requests += 1;
    if (!e.ok) c.errors += 1;
  }
  c.promptTokens += e.promptTokens;
  c.cachedTokens += e.cachedTokens ?? 0;
  c.cacheWriteTokens += e.cacheWriteTokens ?? 0;
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
  // Checkpoints and month summaries written before cache writes were counted lack the field.
  into.cacheWriteTokens += from.cacheWriteTokens ?? 0;
  into.completionTokens += from.completionTokens;
  into.reasoningTokens += from.reasoningTokens;
  into.estimated += from.estimated;
  into.units += from.units;
}
