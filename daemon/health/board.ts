// Health of every deployment: passive observation of real requests (a rolling window, EWMA latency,
// consecutive failures), active probe results, the circuit breaker and the rate limiter. The relay
// reports outcomes here; the planner reads a snapshot. State changes become events and incidents.
import type { DeploymentStateChange } from '../core/events';
import { isKeyRejection, type UpstreamFailure } from '../core/failure';
import type { Catalog, Deployment } from '../routing/catalog';
import type { DeploymentSignals, HealthState, HealthView } from '../routing/health-view';
import type { HealthConfig } from '../../shared/routing-config';
import { Breaker, type Admission, type Transition } from './breaker';
import { IncidentLog, type Incident } from './incidents';
import { RateLimiter, type RateLimits } from './rate-limit';
import type { FirstByteFigures, RequestKind } from '../routing/timing';
import { FirstByteWindow } from './first-byte';
import { OutcomeWindow } from './window';

/** Times to first byte kept per deployment and kind: enough for a p99 that means something. */
const FIRST_BYTE_SAMPLES = 100;


/** A deployment this daemon ejected on its own evidence (team mode tells the other daemons). */
export interface LocalEjection {
  deployment: string;
  /** An opened circuit, or a 429 with Retry-After. */
  kind: 'circuit' | 'rate_limit';
  /** How long it is out from now. */
  ms: number;
  reason: string;
}

/** A hint from another daemon is ignored for a deployment this daemon saw succeed this recently. */
export const HINT_IGNORED_AFTER_SUCCESS_MS = 2_000;
/** A rate-limit hint holds a deployment for at most this long, whatever Retry-After said. */
const MAX_HINT_HOLD_MS = 60_000;

/** begin()'s answer: go (as a half-open trial or not, with the tokens charged to the tpm bucket), or skip. */
export type Ticket = { ok: true; trial: boolean; charged: number } | Extract<Admission, { ok: false }>;

/** What the status report sees of one deployment at one moment: the routing signals and more. */
export interface DeploymentHealth extends DeploymentSignals {
  p50Ms: number | undefined;
  requests: number;
  failures: number;
  lastLatencyMs: number | undefined;
  lastSuccessAt: string | undefined;
  lastFailureAt: string | undefined;
  lastProbe: { at: string; ok: boolean; error?: string } | undefined;
}

class Entry {
  readonly window: OutcomeWindow;
  readonly breaker: Breaker;
  limiter: RateLimiter;
  limitsKey: string;
  inflight = 0;
  consecutiveFailures = 0;
  requests = 0;
  failures = 0;
  lastLatencyMs: number | undefined;
  lastSuccessAt: number | undefined;
  lastFailureAt: number | undefined;
  lastError: string | undefined;
  lastProbe: { at: number; ok: boolean; error?: string } | undefined;
  /** Times to first byte, per kind of request, for the adaptive deadline and hedging. */
  readonly firstByte = { stream: new FirstByteWindow(FIRST_BYTE_SAMPLES), whole: new FirstByteWindow(FIRST_BYTE_SAMPLES) };
  /** The provider refused this deployment's key: until when it stays out of plans, and what it said. */
  keyRejected: { until: number; message: string } | undefined;
  /** Last reported state, to emit changes only. */
  reported: HealthState = 'unknown';

  constructor(
    public deployment: Deployment,
    health: HealthConfig,
    now: number,
    share: number,
  ) {
    this.window = new OutcomeWindow(health.window, health.latencyHalfLife);
    this.breaker = new Breaker(deployment.breaker);
    this.limiter = new RateLimiter(limitsAt(deployment, share), now);
    this.limitsKey = limitsKey(deployment, share);
  }
}

export class HealthBoard implements HealthView {
  private readonly entries = new Map<string, Entry>();
  private health: HealthConfig;
  readonly incidents = new IncidentLog();
  /** The part of each deployment's rpm/tpm this daemon may use alone (team mode with the team's limiter unreachable). */
  private limitShare = 1;
  private ejected: ((e: LocalEjection) => void) | undefined;

  constructor(
    catalog: Catalog,
    private readonly onChange: (change: DeploymentStateChange) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {
    this.health = catalog.routing.health;
    this.configure(catalog);
  }

  /** Adopts a new catalog (config reload): keeps what was learnt about deployments that remain. */
  configure(catalog: Catalog): void {
    this.health = catalog.routing.health;
    const seen = new Set<string>();
    const now = this.now();
    for (const group of catalog.groups.values()) {
      for (const d of group.deployments) {
        seen.add(d.id);
        const e = this.entries.get(d.id);
        if (!e) {
          this.entries.set(d.id, new Entry(d, this.health, now, this.limitShare));
          continue;
        }
        if (d.apiKey !== e.deployment.apiKey) e.keyRejected = undefined; // a new key deserves a try
        e.deployment = d;
        e.window.resize(this.health.window, this.health.latencyHalfLife);
        e.breaker.reconfigure(d.breaker);
        if (limitsKey(d, this.limitShare) !== e.limitsKey) {
          e.limiter = new RateLimiter(limitsAt(d, this.limitShare), now);
          e.limitsKey = limitsKey(d, this.limitShare);
        }
      }
    }
    for (const id of this.entries.keys()) {
      if (seen.has(id)) continue;
      this.entries.delete(id);
      this.incidents.ended(id, now, 'removed from the config');
    }
  }

  /** Team mode: hear of deployments this daemon ejects on its own evidence (never of hints). */
  onLocalEjection(listener: (e: LocalEjection) => void): void {
    this.ejected = listener;
  }

  /**
   * Team mode: another daemon ejected this deployment. A hint only ejects a closed circuit, for the
   * sender's cooldown and no longer, and is ignored when this daemon just saw the deployment succeed;
   * recovery is this daemon's own half-open trial. Returns whether it took effect.
   */
  hint(id: string, kind: LocalEjection['kind'], ms: number, reason: string): boolean {
    const e = this.entries.get(id);
    if (!e || !(ms > 0)) return false;
    const now = this.now();
    if (e.lastSuccessAt !== undefined && now - e.lastSuccessAt < HINT_IGNORED_AFTER_SUCCESS_MS) return false;
    if (kind === 'rate_limit') {
      e.limiter.hold(now, Math.min(ms, MAX_HINT_HOLD_MS));
      return true;
    }
    const t = e.breaker.eject(now, now + Math.min(ms, e.deployment.breaker.maxOpenMs), `another daemon of the team: ${reason}`);
    if (!t) return false;
    this.settle(e, now, t);
    return true;
  }

  /** Team mode: the team's limiter says wait `ms` before the next request here. */
  holdFor(id: string, ms: number): void {
    this.entries.get(id)?.limiter.hold(this.now(), ms);
  }

  /**
   * Team mode: this daemon's part of every rpm/tpm (1 while the team's limiter is reachable, 1/n of
   * the team's n live daemons while it is not). The buckets restart full at the new size.
   */
  setLimitShare(share: number): void {
    const next = Math.min(1, Math.max(share, 0.001));
    if (next === this.limitShare) return;
    this.limitShare = next;
    const now = this.now();
    for (const e of this.entries.values()) {
      const blocked = e.limiter.blockedUntilMs();
      e.limiter = new RateLimiter(limitsAt(e.deployment, next), now);
      if (blocked > now) e.limiter.hold(now, blocked - now);
      e.limitsKey = limitsKey(e.deployment, next);
    }
  }

  ids(): string[] {
    return [...this.entries.keys()];
  }

  deployment(id: string): Deployment | undefined {
    return this.entries.get(id)?.deployment;
  }

  get(id: string): DeploymentSignals {
    const e = this.entries.get(id);
    if (!e) return blankHealth(id);
    const now = this.now();
    return {
      id,
      state: this.stateOf(e, now),
      circuit: e.breaker.state(now),
      circuitRetryAt: e.breaker.retryAt(),
      inflight: e.inflight,
      latencyMs: e.window.latencyEwma(),
      errorRate: e.window.errorRate(),
      consecutiveFailures: e.consecutiveFailures,
      lastError: e.lastError,
      ...(e.keyRejected && e.keyRejected.until > now ? { keyRejected: e.keyRejected.message } : {}),
    };
  }

  /** Everything known about a deployment, for the status report and the extension. */
  report(id: string): DeploymentHealth {
    const e = this.entries.get(id);
    if (!e) return blankHealth(id);
    const signals = this.get(id);
    return {
      ...signals,
      latencyMs: round(signals.latencyMs),
      p50Ms: round(e.window.percentile(0.5)),
      requests: e.requests,
      failures: e.failures,
      lastLatencyMs: round(e.lastLatencyMs),
      lastSuccessAt: iso(e.lastSuccessAt),
      lastFailureAt: iso(e.lastFailureAt),
      lastProbe: e.lastProbe ? { ...e.lastProbe, at: new Date(e.lastProbe.at).toISOString() } : undefined,
    };
  }

  /** Recent times to first byte of one kind of request (empty for an unknown deployment). */
  firstByteFigures(id: string, kind: RequestKind): FirstByteFigures {
    return this.entries.get(id)?.firstByte[kind] ?? NO_FIGURES;
  }

  /** When real traffic last succeeded here (epoch ms). */
  lastSuccess(id: string): number | undefined {
    return this.entries.get(id)?.lastSuccessAt;
  }

  rateWaitMs(id: string, tokens: number): number {
    return this.entries.get(id)?.limiter.waitFor(this.now(), tokens) ?? 0;
  }

  /**
   * Before an attempt: asks the breaker and takes from the rate limiter. A refusal means "skip this
   * deployment now" and is not a failure. `panic` (the planner's panic rule) goes past an open circuit.
   */
  begin(id: string, tokens: number, panic = false): Ticket {
    const e = this.entries.get(id);
    if (!e) return { ok: true, trial: false, charged: 0 };
    const now = this.now();
    this.settle(e, now, e.breaker.tick(now));
    let admission = e.breaker.admit(now);
    if (!admission.ok && panic) admission = { ok: true, trial: false };
    if (!admission.ok) return admission;
    const charged = e.limiter.take(now, tokens);
    e.inflight++;
    return { ok: true, trial: admission.trial, charged };
  }

  /** The attempt answered (first byte arrived and the answer completed). */
  /** `tokens`: what begin() charged and what the upstream reported using, to square the tpm bucket. */
  success(id: string, trial: boolean, ttfbMs: number, tokens?: { charged: number; actual: number }, kind?: RequestKind): void {
    const e = this.entries.get(id);
    if (!e) return;
    const now = this.now();
    e.inflight = Math.max(0, e.inflight - 1);
    e.requests++;
    e.consecutiveFailures = 0;
    e.keyRejected = undefined;
    e.lastLatencyMs = ttfbMs;
    if (kind) e.firstByte[kind].push(ttfbMs);
    e.lastSuccessAt = now;
    if (tokens) e.limiter.settle(now, tokens.charged, tokens.actual);
    // A panic attempt that succeeds while the circuit is open is as good as a probe: let trial
    // traffic back in. (A trial that finishes after another trial reopened the circuit changes nothing.)
    const open = e.breaker.state(now) === 'open';
    const t = open && !trial ? e.breaker.probeSucceeded(now) : e.breaker.onSuccess(trial);
    // A recovered deployment starts with a clean slate: the errors that ejected it must not re-trip it.
    if (t?.to === 'closed') e.window.forgetOutcomes();
    e.window.push(true, ttfbMs);
    this.settle(e, now, t);
  }

  /**
   * The attempt failed. Outages (network errors, timeouts, 5xx) count against the deployment; a 429
   * holds it in the rate limiter instead; a rejected key (401, 403) marks it as unable to serve anyone
   * until its key changes, which is no outage; the client's own errors (400, 404, 422...) and
   * cancellations count for nothing.
   */
  failure(id: string, trial: boolean, failure: UpstreamFailure): void {
    const e = this.entries.get(id);
    if (!e) return;
    const now = this.now();
    e.inflight = Math.max(0, e.inflight - 1);
    if (failure.class === 'rate_limit') {
      e.limiter.rateLimited(now, failure.retryAfterMs);
      if (failure.retryAfterMs !== undefined && failure.retryAfterMs > 0) {
        this.ejected?.({ deployment: id, kind: 'rate_limit', ms: failure.retryAfterMs, reason: `429 with Retry-After ${Math.ceil(failure.retryAfterMs / 1000)} s` });
      }
      e.breaker.release(trial);
      e.lastError = failure.message;
      e.lastFailureAt = now;
      return;
    }
    if (isKeyRejection(failure)) {
      // Counted in the tallies, but it marks the deployment rather than feeding the breaker: no outage.
      e.requests++;
      e.failures++;
      e.breaker.release(trial);
      e.keyRejected = { until: now + this.health.keyRejectedMs, message: `HTTP ${failure.status}: ${failure.message}` };
      e.lastError = `key rejected: ${failure.message}`;
      e.lastFailureAt = now;
      this.settle(e, now, undefined);
      return;
    }
    if (!countsAgainst(failure)) {
      e.breaker.release(trial);
      return;
    }
    e.requests++;
    e.failures++;
    e.consecutiveFailures++;
    e.lastFailureAt = now;
    e.lastError = failure.message;
    e.window.push(false);
    const t = e.breaker.onFailure(now, trial, this.tripReason(e));
    this.settle(e, now, t);
    this.tellEjected(e, now, t);
  }

  /** The attempt ended without an outcome (client cancelled, shutdown): free its slot. */
  abandon(id: string, trial: boolean): void {
    const e = this.entries.get(id);
    if (!e) return;
    e.inflight = Math.max(0, e.inflight - 1);
    e.breaker.release(trial);
  }

  /** An active probe's result. Success reopens an ejected deployment to trial traffic; failures count. */
  probe(id: string, ok: boolean, error?: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    const now = this.now();
    e.lastProbe = { at: now, ok, ...(error ? { error } : {}) };
    if (ok) {
      e.consecutiveFailures = 0;
      e.keyRejected = undefined;
      this.settle(e, now, e.breaker.probeSucceeded(now));
      return;
    }
    e.consecutiveFailures++;
    e.lastError = `health probe: ${error ?? 'failed'}`;
    e.lastFailureAt = now;
    const t = e.breaker.onFailure(now, false, this.tripReason(e));
    this.settle(e, now, t);
    this.tellEjected(e, now, t);
  }

  private tellEjected(e: Entry, now: number, t: Transition | undefined): void {
    const until = e.breaker.retryAt();
    if (t?.to !== 'open' || until === undefined || !this.ejected) return;
    this.ejected({ deployment: e.deployment.id, kind: 'circuit', ms: until - now, reason: t.reason });
  }

  /** Moves lazily expired open circuits to half-open so their change is reported on time. */
  tick(): void {
    const now = this.now();
    for (const e of this.entries.values()) this.settle(e, now, e.breaker.tick(now));
  }

  /** When the next open circuit expires, for a timer; undefined when none is open. */
  nextCircuitChange(): number | undefined {
    let next: number | undefined;
    for (const e of this.entries.values()) {
      const at = e.breaker.retryAt();
      if (at !== undefined && (next === undefined || at < next)) next = at;
    }
    return next;
  }

  incidentsList(limit?: number): Incident[] {
    return this.incidents.list(this.now(), limit);
  }

  private tripReason(e: Entry): string | undefined {
    const cfg = e.deployment.breaker;
    if (e.consecutiveFailures >= cfg.failureThreshold) return `${e.consecutiveFailures} consecutive failures`;
    const rate = e.window.errorRate();
    if (e.window.count() >= cfg.minRequests && rate >= cfg.errorRate) {
      return `error rate ${Math.round(rate * 100)}% over the last ${e.window.count()} outcomes`;
    }
    return undefined;
  }

  private stateOf(e: Entry, now: number): HealthState {
    if (e.keyRejected && e.keyRejected.until > now) return 'unhealthy';
    if (e.breaker.state(now) !== 'closed') return 'unhealthy';
    if (e.window.count() === 0) return e.lastProbe?.ok ? 'healthy' : 'unknown';
    const latency = e.window.latencyEwma();
    const rate = e.window.errorRate();
    if (rate > 0 && rate >= this.health.degradedErrorRate) return 'degraded';
    if (latency !== undefined && latency > this.health.slowMs) return 'degraded';
    return 'healthy';
  }

  /** Reports a state change (and opens or closes an incident) after an outcome. */
  private settle(e: Entry, now: number, transition: Transition | undefined): void {
    const state = this.stateOf(e, now);
    const id = e.deployment.id;
    if (transition?.to === 'open') this.incidents.started(id, e.deployment.group, now, transition.reason);
    if (transition?.to === 'closed') this.incidents.ended(id, now, transition.reason);
    if (state === e.reported && !transition) return;
    const from = e.reported;
    e.reported = state;
    this.onChange({
      deployment: id,
      group: e.deployment.group,
      from,
      to: state,
      circuit: e.breaker.state(now),
      reason: transition ? `circuit ${transition.from} -> ${transition.to}: ${transition.reason}` : reasonFor(state, e, this.health.degradedErrorRate),
      at: new Date(now).toISOString(),
      keyRejected: e.keyRejected && e.keyRejected.until > now ? e.keyRejected.message : null,
    });
  }
}

/** Outages count; the client's own mistakes and cancellations do not. */
function countsAgainst(f: UpstreamFailure): boolean {
  // A rejected key (class 'key') is handled before this: it marks the deployment, it is no outage.
  return f.class === 'outage';
}

function reasonFor(state: HealthState, e: Entry, degradedErrorRate: number): string {
  if (state === 'degraded') {
    const rate = e.window.errorRate();
    return rate > 0 && rate >= degradedErrorRate
      ? `error rate ${Math.round(rate * 100)}% over the last ${e.window.count()} outcomes`
      : `slow: first-byte latency ${Math.round(e.window.latencyEwma() ?? 0)} ms is above health.slowMs`;
  }
  if (state === 'unhealthy' && e.keyRejected) return `the provider rejected its key (${e.keyRejected.message})`;
  if (state === 'healthy') return e.window.count() === 0 ? 'health probe succeeded' : 'requests succeeding';
  return state;
}

function limitsKey(d: Deployment, share: number): string {
  return `${d.rpm ?? ''}/${d.tpm ?? ''}/${d.burst ?? ''}/${share}`;
}

/** A deployment's limits at `share` of their size (at least one request or token per minute). */
function limitsAt(d: Deployment, share: number): RateLimits {
  if (share === 1) return d;
  const part = (n: number | undefined) => (n === undefined ? undefined : Math.max(1, Math.floor(n * share)));
  return { rpm: part(d.rpm), tpm: part(d.tpm), burst: part(d.burst) };
}

/** A deployment nothing is known about yet. */
export function blankHealth(id: string): DeploymentHealth {
  return {
    id,
    state: 'unknown',
    circuit: 'closed',
    circuitRetryAt: undefined,
    inflight: 0,
    latencyMs: undefined,
    p50Ms: undefined,
    errorRate: 0,
    consecutiveFailures: 0,
    requests: 0,
    failures: 0,
    lastLatencyMs: undefined,
    lastSuccessAt: undefined,
    lastFailureAt: undefined,
    lastError: undefined,
    lastProbe: undefined,
  };
}

function round(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : Math.round(ms * 10) / 10;
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

const NO_FIGURES: FirstByteFigures = { samples: 0, quantile: () => undefined };
