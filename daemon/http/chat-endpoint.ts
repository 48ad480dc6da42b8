// POST /v1/chat/completions (and /chat/completions): OpenAI-format requests, read and validated here and
// routed by the pipeline, with the answer (whole or streamed) and errors in OpenAI's shape.
import { openaiClient } from '../formats/client-format';
import { parseChatRequest } from '../formats/openai/client-request';
import { readJsonBody } from './body';
import { routeChat } from '../pipeline/request';
import type { RouteContext } from './routes';

export async function handleChatCompletions(ctx: RouteContext): Promise<void> {
  const receivedAt = performance.now();
  const body = parseChatRequest(await readJsonBody(ctx.req, ctx.state.config.server.bodyLimitBytes));
  await routeChat(ctx, body, openaiClient, receivedAt);
}
