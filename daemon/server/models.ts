// GET /v1/models: every group and alias a client may ask for, in OpenAI's list shape.
import { listModelNames } from '../routing/catalog';
import { sendJson, type RouteContext } from './routes';

export function listModels({ res, state, deps }: RouteContext): void {
  const created = Math.floor(deps.startedAt.getTime() / 1000);
  sendJson(res, 200, {
    object: 'list',
    data: listModelNames(state.catalog).map((m) => ({
      id: m.id,
      object: 'model',
      created,
      owned_by: state.sandbox ? 'shepherd-sandbox' : 'shepherd',
      ...(m.alias ? { alias_of: m.group } : {}),
    })),
  });
}
