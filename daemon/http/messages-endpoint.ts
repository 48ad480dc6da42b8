// POST /v1/messages: Anthropic-format requests routed through the same engine as chat completions, to
// any provider, with the answer (whole or streamed) and errors in Anthropic's shape.
import { anthropicClient } from '../formats/anthropic/client-answer';
import { parseMessagesRequest, toChatBody } from '../formats/anthropic/client-request';
import { readJsonBody } from './body';
import { routeChat } from '../pipeline/request';
import type { RouteContext } from './routes';

export async function handleAnthropicMessages(ctx: RouteContext): Promise<void> {
  const receivedAt = performance.now();
  const request = parseMessagesRequest(await readJsonBody(ctx.req, ctx.state.config.server.bodyLimitBytes));
  await routeChat(ctx, toChatBody(request), anthropicClient, receivedAt);
}
