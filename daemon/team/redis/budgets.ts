// Shared budgets: each budget's spend per period lives in Redis, in integer units. A daemon holds a
// lease on every hard budget (a part of what is left, held in Redis so no other daemon can spend it)
// and reserves each request's estimate against it locally; when the request's ledger line comes, the
// estimate is released and the real cost counted, and the lease script later adds that spend to
// Redis and renews the lease (every LEASE_MS while there is anything to do; at once when a request
// does not fit). So spend + every lease <= the limit in Redis at all times, and daemons running at
// once cannot overshoot by more than what requests cost beyond their estimates. With Redis
// unreachable the request goes on with the local verdict (the last known team spend plus this
// daemon's since), and its spend waits here until Redis answers, then is counted once (by sequence).
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

/** This daemon's part of one budget in one period. */
interface Lease {
  rule: BudgetRule;
  period: Period;
  keys: BudgetKeys;
  /** Units Redis holds for this daemon. */
  granted: number;
  /** Until when the grant is good here (Redis keeps it a little longer). */
  until: number;
  /** Estimates of requests admitted and not yet finished. */
  inflight: number;
  /** Real costs finished here and not yet counted in Redis. */
  unsent: number;
  /** A lease call whose spend Redis may or may not have counted: sent again as is until it answers. */
  sending?: { seq: number; delta: number };
  /** Admitted since the last lease call, to size the next grant. */
  admitted: number;
  /** The largest estimate seen lately. */
  estimate: number;
  /** Redis's figures at the last lease call: the team's spend and the other daemons' leases. */
  last?: { spent: number; others: number };
}

/** How often leases are renewed and spend sent while there is anything to do. */
const LEASE_MS = 50;
/** A grant is good here this long after Redis gave it; Redis keeps it HOLD_MS. */
const GRANT_MS = 5_000;
const HOLD_MS = 10_000;
/** Keys outlive their period by this much, then Redis drops them. */
const KEY_SLACK_MS = 7 * 86_400_000;
/** A request that does not fit because other daemons hold what is left waits for their leases to shrink, this often. */
const RETRIES = 3;

export class TeamBudgets implements SpendReserver {
  private rules: BudgetRule[] = [];
  private currency: DisplayCurrency = { code: 'USD', rate: 1 };
  private readonly leases = new Map<string, Lease>();
  /** Request id -> the leases its estimate is reserved on, and the estimate. */
  private readonly held = new Map<string, { leases: Lease[]; units: number }>();
  private seq = 0;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private sendingNow: Promise<boolean> | undefined;

  constructor(
    private readonly redis: TeamRedis,
    private readonly keys: TeamKeys,
    private readonly daemonId: string,
    private readonly local: Budgets,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  configure(config: ShepherdConfig): void {
    this.rules = rulesFrom(config);
    this.currency = { code: config.currency.code, rate: config.currency.rate };
    void this.refresh();
  }

  /** Spend made here that Redis does not have yet (USD). */
  unsynced(): number {
    let units = 0;
    for (const l of this.leases.values()) units += l.unsent + (l.sending?.delta ?? 0);
    return units / COST_UNITS_PER_USD;
  }

  reserve(req: SpendCheck, requestId: string, local: SpendVerdict): SpendVerdict | Promise<SpendVerdict> {
    if (local.action !== 'allow') return local;
    if (req.deployments.length > 0 && req.deployments.every((d) => d.sandbox === true)) return local;
    const subject: Subject = { group: req.group, provider: null, key: req.clientKeyId ?? null, member: req.member ?? null };
    const hard = this.rules.filter((r) => r.scope.kind !== 'provider' && isHard(r, req.group) && covers(r.scope, subject));
    if (hard.length === 0) return local;
    const now = this.now();
    const estimateUsd = preRequestEstimateUsd(req.body, req.deployments.map((d) => d.price));
    const units = Math.round(estimateUsd * COST_UNITS_PER_USD);
    const leases = hard.map((r) => this.lease(r, periodAt(r.period, r.startDay, now)));
    for (const l of leases) l.estimate = Math.max(l.estimate, units);
    if (leases.every((l) => fits(l, units, now))) return this.admit(requestId, leases, units, local);
    return this.reserveSlowly(req, requestId, leases, units, estimateUsd, local);
  }

  /** A ledger line: its estimate is released and its cost counted in every budget that covers it. */
  finished(entry: LedgerEntry): void {
    const held = this.held.get(entry.id);
    if (held) {
      this.held.delete(entry.id);
      for (const l of held.leases) l.inflight = Math.max(0, l.inflight - held.units);
    }
    const units = entry.sandbox === true || !(entry.costUsd > 0) ? 0 : Math.round(entry.costUsd * COST_UNITS_PER_USD);
    if (units === 0) return;
    const time = Date.parse(entry.time);
    const subject: Subject = { group: entry.model, provider: entry.provider, key: entry.key ?? null, member: entry.member ?? null };
    for (const rule of this.rules) {
      if (covers(rule.scope, subject)) this.lease(rule, periodAt(rule.period, rule.startDay, time)).unsent += units;
    }
    this.schedule();
  }

  /** Redis answers again: send the spend made meanwhile (each part once), then read the team's spend. */
  async reconcile(): Promise<void> {
    const waiting = this.unsynced() > 0;
    if ((await this.send()) && waiting) this.log.info('team: spend made while Redis was unreachable is counted in the team budgets');
    await this.refresh();
  }

  /** Reads every budget's team spend in its current period (other daemons spend too). */
  async refresh(): Promise<void> {
    if (this.rules.length === 0) return;
    const now = this.now();
    const periods = this.rules.map((r) => periodAt(r.period, r.startDay, now));
    const keys = this.rules.map((r, i) => this.keys.budget(r.name, periods[i].start).spent);
    const values = await this.redis.run((c) => c.mget(...keys));
    if (!values) return;
    this.rules.forEach((r, i) => {
      const l = this.leases.get(leaseKey(r, periods[i]));
      this.local.observeTeam(r.name, periods[i].start, Number(values[i] ?? 0) + (l ? l.unsent + (l.sending?.delta ?? 0) : 0));
    });
  }

  /** Whether this daemon sends the alert: the first daemon to claim it. Unreachable Redis: send (better twice than never). */
  async claimAlert(alert: BudgetAlert): Promise<boolean> {
    const key = this.keys.alert(alert.budget, Date.parse(alert.periodStart), alert.threshold);
    const reply = await this.redis.run((c) => c.set(key, '1', 'PX', 45 * 86_400_000, 'NX'));
    return reply === undefined || reply === 'OK';
  }

  /** Gives every lease back (shutdown), sending the spend not yet sent. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const l of this.leases.values()) l.estimate = 0;
    this.held.clear();
    for (const l of this.leases.values()) l.inflight = 0;
    await this.send(true);
  }

  private admit(id: string, leases: Lease[], units: number, verdict: SpendVerdict): SpendVerdict {
    for (const l of leases) {
      l.inflight += units;
      l.admitted++;
    }
    if (units > 0) this.held.set(id, { leases, units });
    this.schedule();
    return verdict;
  }

  private async reserveSlowly(req: SpendCheck, id: string, leases: Lease[], units: number, estimateUsd: number, local: SpendVerdict): Promise<SpendVerdict> {
    for (let attempt = 0; ; attempt++) {
      // A lease call under way (another request's, after an idle spell many arrive at once) may bring
      // room enough: wait for it and look again before making a call of our own.
      while (this.sendingNow) {
        await this.sendingNow;
        const now = this.now();
        if (leases.every((l) => fits(l, units, now))) return this.admit(id, leases, units, local);
      }
      const answered = await this.send(false, leases, units);
      // Unreachable: the local verdict stands (the last known team spend plus ours since).
      if (!answered) return this.admit(id, leases, units, local);
      const now = this.now();
      if (leases.every((l) => fits(l, units, now))) return this.admit(id, leases, units, local);
      const l = leases.find((x) => !fits(x, units, now)) as Lease;
      const spent = l.last?.spent ?? 0;
      // Only other daemons' leases stand in the way: they shrink within a few LEASE_MS when idle.
      if (attempt < RETRIES && spent + used(l) + units <= l.rule.limitUnits) {
        await new Promise((r) => setTimeout(r, LEASE_MS * 2));
        continue;
      }
      if (l.rule.action === 'block') return { action: 'block', block: blockVerdict(l.rule, spent + used(l) + (l.last?.others ?? 0), l.period, this.currency, estimateUsd) };
      return { action: 'downgrade', toGroup: l.rule.downgradeTo ?? req.group, reason: `budget "${l.rule.name}" is exhausted for the team` };
    }
  }

  private lease(rule: BudgetRule, period: Period): Lease {
    const key = leaseKey(rule, period);
    let l = this.leases.get(key);
    if (!l) {
      l = { rule, period, keys: this.keys.budget(rule.name, period.start), granted: 0, until: 0, inflight: 0, unsent: 0, admitted: 0, estimate: 0 };
      this.leases.set(key, l);
    }
    return l;
  }

  /** A lease call in LEASE_MS, unless one is due already; after each call, again while any lease is busy. */
  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.send();
    }, LEASE_MS);
    this.timer.unref();
  }

  /**
   * One lease call for every lease with anything to do (or `extra` leases that need `units` more):
   * spend sent, grants renewed to what the recent pace needs. One call at a time. False when Redis
   * did not answer (the spend stays to be sent again, under the same sequence).
   */
  private send(final = false, extra: Lease[] = [], units = 0): Promise<boolean> {
    if (this.sendingNow) return this.sendingNow.then(() => (extra.length > 0 || final ? this.send(final, extra, units) : true));
    this.sendingNow = (async () => {
      const now = this.now();
      const list = [...this.leases.values()].filter((l) => busy(l) || extra.includes(l));
      for (const l of list) {
        if (l.sending === undefined && l.unsent > 0) {
          l.sending = { seq: ++this.seq, delta: l.unsent };
          l.unsent = 0;
        }
      }
      if (list.length === 0) return true;
      const keys = list.flatMap((l) => [l.keys.spent, l.keys.reserved, l.keys.holds, l.keys.held, l.keys.flushed]);
      const args = list.flatMap((l) => {
        const want = final ? 0 : wanted(l, extra.includes(l) ? units : 0);
        return [l.sending?.seq ?? 0, l.sending?.delta ?? 0, want, isHard(l.rule, null) ? l.rule.limitUnits : -1];
      });
      const ttl = Math.max(...list.map((l) => l.period.end)) - now + KEY_SLACK_MS;
      const reply = await this.redis.run((c) => c.shepLease(keys.length, ...keys, this.daemonId, HOLD_MS, ttl, ...args));
      if (!reply) {
        for (const l of list) l.until = 0; // no grant is known good now
        return false;
      }
      list.forEach((l, i) => {
        l.sending = undefined;
        l.granted = Number(reply[3 * i]);
        l.until = now + GRANT_MS;
        l.admitted = 0;
        l.last = { spent: Number(reply[3 * i + 1]), others: Number(reply[3 * i + 2]) };
        this.local.observeTeam(l.rule.name, l.period.start, l.last.spent + l.unsent);
        // A past period with nothing left to send or hold is done.
        if (l.period.end <= now && !busy(l)) this.leases.delete(leaseKey(l.rule, l.period));
      });
      return true;
    })().finally(() => {
      this.sendingNow = undefined;
      if ([...this.leases.values()].some((l) => busy(l))) this.schedule();
    });
    return this.sendingNow;
  }
}

/** Held here for requests: in flight, finished but not yet counted in Redis. */
function used(l: Lease): number {
  return l.inflight + l.unsent + (l.sending?.delta ?? 0);
}

function fits(l: Lease, units: number, now: number): boolean {
  return l.until > now && used(l) + units <= l.granted;
}

/** What to ask for: what is held for requests now, plus room for the recent pace (at least 16 estimates). */
function wanted(l: Lease, units: number): number {
  if (!isHard(l.rule, null)) return 0;
  // Idle since the last call: keep only what is held, so the lease goes back to the team.
  if (l.admitted === 0 && units === 0) return used(l);
  return used(l) + units + Math.max(16, 2 * l.admitted) * l.estimate;
}

/** A lease with spend to send, or a grant to renew or give back. */
function busy(l: Lease): boolean {
  return l.unsent > 0 || l.sending !== undefined || l.inflight > 0 || l.granted > 0;
}

function leaseKey(rule: BudgetRule, period: Period): string {
  return `${rule.name}|${period.start}`;
}

/** Block and downgrade budgets refuse or redirect; an alert budget only tells. */
function isHard(rule: BudgetRule, group: string | null): boolean {
  return rule.action === 'block' || (rule.action === 'downgrade' && rule.downgradeTo !== undefined && rule.downgradeTo !== group);
}
