// The health half of the control channel's snapshot: the status report (GET /v1/shepherd/status)
// reduced to the fields shared/protocol.ts promises, plus each group's price for the model picker.
import type { SnapshotBase } from './control';
import type { GatewayState } from './gateway';
import type { StatusReport } from './status-report';

export function snapshotBase(report: StatusReport, state: GatewayState, url: string, providers: string[]): SnapshotBase {
  return {
    providers,
    version: report.version,
    url,
    sandbox: report.sandbox,
    startedAt: report.startedAt,
    groups: report.groups.map((g) => {
      const price = state.catalog.groups.get(g.name)?.price;
      return {
        name: g.name,
        strategy: g.strategy,
        down: g.down,
        price: price ? { input: price.input, output: price.output } : null,
      };
    }),
    deployments: report.deployments.map((d) => ({
      id: d.id,
      group: d.group,
      provider: d.provider,
      model: d.model,
      region: d.region,
      sandbox: d.sandbox,
      available: d.available,
      ...(d.unavailableReason !== undefined ? { unavailableReason: d.unavailableReason } : {}),
      state: d.state,
      circuit: d.circuit,
      p50Ms: d.p50Ms,
      latencyMs: d.latencyMs,
      errorRate: d.errorRate,
      lastIncident: d.lastIncident,
    })),
  };
}
