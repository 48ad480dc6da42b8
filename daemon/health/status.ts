// Last-known state of each deployment, from the outcomes of real requests (passive observation).
// The health issue grows this into rolling windows, probes and circuit breakers.

export type DeploymentState = 'unknown' | 'healthy' | 'failing';

export interface DeploymentStatus {
  id: string;
  state: DeploymentState;
  requests: number;
  failures: number;
  consecutiveFailures: number;
  lastLatencyMs: number | undefined;
  lastSuccessAt: string | undefined;
  lastFailureAt: string | undefined;
  lastError: string | undefined;
}

export class StatusBoard {
  private readonly byId = new Map<string, DeploymentStatus>();

  recordSuccess(id: string, latencyMs: number, at: Date): void {
    const s = this.entry(id);
    s.requests++;
    s.consecutiveFailures = 0;
    s.state = 'healthy';
    s.lastLatencyMs = Math.round(latencyMs);
    s.lastSuccessAt = at.toISOString();
  }

  recordFailure(id: string, error: string, at: Date): void {
    const s = this.entry(id);
    s.requests++;
    s.failures++;
    s.consecutiveFailures++;
    s.state = 'failing';
    s.lastFailureAt = at.toISOString();
    s.lastError = error;
  }

  get(id: string): DeploymentStatus {
    return this.byId.get(id) ?? blank(id);
  }

  private entry(id: string): DeploymentStatus {
    let s = this.byId.get(id);
    if (!s) {
      s = blank(id);
      this.byId.set(id, s);
    }
    return s;
  }
}

function blank(id: string): DeploymentStatus {
  return {
    id,
    state: 'unknown',
    requests: 0,
    failures: 0,
    consecutiveFailures: 0,
    lastLatencyMs: undefined,
    lastSuccessAt: undefined,
    lastFailureAt: undefined,
    lastError: undefined,
  };
}
