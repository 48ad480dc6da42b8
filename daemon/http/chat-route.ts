// An inbound chat endpoint as a route: read the body, let the endpoint's wire format check and
// translate it, and hand it to the pipeline with the config snapshot taken when it arrived.
import type { ChatEndpoint } from '../formats/client-format';
import { runChat } from '../pipeline/chat';
import { readJsonBody } from './body';
import { CLIENT_HEADER, clientTag } from '../core/caller';
import type { Route } from './route';

export function chatRoute(endpoint: ChatEndpoint): Route {
  return {
    method: 'POST',
    errorBody: endpoint.client.errorBody,
    async handle(ctx) {
      const receivedAt = performance.now();
      const json = await readJsonBody(ctx.req, ctx.state.config.server);
      const body = endpoint.parse(json);
      const native = endpoint.native?.(json, ctx.req.headers);
      await runChat(ctx.deps, {
        ...(native ? { native } : {}),
        id: ctx.requestId,
        receivedAt,
        body,
        client: endpoint.client,
        state: ctx.state,
        res: ctx.res,
        clientKeyId: ctx.clientKeyId,
        caller: clientTag(ctx.req.headers[CLIENT_HEADER]),
        track: ctx.track,
      });
    },
  };
}
