// Budgets at run time: each budget's spend in its current period, kept up to date from the ledger
// (replayed, then every finished request), alerts when a threshold is crossed (once per budget,
// threshold and period), and the SpendGate verdict before every request. Sandbox entries never count. No I/O: persistence of the
// fired alerts is behind FiredSet, and the check is O(number of budgets).
import type { BudgetAlert, BudgetStatus } from '../../shared/budget-status';
import type { ShepherdConfig } from '../../shared/config';
import type { LedgerEntry } from '../../shared/ledger';
import { blockVerdict, covers, crossedThresholds, rulesFrom, scopeText, stateOf, usedRatio, type BudgetRule, type Subject } from './budget-rules';
import { COST_UNITS_PER_USD } from './cost';
import { preRequestEstimateUsd } from './estimate';
import type { SpendCheck, SpendGate, SpendVerdict } from './gate';
import { USD, type DisplayCurrency } from '../../shared/money';
import { dayOf, periodAt, projectSpend, type Period } from './period';
import { SpendIndex, type Bucket } from './spend-index';
import { CascadeStats } from './cascade-stats';

/** Which (budget, period, threshold) alerts have fired; the daemon persists it across restarts. */
export interface FiredSet {
  has(id: string): boolean;
  add(id: string): void;
  /** Forget alerts of periods that are over (ids not kept by `keep`). */
  retain(keep: (id: string) => boolean): void;
}

export function memoryFiredSet(): FiredSet {
  const ids = new Set<string>();
  return {
    has: (id) => ids.has(id),
    add: (id) => void ids.add(id),
    retain: (keep) => {
      for (const id of ids) if (!keep(id)) ids.delete(id);
    },
  };
}

export interface BudgetsOptions {
  now?: () => number;
  fired?: FiredSet;
  onAlert?: (alert: BudgetAlert) => void;
}

interface Live {
  rule: BudgetRule;
  period: Period;
  /** This daemon's own spend (from its ledger). */
  spentUnits: number;
  /** Team mode: the team's spend last read from Redis, and spentUnits at that moment. */
  team?: { units: number; localAt: number };
}

/** What a budget has spent: in team mode the team's last known spend plus this daemon's since. */
function spentOf(l: Live): number {
  return l.team ? l.team.units + (l.spentUnits - l.team.localAt) : l.spentUnits;
}

export class Budgets implements SpendGate {
  /** Cascade figures by day (escalations, checks, saving), from the entries added since start. */
  readonly cascade = new CascadeStats();
  private live: Live[] = [];
  private currency: DisplayCurrency = USD;
  private readonly now: () => number;
  private readonly fired: FiredSet;
  private readonly onAlert: (alert: BudgetAlert) => void;

  constructor(
    /** Spend by day; Budgets feeds it every entry it is given. */
    readonly index: SpendIndex = new SpendIndex(),
    options: BudgetsOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.fired = options.fired ?? memoryFiredSet();
    this.onAlert = options.onAlert ?? (() => {});
  }

  /**
   * (Re)reads the budgets from the config: spend per budget is recomputed from the index, and any
   * threshold already crossed but not yet alerted (a restart, a lowered limit) fires now.
   */
  configure(config: ShepherdConfig): void {
    this.currency = { code: config.currency.code, rate: config.currency.rate };
    const now = this.now();
    this.live = rulesFrom(config).map((rule) => this.start(rule, now));
    const current = new Set(this.live.map((l) => firedPrefix(l)));
    this.fired.retain((id) => current.has(id.slice(0, id.lastIndexOf('|') + 1)));
    for (const l of this.live) this.alertCrossed(l, now);
  }

  /** Counts a ledger entry (replayed or new). Replayed entries should come before configure(). */
  add(entry: LedgerEntry): void {
    const now = this.now();
    this.roll(now);
    this.index.add(entry);
    this.cascade.add(entry);
    // Sandbox answers are simulated: their cost at the group's prices is no money spent.
    if (this.live.length === 0 || entry.costUsd <= 0 || entry.sandbox === true) return;
    const time = Date.parse(entry.time);
    const units = Math.round(entry.costUsd * COST_UNITS_PER_USD);
    const subject: Subject = { group: entry.model, provider: entry.provider, key: entry.key ?? null, member: entry.member ?? null };
    for (const l of this.live) {
      if (time < l.period.start || time >= l.period.end || !covers(l.rule.scope, subject)) continue;
      l.spentUnits += units;
      this.alertCrossed(l, now);
    }
  }

  /**
   * Counts spend replayed as a whole: a closed month's summary, an open month restored from its
   * checkpoint. Like replayed entries, it should come before configure(); after it, spend per budget
   * is recomputed from the index so it is counted either way.
   */
  addBuckets(buckets: Iterable<Bucket>): void {
    for (const b of buckets) this.index.addBucket(b);
    if (this.live.length === 0) return;
    const now = this.now();
    this.live = this.live.map((l) => this.start(l.rule, now));
    for (const l of this.live) this.alertCrossed(l, now);
  }

  check(req: SpendCheck): SpendVerdict {
    if (this.live.length === 0) return { action: 'allow' };
    // Only the sandbox would answer: simulated spend, which no budget counts, so none may refuse it.
    if (req.deployments.length > 0 && req.deployments.every((d) => d.sandbox === true)) return { action: 'allow' };
    const now = this.now();
    this.roll(now);
    const subject: Subject = { group: req.group, provider: null, key: req.clientKeyId ?? null, member: req.member ?? null };
    let estimate: number | undefined; // USD, computed only when a blocking budget needs it
    const estimateFor = (prices: SpendCheck['deployments']) => (estimate ??= preRequestEstimateUsd(req.body, prices.map((d) => d.price)));
    let downgrade: { to: string; rule: BudgetRule } | undefined;
    let skip: Map<string, string> | undefined;
    let firstSkipper: Live | undefined;
    for (const l of this.live) {
      const { rule } = l;
      if (rule.action === 'alert') continue;
      const spent = spentOf(l);
      const exhausted = spent >= rule.limitUnits;
      if (rule.scope.kind === 'provider') {
        const mine = req.deployments.filter((d) => d.providerName === rule.scope.value);
        if (mine.length === 0) continue;
        if (!exhausted && !(rule.action === 'block' && this.wouldOvershoot(l, estimateFor(mine)))) continue;
        skip ??= new Map();
        for (const d of mine) skip.set(d.id, `over budget "${rule.name}"`);
        firstSkipper ??= l;
        continue;
      }
      if (!covers(rule.scope, subject)) continue;
      if (rule.action === 'block') {
        if (exhausted || this.wouldOvershoot(l, estimateFor(req.deployments))) {
          return { action: 'block', block: blockVerdict(rule, spent, l.period, this.currency, estimate) };
        }
      } else if (exhausted && rule.downgradeTo !== undefined && rule.downgradeTo !== req.group) {
        downgrade ??= { to: rule.downgradeTo, rule };
      }
    }
    if (downgrade) return { action: 'downgrade', toGroup: downgrade.to, reason: `budget "${downgrade.rule.name}"${scopeText(downgrade.rule.scope)} is exhausted` };
    if (!skip || !firstSkipper) return { action: 'allow' };
    if (req.deployments.some((d) => !skip.has(d.id))) return { action: 'allow', skip };
    // Every deployment of the plan is over a provider budget: nothing is left to try.
    const { rule } = firstSkipper;
    if (rule.action === 'downgrade' && rule.downgradeTo !== undefined && rule.downgradeTo !== req.group) {
      return { action: 'downgrade', toGroup: rule.downgradeTo, reason: `budget "${rule.name}"${scopeText(rule.scope)} is exhausted` };
    }
    return { action: 'block', block: blockVerdict(rule, spentOf(firstSkipper), firstSkipper.period, this.currency, estimate) };
  }

  statuses(): BudgetStatus[] {
    const now = this.now();
    this.roll(now);
    return this.live.map((l) => {
      const { rule, period } = l;
      const spentUnits = spentOf(l);
      const spentUsd = spentUnits / COST_UNITS_PER_USD;
      return {
        name: rule.name,
        scope: rule.scope,
        period: rule.period,
        limitUsd: rule.limitUsd,
        spentUsd,
        remainingUsd: (rule.limitUnits - spentUnits) / COST_UNITS_PER_USD,
        projectedUsd: projectSpend(spentUsd, period, now),
        usedRatio: usedRatio(spentUnits, rule.limitUnits),
        periodStart: new Date(period.start).toISOString(),
        resetsAt: new Date(period.end).toISOString(),
        state: stateOf(rule, spentUnits),
        action: rule.action,
        thresholdsHit: crossedThresholds(rule.thresholds, spentUnits, rule.limitUnits),
      };
    });
  }

  /**
   * Team mode: the team's spend on budget `name` in the period starting at `periodStart`, as Redis
   * has it now. From here on the budget counts it plus this daemon's spend since (so a Redis outage
   * goes on from the last known figure); alerts it crosses fire (the service makes them once per team).
   */
  observeTeam(name: string, periodStart: number, units: number): void {
    const l = this.live.find((x) => x.rule.name === name && x.period.start === periodStart);
    if (!l) return;
    l.team = { units, localAt: l.spentUnits };
    this.alertCrossed(l, this.now());
  }

  displayCurrency(): DisplayCurrency {
    return this.currency;
  }

  /** A request estimated at `estimateUsd` would take a hard budget past its limit. */
  private wouldOvershoot(l: Live, estimateUsd: number): boolean {
    return spentOf(l) + Math.round(estimateUsd * COST_UNITS_PER_USD) > l.rule.limitUnits;
  }

  private start(rule: BudgetRule, now: number): Live {
    const period = periodAt(rule.period, rule.startDay, now);
    const first = dayOf(period.start);
    const last = dayOf(period.end - 1);
    let spentUnits = 0;
    for (const b of this.index.between(first, last)) {
      if (b.sandbox) continue;
      if (covers(rule.scope, { group: b.model, provider: b.provider, key: b.key, member: b.member ?? null })) spentUnits += b.units;
    }
    return { rule, period, spentUnits };
  }

  /** A period that has ended starts the next one (spend from the index: usually zero). */
  private roll(now: number): void {
    for (let i = 0; i < this.live.length; i++) {
      if (now >= this.live[i].period.end) {
        this.live[i] = this.start(this.live[i].rule, now);
        this.alertCrossed(this.live[i], now);
      }
    }
  }

  private alertCrossed(l: Live, now: number): void {
    const spentUnits = spentOf(l);
    for (const threshold of crossedThresholds(l.rule.thresholds, spentUnits, l.rule.limitUnits)) {
      const id = `${firedPrefix(l)}${threshold}`;
      if (this.fired.has(id)) continue;
      this.fired.add(id);
      this.onAlert({
        budget: l.rule.name,
        scope: l.rule.scope,
        threshold,
        spentUsd: spentUnits / COST_UNITS_PER_USD,
        limitUsd: l.rule.limitUsd,
        periodStart: new Date(l.period.start).toISOString(),
        action: l.rule.action,
        at: new Date(now).toISOString(),
      });
    }
  }
}

/** Alert ids are "<budget>|<period start>|<threshold>". */
function firedPrefix(l: Live): string {
  return `${l.rule.name}|${new Date(l.period.start).toISOString()}|`;
}
