// POST /v1/messages/count_tokens (pipeline/count-tokens.ts), answered in Anthropic's shapes.
import { anthropicClient } from '../formats/anthropic/client-answer';
import { nativeMessages } from '../formats/anthropic/client-native';
import { parseMessagesRequest, toChatBody } from '../formats/anthropic/client-request';
import { HttpError } from '../core/http-error';
import { isRecord } from '../../shared/is-record';
import { countTokens } from '../pipeline/count-tokens';
import { readJsonBody } from './body';
import type { Route } from './route';

export const countTokensRoute: Route = {
  method: 'POST',
  errorBody: anthropicClient.errorBody,
  async handle(ctx) {
    const json = await readJsonBody(ctx.req, ctx.state.config.server);
    // count_tokens takes no max_tokens; the Messages check wants one.
    const body = toChatBody(parseMessagesRequest(isRecord(json) ? { max_tokens: 1, ...json } : json));
    const native = nativeMessages(json, ctx.req.headers);
    if (!native) throw new HttpError(400, 'request body must be a JSON object', 'invalid_request_error', 'invalid_body');
    const result = await countTokens(ctx.deps, ctx.state, body, native);
    if ('error' in result) throw new HttpError(404, result.message, 'not_found_error', 'unknown_model', 'model');
    ctx.res.writeHead(result.status, { 'content-type': 'application/json', 'x-request-id': ctx.requestId, ...result.headers });
    ctx.res.end(result.body);
  },
};
