// Shared budgets: each budget's spend per period lives in Redis, in integer units. Before a request,
// its estimate is held against every hard budget that covers it (one script: all or none); its ledger
// line settles it (the real cost counted, the hold released); holds of a daemon that died expire.
// With Redis unreachable the request goes on with the local verdict, and the cost of every line that
// could not be settled waits here and is settled when Redis answers again: each line once (by id).
import type { BudgetAlert } from '../../../shared/budget-status';
import type { ShepherdConfig } from '../../../shared/config';
import type { LedgerEntry } from '../../../shared/ledger';
import type { DisplayCurrency } from '../../../shared/money';
import type { Logger } from '../../core/log';
import { blockVerdict, covers, rulesFrom, type BudgetRule, type Subject } from '../../spend/budget-rules';
import type { Budgets } from '../../spend/budgets';
import { COST_UNITS_PER_USD } from '../../spend/cost';
import { preRequestEstimateUsd } from '../../spend/estimate';
import type { SpendCheck, SpendReserver, SpendVerdict } from '../../spend/gate';
import { periodAt, type Period } from '../../spend/period';
import type { TeamRedis } from './connection';
import type { BudgetKeys, TeamKeys } from './keys';

/** A finished line's settle, kept until Redis has it. */
interface Settle {
  id: string;
  units: number;
  counted: { rule: BudgetRule; period: Period; keys: BudgetKeys }[];
  held: BudgetKeys[];
}

/** Keys outlive their period by this much, then Redis drops them. */
const KEY_SLACK_MS = 7 * 86_400_000;
/** How long a settled marker is kept: a settle is sent again only after a timeout, within minutes. */
const SETTLED_TTL_MS = 3_600_000;
/** Most settles kept while Redis is down; past it the oldest leave team spend (their ledger lines stay). */
const MAX_PENDING = 100_000;

export class TeamBudgets implements SpendReserver {
  private rules: BudgetRule[] = [];
  private currency: DisplayCurrency = { code: 'USD', rate: 1 };
  private holdMs = 120_000;
  /** Request id -> the budgets its estimate is held on, until its ledger line settles it. */
  private readonly held = new Map<string, BudgetKeys[]>();
  private pending: Settle[] = [];
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly redis: TeamRedis,
    private readonly keys: TeamKeys,
    private readonly local: Budgets,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  configure(config: ShepherdConfig): void {
    this.rules = rulesFrom(config);
    this.currency = { code: config.currency.code, rate: config.currency.rate };
    // A hold outlives the longest request; then it is a daemon that died mid-request.
    this.holdMs = config.upstream.totalMs + 60_000;
    void this.refresh();
  }

  /** Lines of spend not yet in Redis (while it is unreachable). */
  unsynced(): number {
    return this.pending.length;
  }

  async reserve(req: SpendCheck, requestId: string, local: SpendVerdict): Promise<SpendVerdict> {
    if (local.action !== 'allow') return local;
    if (req.deployments.length > 0 && req.deployments.every((d) => d.sandbox === true)) return local;
    const subject: Subject = { group: req.group, provider: null, key: req.clientKeyId ?? null, member: req.member ?? null };
    const hard = this.rules.filter((r) => r.scope.kind !== 'provider' && isHard(r, req.group) && covers(r.scope, subject));
    if (hard.length === 0) return local;
    const now = this.now();
    const estimateUsd = preRequestEstimateUsd(req.body, req.deployments.map((d) => d.price));
    const estimate = Math.round(estimateUsd * COST_UNITS_PER_USD);
    const periods = hard.map((r) => periodAt(r.period, r.startDay, now));
    const budgetKeys = hard.map((r, i) => this.keys.budget(r.name, periods[i].start));
    const keys = budgetKeys.flatMap((k) => [k.spent, k.reserved, k.holds, k.held]);
    const args = [requestId, estimate, this.holdMs, this.keyTtl(periods), ...hard.flatMap((r) => [r.limitUnits, r.action === 'block' ? 'b' : 'd'])];
    const reply = await this.redis.run((c) => c.shepReserve(keys.length, ...keys, ...args));
    if (reply === undefined) return local; // degraded: the local verdict (last known team spend + ours) stands
    const refused = Number(reply[0]);
    if (refused === 0) {
      if (estimate > 0) this.held.set(requestId, budgetKeys);
      hard.forEach((r, i) => this.local.observeTeam(r.name, periods[i].start, Number(reply[i + 1])));
      return local;
    }
    const rule = hard[refused - 1];
    const period = periods[refused - 1];
    const spent = Number(reply[1]);
    this.local.observeTeam(rule.name, period.start, spent);
    if (rule.action === 'block') {
      return { action: 'block', block: blockVerdict(rule, spent + Number(reply[2]), period, this.currency, estimateUsd) };
    }
    return { action: 'downgrade', toGroup: rule.downgradeTo ?? req.group, reason: `budget "${rule.name}" is exhausted for the team` };
  }

  /** A ledger line: its cost counts in every budget that covers it, and its hold (if any) is released. */
  finished(entry: LedgerEntry): void {
    const held = this.held.get(entry.id) ?? [];
    this.held.delete(entry.id);
    const units = entry.sandbox === true || !(entry.costUsd > 0) ? 0 : Math.round(entry.costUsd * COST_UNITS_PER_USD);
    const counted: Settle['counted'] = [];
    if (units > 0) {
      const time = Date.parse(entry.time);
      const subject: Subject = { group: entry.model, provider: entry.provider, key: entry.key ?? null, member: entry.member ?? null };
      for (const rule of this.rules) {
        if (!covers(rule.scope, subject)) continue;
        const period = periodAt(rule.period, rule.startDay, time);
        counted.push({ rule, period, keys: this.keys.budget(rule.name, period.start) });
      }
    }
    if (counted.length === 0 && held.length === 0) return;
    const settle: Settle = { id: entry.id, units, counted, held };
    // Behind lines still waiting, so Redis sees them in order.
    if (this.pending.length > 0) return this.keep(settle);
    void this.send(settle).then((ok) => {
      if (!ok) this.keep(settle);
    });
  }

  /** Redis answers again: settle every waiting line (each once), then read the team's spend. */
  reconcile(): Promise<void> {
    this.flushing ??= (async () => {
      try {
        while (this.pending.length > 0) {
          const next = this.pending[0];
          if (!(await this.send(next))) return;
          this.pending.shift();
        }
        if (this.redis.state === 'ok') this.log.info('team: spend made while Redis was unreachable is counted in the team budgets');
        await this.refresh();
      } finally {
        this.flushing = undefined;
      }
    })();
    return this.flushing;
  }

  /** Reads every budget's team spend in its current period (other daemons spend too). */
  async refresh(): Promise<void> {
    if (this.rules.length === 0) return;
    const now = this.now();
    const periods = this.rules.map((r) => periodAt(r.period, r.startDay, now));
    const keys = this.rules.map((r, i) => this.keys.budget(r.name, periods[i].start).spent);
    const values = await this.redis.run((c) => c.mget(...keys));
    if (!values) return;
    this.rules.forEach((r, i) => this.local.observeTeam(r.name, periods[i].start, Number(values[i] ?? 0)));
  }

  /** Whether this daemon sends the alert: the first daemon to claim it. Unreachable Redis: send (better twice than never). */
  async claimAlert(alert: BudgetAlert): Promise<boolean> {
    const key = this.keys.alert(alert.budget, Date.parse(alert.periodStart), alert.threshold);
    const reply = await this.redis.run((c) => c.set(key, '1', 'PX', 45 * 86_400_000, 'NX'));
    return reply === undefined || reply === 'OK';
  }

  private async send(s: Settle): Promise<boolean> {
    const keys = [...s.counted.map((c) => c.keys.spent), ...s.held.flatMap((k) => [k.reserved, k.holds, k.held]), this.keys.settled(s.id)];
    const ttl = this.keyTtl(s.counted.map((c) => c.period));
    const reply = await this.redis.run((c) => c.shepSettle(keys.length, ...keys, s.id, s.units, s.counted.length, ttl, SETTLED_TTL_MS));
    if (reply === undefined) return false;
    s.counted.forEach((c, i) => this.local.observeTeam(c.rule.name, c.period.start, Number(reply[i])));
    return true;
  }

  private keep(s: Settle): void {
    this.pending.push(s);
    if (this.pending.length > MAX_PENDING) {
      this.log.warn('team: too many ledger lines wait for Redis; the oldest are dropped from team spend', { dropped: 1 });
      this.pending.shift();
    }
  }

  private keyTtl(periods: readonly Period[]): number {
    const end = Math.max(this.now(), ...periods.map((p) => p.end));
    return end - this.now() + KEY_SLACK_MS;
  }
}

/** Block and downgrade budgets refuse or redirect; an alert budget only tells. */
function isHard(rule: BudgetRule, group: string): boolean {
  return rule.action === 'block' || (rule.action === 'downgrade' && rule.downgradeTo !== undefined && rule.downgradeTo !== group);
}
