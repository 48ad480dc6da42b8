// The daemon's status as one JSON-ready object: served at GET /v1/shepherd/status and sent to the
// extension as its snapshot. The health issue's fields grow here, in one place.
import type { GatewayDeps, GatewayState } from './gateway';

export type StatusReport = ReturnType<typeof statusReport>;
export type DeploymentReport = StatusReport['deployments'][number];

export function statusReport(deps: GatewayDeps, state: GatewayState) {
  const deployments = [];
  for (const group of state.catalog.groups.values()) {
    for (const d of group.deployments) {
      const s = deps.status.get(d.id);
      deployments.push({
        id: d.id,
        group: group.name,
        provider: d.providerName,
        model: d.upstreamModel,
        region: d.region ?? null,
        sandbox: d.sandbox,
        available: d.unavailable === undefined,
        ...(d.unavailable ? { unavailableReason: d.unavailable } : {}),
        state: s.state,
        requests: s.requests,
        failures: s.failures,
        consecutiveFailures: s.consecutiveFailures,
        lastLatencyMs: s.lastLatencyMs ?? null,
        lastSuccessAt: s.lastSuccessAt ?? null,
        lastFailureAt: s.lastFailureAt ?? null,
        lastError: s.lastError ?? null,
      });
    }
  }
  return {
    name: 'shepherd' as const,
    version: deps.version,
    sandbox: state.sandbox,
    startedAt: deps.startedAt.toISOString(),
    uptimeSeconds: Math.round((Date.now() - deps.startedAt.getTime()) / 1000),
    groups: [...state.catalog.groups.keys()],
    deployments,
  };
}
