// GET /v1/models: every group and alias a client may ask for, in OpenAI's list shape, plus `auto`
// and its profiles when at least one tier's group is configured.
import { TIERS } from '../../shared/routing-config';
import { listModelNames, resolveGroup } from '../routing/catalog';
import type { RouteContext } from './route';
import { anthropicModelObject } from '../formats/anthropic/model-object';
import { sendJson } from './send-json';

export function listModels({ req, res, state, deps }: RouteContext): void {
  const created = Math.floor(deps.startedAt.getTime() / 1000);
  const owner = state.sandbox ? 'shepherd-sandbox' : 'shepherd';
  const auto = state.catalog.routing.auto;
  const autoIds =
    resolveGroup(state.catalog, 'auto') === undefined && TIERS.some((t) => state.catalog.groups.has(auto.tiers[t]))
      ? ['auto', ...Object.keys(auto.profiles).map((p) => `auto:${p}`), ...(Object.hasOwn(auto.profiles, 'cascade') ? [] : ['auto:cascade'])]
      : [];
  const ids = [...listModelNames(state.catalog).map((m) => m.id), ...autoIds];
  if (req.headers['anthropic-version'] !== undefined) {
    // The Anthropic SDK's models.list() expects Anthropic's list shape.
    const createdAt = deps.startedAt.toISOString();
    sendJson(res, 200, {
      data: ids.map((id) => anthropicModelObject(id, createdAt)),
      has_more: false,
      first_id: ids[0] ?? null,
      last_id: ids.at(-1) ?? null,
    });
    return;
  }
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
