// POST /v1/messages: Anthropic-format requests routed through the same engine as chat completions, to
// any provider, with the answer (whole or streamed) and errors in Anthropic's shape.
import { anthropicClient } from './anthropic-client';
import { parseMessagesRequest, toChatBody } from './anthropic-inbound';
import { readJsonBody } from './body';
import { routeChat } from './chat';
import type { RouteContext } from './routes';

export async function handleAnthropicMessages(ctx: RouteContext): Promise<void> {
  const receivedAt = performance.now();
  const request = parseMessagesRequest(await readJsonBody(ctx.req, ctx.state.config.server.bodyLimitBytes));
  await routeChat(ctx, toChatBody(request), anthropicClient, receivedAt);
}
