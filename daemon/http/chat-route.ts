// An inbound chat endpoint as a route: read the body, let the endpoint's wire format check and
// translate it, and hand it to the pipeline with the config snapshot taken when it arrived.
import type { ChatEndpoint, OperationEndpoint } from '../formats/client-format';
import { runChat } from '../pipeline/chat';
import { readJsonBody, readJsonBytes } from './body';
import { CLIENT_HEADER, clientTag } from '../core/caller';
import type { Route } from './route';

export function chatRoute(endpoint: ChatEndpoint): Route {
  return {
    method: 'POST',
    errorBody: endpoint.client.errorBody,
    async handle(ctx) {
      const receivedAt = performance.now();
      const { json, bytes } = await readJsonBytes(ctx.req, ctx.state.config.server);
      let body;
      let client = endpoint.client;
      let translationHeaders: string[] = [];
      if (endpoint.accept) {
        const accepted = endpoint.accept(json);
        body = accepted.body;
        client = accepted.client;
        // On every answer, success or error: writeHead merges headers set here.
        for (const [name, value] of Object.entries(accepted.headers)) ctx.res.setHeader(name, value);
        translationHeaders = Object.keys(accepted.headers);
        if (accepted.dropped.length > 0) {
          ctx.deps.log.info('left out what a chat deployment cannot run', { request: ctx.requestId, endpoint: endpoint.endpoint, dropped: accepted.dropped.join(', ') });
        }
      } else body = endpoint.parse(json);
      const asSent = endpoint.native?.(json, ctx.req.headers);
      // The bytes travel with the body they were parsed into: a passthrough splices the model into them.
      const native = asSent && { ...asSent, raw: { body: asSent.body, bytes }, ...(translationHeaders.length > 0 ? { translationHeaders } : {}) };
      await runChat(ctx.deps, {
        id: ctx.requestId,
        native,
        receivedAt,
        body,
        client,
        endpoint: endpoint.endpoint,
        state: ctx.state,
        res: ctx.res,
        clientKeyId: ctx.clientKeyId,
        member: ctx.member,
        caller: clientTag(ctx.req.headers[CLIENT_HEADER]),
        track: ctx.track,
      });
    },
  };
}

/**
 * An inbound endpoint for another operation (embeddings, completions): the same pipeline, with the
 * client's body as the payload and a chat-shaped view of it for routing, budgets and estimates.
 */
export function operationRoute(endpoint: OperationEndpoint): Route {
  return {
    method: 'POST',
    errorBody: endpoint.client.errorBody,
    async handle(ctx) {
      const receivedAt = performance.now();
      const { view, payload } = endpoint.parse(await readJsonBody(ctx.req, ctx.state.config.server));
      await runChat(ctx.deps, {
        id: ctx.requestId,
        receivedAt,
        body: view,
        payload,
        operation: endpoint.operation,
        endpoint: endpoint.operation,
        client: endpoint.client,
        state: ctx.state,
        res: ctx.res,
        clientKeyId: ctx.clientKeyId,
        member: ctx.member,
        caller: clientTag(ctx.req.headers[CLIENT_HEADER]),
        track: ctx.track,
      });
    },
  };
}
