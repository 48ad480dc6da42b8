// Decides, for one request, which deployments to try and in what order, with the reason for each.
// Pure: no sockets, no clock. This issue's strategy is config order (priority fallback); the
// routing engine's strategies plug in here.
import { resolveGroup, type Catalog, type Deployment, type ModelGroup } from './catalog';

export interface PlannedAttempt {
  deployment: Deployment;
  reason: string;
}

export interface Plan {
  requestedModel: string;
  group: ModelGroup;
  strategy: 'priority';
  attempts: PlannedAttempt[];
  /** Deployments left out, with why (e.g. a missing key). */
  skipped: PlannedAttempt[];
}

export type PlanResult =
  | { ok: true; plan: Plan }
  | { ok: false; reason: 'unknown_model'; message: string }
  | { ok: false; reason: 'no_deployment'; group: string; message: string; skipped: PlannedAttempt[] };

export function planRoute(catalog: Catalog, requestedModel: string): PlanResult {
  const group = resolveGroup(catalog, requestedModel);
  if (!group) {
    const known = [...catalog.groups.keys()];
    return {
      ok: false,
      reason: 'unknown_model',
      message: `model "${requestedModel}" is not configured; available: ${known.length ? known.join(', ') : '(none)'}`,
    };
  }
  const usable = group.deployments.filter((d) => d.unavailable === undefined);
  const skipped = group.deployments
    .filter((d) => d.unavailable !== undefined)
    .map((deployment) => ({ deployment, reason: deployment.unavailable ?? '' }));
  if (usable.length === 0) {
    return {
      ok: false,
      reason: 'no_deployment',
      group: group.name,
      message: `model group "${group.name}" has no usable deployment: ${skipped.map((s) => `${s.deployment.id}: ${s.reason}`).join('; ')}`,
      skipped,
    };
  }
  const attempts = usable.map((deployment, i) => ({
    deployment,
    reason: i === 0 ? 'first in priority order' : `fallback ${i} of ${usable.length - 1}`,
  }));
  return { ok: true, plan: { requestedModel, group, strategy: 'priority', attempts, skipped } };
}
