// What routing decisions read of health on every request. The planner is pure: health/board.ts
// implements this view, tests pass a fake, and routing never imports health.

export type HealthState = 'unknown' | 'healthy' | 'degraded' | 'unhealthy';
export type CircuitState = 'closed' | 'open' | 'half-open';

/** One deployment's signals at one moment: cheap to produce (no sorting, no date formatting). */
export interface DeploymentSignals {
  id: string;
  state: HealthState;
  circuit: CircuitState;
  /** When an open circuit admits trial traffic again (epoch ms). */
  circuitRetryAt: number | undefined;
  inflight: number;
  /** Recency-weighted time to first byte, ms. */
  latencyMs: number | undefined;
  errorRate: number;
  consecutiveFailures: number;
  lastError: string | undefined;
  /** Set while the provider rejects this deployment's key (401/403): why, as the upstream said. */
  keyRejected?: string;
}

export interface HealthView {
  get(id: string): DeploymentSignals;
  /** Milliseconds until this deployment's rate limits admit a request of `tokens` estimated tokens. */
  rateWaitMs(id: string, tokens: number): number;
}
