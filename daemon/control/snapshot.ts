// The health half of the control channel's snapshot: the status report (GET /v1/shepherd/status)
// reduced to the fields shared/protocol.ts promises, plus each group's price for the model picker and
// what its models can take and do (and `auto`'s tiers) for VS Code's language model list.
import { autoModels, groupModelInfo } from '../config/model-info';
import type { Snapshot } from '../../shared/protocol';
import type { SnapshotBase } from './channel';
import type { ConfigSnapshot } from '../config/snapshot';
import type { StatusReport, TeamStatus } from '../health/status-report';

export function snapshotBase(report: StatusReport, state: ConfigSnapshot, url: string, providers: string[]): SnapshotBase {
  const models = state.config.models;
  const names = new Set(Object.entries(models).flatMap(([name, g]) => [name, ...(g.aliases ?? [])]));
  return {
    providers,
    version: report.version,
    url,
    sandbox: report.sandbox,
    startedAt: report.startedAt,
    groups: report.groups.map((g) => {
      const group = state.catalog.groups.get(g.name);
      const price = group?.price;
      return {
        name: g.name,
        strategy: g.strategy,
        down: g.down,
        price: price ? { input: price.input, output: price.output } : null,
        ...(group?.kind === 'embedding' ? { kind: 'embedding' as const } : {}),
        ...(Object.hasOwn(models, g.name) ? groupModelInfo(models[g.name]) : {}),
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
      keyRejected: d.keyRejected,
      lastIncident: d.lastIncident,
    })),
    auto: autoModels(state.config.routing.auto, names),
    ...(report.ledger ? { ledger: report.ledger } : {}),
    ...(report.team ? { team: teamSnapshot(report.team) } : {}),
    ...(report.teamLedger ? { teamLedger: report.teamLedger } : {}),
    ...(report.teamSpend ? { teamSpend: report.teamSpend } : {}),
  };
}

/** What the extension shows of team mode: the team, this member, and whether the shared state is reachable. */
function teamSnapshot(t: TeamStatus): NonNullable<Snapshot['team']> {
  return { name: t.name, member: t.member, state: t.state, ...(t.redis ? { since: t.redis.since, reason: t.redis.reason } : {}) };
}
