// The daemon's status as one JSON-ready object: served at GET /v1/shepherd/status and sent to the
// extension as its snapshot: each deployment's health, circuit, load and latency, and each group.
import type { ConfigSnapshot } from '../config/snapshot';
import type { LedgerHealth } from '../../shared/ledger';
import type { TeamLedgerHealth, TeamSpend } from '../../shared/team-ledger';
import type { HealthBoard } from './board';

/** Who is reporting: the daemon's version and when it started, and whether its ledger is written. */
export interface ReporterInfo {
  version: string;
  startedAt: Date;
  ledger?: { health(): LedgerHealth };
  /** Team mode: shipping the ledger to PostgreSQL. */
  teamLedger?: { health(): TeamLedgerHealth; monthByMember?(): TeamSpend | undefined };
  /** The embedded sandbox upstreams the daemon serves from, if it does. */
  sandboxUpstreams?: () => readonly { provider: string; region: string; url: string }[];
  /** Team mode: whether the team's shared state is reachable. */
  team?: () => TeamStatus;
}

/** Team mode as the status report shows it: "degraded" while Redis cannot be reached (local state serves). */
export interface TeamStatus {
  name: string;
  member: string;
  /** This daemon's id among the team's (member, host, process). */
  daemon: string;
  state: 'ok' | 'degraded';
  redis?: {
    state: 'ok' | 'degraded';
    /** Since when (ISO time), and why. */
    since: string;
    reason: string;
    /** Daemons of the team alive at the last heartbeat. */
    daemons: number;
    /** Spend made here that waits to be counted in Redis (USD). */
    unsyncedUsd: number;
  };
}

export type StatusReport = ReturnType<typeof statusReport>;
export type DeploymentReport = StatusReport['deployments'][number];

export function statusReport(health: HealthBoard, state: ConfigSnapshot, info: ReporterInfo) {
  const deployments = [];
  for (const group of state.catalog.groups.values()) {
    for (const d of group.deployments) {
      const h = health.report(d.id);
      const incident = health.incidents.last(d.id);
      deployments.push({
        id: d.id,
        group: group.name,
        provider: d.providerName,
        model: d.upstreamModel,
        region: d.region ?? null,
        sandbox: d.sandbox,
        available: d.unavailable === undefined,
        ...(d.unavailable ? { unavailableReason: d.unavailable } : {}),
        state: h.state,
        circuit: h.circuit,
        circuitRetryAt: h.circuitRetryAt !== undefined ? new Date(h.circuitRetryAt).toISOString() : null,
        inflight: h.inflight,
        latencyMs: h.latencyMs ?? null,
        p50Ms: h.p50Ms ?? null,
        errorRate: Math.round(h.errorRate * 1000) / 1000,
        requests: h.requests,
        failures: h.failures,
        consecutiveFailures: h.consecutiveFailures,
        lastLatencyMs: h.lastLatencyMs ?? null,
        lastSuccessAt: h.lastSuccessAt ?? null,
        lastFailureAt: h.lastFailureAt ?? null,
        lastError: h.lastError ?? null,
        keyRejected: h.keyRejected ?? null,
        lastProbe: h.lastProbe ?? null,
        lastIncident: incident ? { start: incident.start, end: incident.end, reason: incident.reason } : null,
      });
    }
  }
  return {
    name: 'shepherd' as const,
    version: info.version,
    sandbox: state.sandbox,
    // Where the simulated upstreams listen, so their faults can be scripted (docs/SANDBOX.md).
    sandboxUpstreams: state.sandbox ? (info.sandboxUpstreams?.() ?? []).map(({ provider, region, url }) => ({ provider, region, url })) : [],
    startedAt: info.startedAt.toISOString(),
    uptimeSeconds: Math.round((Date.now() - info.startedAt.getTime()) / 1000),
    groups: [...state.catalog.groups.values()].map((g) => ({
      name: g.name,
      strategy: g.strategy,
      fallbacks: g.fallbacks,
      // A group is down when none of its usable deployments is taking traffic.
      down: g.deployments.every((d) => d.unavailable !== undefined || health.get(d.id).circuit === 'open'),
    })),
    deployments,
    ...(info.ledger ? { ledger: info.ledger.health() } : {}),
    ...(info.team ? { team: info.team() } : {}),
    ...(info.teamLedger ? { teamLedger: info.teamLedger.health() } : {}),
    ...teamSpendOf(info),
  };
}

/** Team mode: this month's team spend by member, once the team ledger has been read. */
function teamSpendOf(info: ReporterInfo): { teamSpend?: TeamSpend } {
  const spend = info.teamLedger?.monthByMember?.();
  return spend ? { teamSpend: spend } : {};
}
