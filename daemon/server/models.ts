// GET /v1/models: every group and alias a client may ask for, in OpenAI's list shape, plus `auto`
// and its profiles when at least one tier's group is configured.
import { TIERS } from '../../shared/routing-config';
import { listModelNames, resolveGroup } from '../routing/catalog';
import { sendJson, type RouteContext } from './routes';

export function listModels({ res, state, deps }: RouteContext): void {
  const created = Math.floor(deps.startedAt.getTime() / 1000);
  const owner = state.sandbox ? 'shepherd-sandbox' : 'shepherd';
  const auto = state.catalog.routing.auto;
  const autoIds =
    resolveGroup(state.catalog, 'auto') === undefined && TIERS.some((t) => state.catalog.groups.has(auto.tiers[t]))
      ? ['auto', ...Object.keys(auto.profiles).map((p) => `auto:${p}`)]
      : [];
  sendJson(res, 200, {
    object: 'list',
    data: [
      ...listModelNames(state.catalog).map((m) => ({
        id: m.id,
        object: 'model',
        created,
        owned_by: owner,
        ...(m.alias ? { alias_of: m.group } : {}),
      })),
      ...autoIds.map((id) => ({ id, object: 'model', created, owned_by: owner, auto: true })),
    ],
  });
}
