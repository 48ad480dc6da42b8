// A circuit breaker for one deployment: closed (traffic flows), open (ejected: no traffic until the
// open time passes), half-open (a few trial requests decide). Pure: the caller passes the time in, so
// every transition is unit-tested with a fake clock.
import type { BreakerConfig } from '../../shared/routing-config';

import type { CircuitState } from '../routing/health-view';

export type { CircuitState };

export interface Transition {
  from: CircuitState;
  to: CircuitState;
  reason: string;
}

export type Admission = { ok: true; trial: boolean } | { ok: false; retryAt: number; reason: string };

export class Breaker {
  private current: CircuitState = 'closed';
  private openUntil = 0;
  /** Consecutive trips without a close in between; each one doubles the open time. */
  private trips = 0;
  private trialsInFlight = 0;
  private trialSuccesses = 0;

  constructor(private config: BreakerConfig) {}

  reconfigure(config: BreakerConfig): void {
    this.config = config;
  }

  /** The state at `now`; an open circuit whose time is up reads as half-open. */
  state(now: number): CircuitState {
    return this.current === 'open' && now >= this.openUntil ? 'half-open' : this.current;
  }

  /** When an open circuit lets trial traffic through again. */
  retryAt(): number | undefined {
    return this.current === 'open' ? this.openUntil : undefined;
  }

  /** Applies a lazy open -> half-open move, returning it so the caller can report it. */
  tick(now: number): Transition | undefined {
    if (this.current === 'open' && now >= this.openUntil) {
      this.current = 'half-open';
      this.trialsInFlight = 0;
      this.trialSuccesses = 0;
      return { from: 'open', to: 'half-open', reason: 'open time elapsed; allowing trial requests' };
    }
    return undefined;
  }

  /** May a request go through now? A half-open circuit admits at most halfOpenMax trials at once. */
  admit(now: number): Admission {
    this.tick(now);
    if (this.current === 'closed') return { ok: true, trial: false };
    if (this.current === 'open') return { ok: false, retryAt: this.openUntil, reason: 'circuit open' };
    if (this.trialsInFlight >= this.config.halfOpenMax) {
      return { ok: false, retryAt: now, reason: 'circuit half-open; trial slots taken' };
    }
    this.trialsInFlight++;
    return { ok: true, trial: true };
  }

  /** A trial admitted by admit() ended without an outcome (cancelled by the client): free its slot. */
  release(trial: boolean): void {
    if (trial && this.trialsInFlight > 0) this.trialsInFlight--;
  }

  onSuccess(trial: boolean): Transition | undefined {
    this.release(trial);
    if (this.current !== 'half-open') return undefined;
    this.trialSuccesses++;
    if (this.trialSuccesses < this.config.successThreshold) return undefined;
    this.current = 'closed';
    this.trips = 0;
    return { from: 'half-open', to: 'closed', reason: `${this.trialSuccesses} trial request(s) succeeded` };
  }

  /**
   * A failure that counts against the deployment. `tripReason` is set by the caller when the
   * closed-state thresholds (consecutive failures, error rate) are crossed.
   */
  onFailure(now: number, trial: boolean, tripReason: string | undefined): Transition | undefined {
    this.release(trial);
    const from = this.state(now);
    if (from === 'open') return undefined;
    if (from === 'half-open') return this.trip(now, 'half-open', 'a trial request failed');
    if (tripReason !== undefined) return this.trip(now, 'closed', tripReason);
    return undefined;
  }

  /** An active probe answered while the circuit is open: allow trial traffic now rather than later. */
  probeSucceeded(now: number): Transition | undefined {
    if (this.state(now) !== 'open') return undefined;
    this.current = 'half-open';
    this.trialsInFlight = 0;
    this.trialSuccesses = 0;
    return { from: 'open', to: 'half-open', reason: 'health probe succeeded' };
  }

  /**
   * Another daemon of the team opened its circuit: eject until `until` (its cooldown, no longer) if this
   * circuit is closed. No trip is counted: this daemon's own back-off grows only from its own failures,
   * and recovery is confirmed by its own half-open trial when the time is up.
   */
  eject(now: number, until: number, reason: string): Transition | undefined {
    if (this.state(now) !== 'closed' || until <= now) return undefined;
    this.current = 'open';
    this.openUntil = until;
    return { from: 'closed', to: 'open', reason };
  }

  private trip(now: number, from: CircuitState, reason: string): Transition {
    const openMs = Math.min(this.config.maxOpenMs, this.config.openMs * 2 ** this.trips);
    this.trips++;
    this.current = 'open';
    this.openUntil = now + openMs;
    return { from, to: 'open', reason: `${reason}; open for ${openMs} ms` };
  }
}
