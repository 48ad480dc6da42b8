// GET /v1/models/{id}: one group, alias or `auto` name, in OpenAI's model shape, or in Anthropic's for
// clients that send anthropic-version (the Anthropic SDK's models.retrieve). Unknown ids are a 404 in
// the same shape, as each provider answers it.
import { TIERS } from '../../shared/routing-config';
import { resolveGroup } from '../routing/catalog';
import type { RouteContext } from './route';
import { sendJson } from './send-json';

export const MODEL_PATH_PREFIXES = ['/v1/models/', '/models/'] as const;

export function retrieveModel({ req, res, state, deps, url }: RouteContext): void {
  const prefix = MODEL_PATH_PREFIXES.find((p) => url.pathname.startsWith(p)) ?? '/v1/models/';
  let id: string;
  try {
    id = decodeURIComponent(url.pathname.slice(prefix.length));
  } catch {
    id = url.pathname.slice(prefix.length);
  }
  const anthropic = req.headers['anthropic-version'] !== undefined;
  const found = lookup(state.catalog, id);
  if (!found) {
    const message = `model "${id}" is not configured (see GET /v1/models)`;
    if (anthropic) return sendJson(res, 404, { type: 'error', error: { type: 'not_found_error', message } });
    return sendJson(res, 404, { error: { message, type: 'invalid_request_error', param: 'model', code: 'model_not_found' } });
  }
  if (anthropic) return sendJson(res, 200, { type: 'model', id: found.id, display_name: found.id, created_at: deps.startedAt.toISOString() });
  sendJson(res, 200, {
    id: found.id,
    object: 'model',
    created: Math.floor(deps.startedAt.getTime() / 1000),
    owned_by: state.sandbox ? 'shepherd-sandbox' : 'shepherd',
    ...(found.aliasOf ? { alias_of: found.aliasOf } : {}),
    ...(found.auto ? { auto: true } : {}),
  });
}

type Catalog = RouteContext['state']['catalog'];

/** The id as listed by GET /v1/models (a group, an alias, or `auto` / `auto:<profile>`), or undefined. */
function lookup(catalog: Catalog, id: string): { id: string; aliasOf?: string; auto?: true } | undefined {
  const group = resolveGroup(catalog, id);
  if (group) {
    if (group.name.toLowerCase() === id.toLowerCase()) return { id: group.name };
    const alias = group.aliases.find((a) => a.toLowerCase() === id.toLowerCase()) ?? id;
    return { id: alias, aliasOf: group.name };
  }
  const auto = catalog.routing.auto;
  if (!TIERS.some((t) => catalog.groups.has(auto.tiers[t]))) return undefined;
  const m = /^auto(?::(.+))?$/i.exec(id);
  if (!m) return undefined;
  if (m[1] === undefined) return { id: 'auto', auto: true };
  const profile = Object.keys(auto.profiles).find((p) => p.toLowerCase() === m[1].toLowerCase());
  if (profile === undefined && m[1].toLowerCase() === 'cascade') return { id: 'auto:cascade', auto: true };
  return profile === undefined ? undefined : { id: `auto:${profile}`, auto: true };
}
