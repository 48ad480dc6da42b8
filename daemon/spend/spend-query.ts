// Spend reports: totals, token and request counts over a range of UTC days, grouped one way, with the
// month-end projection and the savings against a baseline group. Sandbox spend is reported apart and
// counted in none of the real figures. Pure; the HTTP route and the CLI
// (reading the ledger itself when no daemon runs) both build their answer here.
import type { Price, ShepherdConfig } from '../../shared/config';
import { cacheSavingUsd, COST_UNITS_PER_USD, costUsd, roundUsd } from './cost';
import type { DisplayCurrency } from '../../shared/money';
import { dayOf, periodAt, projectSpend } from './period';
import type { CascadeReport } from './cascade-stats';
import { addCounts, GROUP_BY, zeroCounts, type Bucket, type Counts, type GroupBy, type SpendIndex } from './spend-index';

export interface SpendQuery {
  /** Inclusive UTC days, YYYY-MM-DD. */
  from: string;
  to: string;
  groupBy: GroupBy;
}

export interface SpendTotalsOut {
  requests: number;
  errors: number;
  promptTokens: number;
  cachedTokens: number;
  /** Prompt tokens written to a prompt cache. */
  cacheWriteTokens: number;
  completionTokens: number;
  reasoningTokens: number;
  /**
   * What prompt caching saved, at the current config's price of each deployment (reads below the input
   * price, less writes above it): negative when writes were not read back enough to pay for themselves.
   */
  cacheSavedUsd: number;
  /** Requests whose tokens (and so cost) are a local tokenizer estimate: the upstream reported no usage. */
  estimatedRequests: number;
  costUsd: number;
}

export interface SpendReport {
  from: string;
  to: string;
  groupBy: GroupBy;
  /** Amounts are USD; multiply by currency.rate to show them in currency.code. */
  currency: DisplayCurrency;
  totals: SpendTotalsOut;
  rows: (SpendTotalsOut & { key: string })[];
  /** This UTC calendar month: spend so far and at month end at the current burn rate. */
  month: { start: string; spentUsd: number; projectedUsd: number };
  /** What the same tokens would have cost on the baseline group, when one is configured and priced. */
  savings?: { baseline: string; baselineUsd: number; actualUsd: number; savedUsd: number };
  /**
   * Requests the built-in sandbox answered in the range, apart: simulated, priced at the groups' prices,
   * and in none of the figures above (totals, rows, month, savings). Absent when there were none.
   */
  sandbox?: { totals: SpendTotalsOut; rows: (SpendTotalsOut & { key: string })[] };
  /** `auto` in cascade mode, by day: escalation rate, what each check caught, the saving. Absent without cascaded requests. */
  cascade?: CascadeReport;
}

/**
 * The group a cascade's saving is measured against: savingsBaseline when set, else the strong end of
 * routing.auto.cascade's chain (what `auto` would cost if everything went to the strong group).
 */
export function cascadeBaseline(config: ShepherdConfig): { name: string; price: Price | undefined } | undefined {
  const auto = config.routing.auto;
  const name = config.savingsBaseline ?? auto.tiers[auto.cascade.chain[auto.cascade.chain.length - 1]];
  const group = config.models[name];
  return group ? { name, price: group.price ?? group.deployments[0]?.price } : undefined;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Reads from, to and groupBy (any may be missing: this month so far, by model); throws an Error naming
 * the bad parameter as the caller calls it (`names`: e.g. "--by" on the command line).
 */
export function parseSpendQuery(
  get: (name: 'from' | 'to' | 'groupBy') => string | null | undefined,
  now: number,
  names: Record<'from' | 'to' | 'groupBy', string> = { from: 'from', to: 'to', groupBy: 'groupBy' },
): SpendQuery {
  const today = dayOf(now);
  const from = get('from') || `${today.slice(0, 7)}-01`;
  const to = get('to') || today;
  for (const [name, value] of [[names.from, from], [names.to, to]] as const) {
    if (!isDay(value)) throw new Error(`${name} must be a date, YYYY-MM-DD (UTC), not "${value}"`);
  }
  if (from > to) throw new Error(`${names.from} (${from}) is after ${names.to} (${to})`);
  const groupBy = get('groupBy') || 'model';
  if (!(GROUP_BY as readonly string[]).includes(groupBy)) {
    throw new Error(`${names.groupBy} must be one of ${GROUP_BY.join(', ')}, not "${groupBy}"`);
  }
  return { from, to, groupBy: groupBy as GroupBy };
}

/** A real calendar day written YYYY-MM-DD (2026-02-30 is not). */
export function isDay(value: string): boolean {
  const ms = Date.parse(`${value}T00:00:00Z`);
  return DAY.test(value) && !Number.isNaN(ms) && dayOf(ms) === value;
}

export interface ReportContext {
  now: number;
  currency: DisplayCurrency;
  baseline?: { name: string; price: Price | undefined };
  /** The price a bucket's tokens were billed at (its deployment's, in the current config), for the cache saving. */
  priceOf?: (b: Bucket) => Price | undefined;
}

export function spendReport(index: SpendIndex, q: SpendQuery, ctx: ReportContext): SpendReport {
  const real = tallyOf(q.groupBy, ctx.priceOf);
  const simulated = tallyOf(q.groupBy, ctx.priceOf);
  for (const b of index.between(q.from, q.to)) (b.sandbox ? simulated : real).add(b);
  const total = real.total;
  const rows = real.rows();

  const month = periodAt('monthly', 1, ctx.now);
  let monthUnits = 0;
  for (const b of index.between(dayOf(month.start), dayOf(month.end - 1))) if (!b.sandbox) monthUnits += b.units;
  const monthSpent = monthUnits / COST_UNITS_PER_USD;
  const report: SpendReport = {
    from: q.from,
    to: q.to,
    groupBy: q.groupBy,
    currency: ctx.currency,
    totals: out(total, real.totalSaved),
    rows,
    month: { start: new Date(month.start).toISOString(), spentUsd: monthSpent, projectedUsd: projectSpend(monthSpent, month, ctx.now) },
  };
  if (ctx.baseline?.price) {
    const baselineUsd = baselineCost(total, ctx.baseline.price);
    const actualUsd = total.units / COST_UNITS_PER_USD;
    report.savings = { baseline: ctx.baseline.name, baselineUsd, actualUsd, savedUsd: roundUsd(baselineUsd - actualUsd) };
  }
  if (simulated.total.requests > 0) report.sandbox = { totals: out(simulated.total, simulated.totalSaved), rows: simulated.rows() };
  return report;
}

/** Buckets added up in total and by the report's grouping. */
function tallyOf(groupBy: GroupBy, priceOf: ReportContext['priceOf']) {
  const total = zeroCounts();
  const groups = new Map<string, Counts>();
  // Cache savings in cost units, priced bucket by bucket (each bucket is one deployment's).
  const saved = { total: 0, byKey: new Map<string, number>() };
  return {
    total,
    get totalSaved() {
      return saved.total;
    },
    add(b: Bucket) {
      addCounts(total, b);
      const key = keyOf(b, groupBy);
      let g = groups.get(key);
      if (!g) groups.set(key, (g = zeroCounts()));
      addCounts(g, b);
      if (b.cachedTokens > 0 || b.cacheWriteTokens > 0) {
        const units = Math.round(cacheSavingUsd(b, priceOf?.(b)) * COST_UNITS_PER_USD);
        saved.total += units;
        saved.byKey.set(key, (saved.byKey.get(key) ?? 0) + units);
      }
    },
    rows() {
      const rows = [...groups].map(([key, c]) => ({ key, ...out(c, saved.byKey.get(key) ?? 0) }));
      if (groupBy === 'day') rows.sort((a, b) => a.key.localeCompare(b.key));
      else rows.sort((a, b) => b.costUsd - a.costUsd || a.key.localeCompare(b.key));
      return rows;
    },
  };
}

/** The cost of these token counts at `price`: cost is linear in tokens, so the sums can be priced at once. */
export function baselineCost(c: Counts, price: Price): number {
  return costUsd(
    { promptTokens: c.promptTokens, cachedTokens: c.cachedTokens, cacheWriteTokens: c.cacheWriteTokens, completionTokens: c.completionTokens, reasoningTokens: c.reasoningTokens },
    price,
  );
}

function keyOf(b: Bucket, groupBy: GroupBy): string {
  switch (groupBy) {
    case 'day':
      return b.day;
    case 'model':
      return b.model ?? '(unknown model)';
    case 'deployment':
      return b.deployment ?? '(none)';
    case 'provider':
      return b.provider ?? '(none)';
    case 'key':
      return b.key ?? '(no key)';
    case 'member':
      return b.member ?? '(no member)';
  }
}

function out(c: Counts, savedUnits: number): SpendTotalsOut {
  return {
    requests: c.requests,
    errors: c.errors,
    promptTokens: c.promptTokens,
    cachedTokens: c.cachedTokens,
    cacheWriteTokens: c.cacheWriteTokens,
    completionTokens: c.completionTokens,
    reasoningTokens: c.reasoningTokens,
    cacheSavedUsd: savedUnits / COST_UNITS_PER_USD,
    estimatedRequests: c.estimated,
    costUsd: c.units / COST_UNITS_PER_USD,
  };
}

/** Display currency and the savings baseline from the config. */
export function reportContext(config: ShepherdConfig, now: number): ReportContext {
  const name = config.savingsBaseline;
  const group = name !== undefined ? config.models[name] : undefined;
  // Deployment id (provider/model@region, as the catalog names it) -> its price now.
  const prices = new Map<string, Price | undefined>();
  for (const model of Object.values(config.models)) {
    for (const d of model.deployments) prices.set(`${d.provider}/${d.model}${d.region ? `@${d.region}` : ''}`, d.price ?? model.price);
  }
  return {
    now,
    currency: { code: config.currency.code, rate: config.currency.rate },
    priceOf: (b) => (b.deployment !== null ? prices.get(b.deployment) : undefined) ?? (b.model !== null ? config.models[b.model]?.price : undefined),
    ...(name !== undefined && group ? { baseline: { name, price: group.price ?? group.deployments[0]?.price } } : {}),
  };
}
