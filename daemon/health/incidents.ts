// The incident log: each outage of a deployment (from ejection to recovery) with its start, end and
// duration, newest first. Kept in memory, bounded; served at GET /v1/shepherd/incidents.

export interface Incident {
  deployment: string;
  group: string;
  start: string; // ISO-8601
  end: string | null; // null while ongoing
  durationMs: number | null;
  /** Why it started (the transition that ejected the deployment). */
  reason: string;
  /** Why it ended, once it has. */
  resolution: string | null;
}

const MAX_INCIDENTS = 500;

export class IncidentLog {
  private readonly incidents: Incident[] = [];
  private readonly open = new Map<string, { incident: Incident; startMs: number }>();

  started(deployment: string, group: string, at: number, reason: string): void {
    if (this.open.has(deployment)) return;
    const incident: Incident = {
      deployment,
      group,
      start: new Date(at).toISOString(),
      end: null,
      durationMs: null,
      reason,
      resolution: null,
    };
    this.open.set(deployment, { incident, startMs: at });
    this.incidents.unshift(incident);
    if (this.incidents.length > MAX_INCIDENTS) this.incidents.length = MAX_INCIDENTS;
  }

  ended(deployment: string, at: number, resolution: string): void {
    const o = this.open.get(deployment);
    if (!o) return;
    this.open.delete(deployment);
    o.incident.end = new Date(at).toISOString();
    o.incident.durationMs = Math.max(0, at - o.startMs);
    o.incident.resolution = resolution;
  }

  /** Newest first; ongoing ones report their duration so far. */
  list(now: number, limit = 100): Incident[] {
    return this.incidents.slice(0, limit).map((i) => {
      const o = this.open.get(i.deployment);
      return o && o.incident === i ? { ...i, durationMs: Math.max(0, now - o.startMs) } : { ...i };
    });
  }

  /** The last incident of a deployment, for the health table. */
  last(deployment: string): Incident | undefined {
    return this.incidents.find((i) => i.deployment === deployment);
  }
}
