// The sandbox's OpenAI wire shapes: which request fields it reads, and the completion and stream
// chunks it answers with. Pure: no sockets, no clock reads (the caller passes `created`).
import { argumentPieces, type PlannedReply } from './text';
import { isRecord } from '../../shared/is-record';

/** A client error answered in the OpenAI shape. */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | null,
    readonly param: string | null = null,
    readonly type = 'invalid_request_error',
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface ChatRequest {
  model: string;
  messages: unknown[];
  maxTokens?: number;
  tools?: unknown[];
  toolChoice?: unknown;
  responseFormat?: unknown;
  stream: boolean;
  includeUsage: boolean;
}

/** The fields the sandbox reads; everything else is accepted and ignored, as an upstream would. */
export function checkChat(body: unknown): ChatRequest {
  if (!isRecord(body)) throw new RequestError(400, 'the request body must be a JSON object', 'invalid_type');
  if (typeof body.model !== 'string' || body.model === '') {
    throw new RequestError(400, 'you must provide a model parameter', 'missing_required_parameter', 'model');
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    throw new RequestError(400, "Missing required parameter: 'messages' (a non-empty array).", 'missing_required_parameter', 'messages');
  }
  let maxTokens: number | undefined;
  for (const field of ['max_tokens', 'max_completion_tokens'] as const) {
    const v = body[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
      throw new RequestError(400, `Invalid '${field}': expected an integer of at least 1.`, 'invalid_value', field);
    }
    maxTokens = v; // max_completion_tokens, checked last, wins
  }
  let tools: unknown[] | undefined;
  if (body.tools !== undefined && body.tools !== null) {
    if (!Array.isArray(body.tools)) throw new RequestError(400, "Invalid 'tools': expected an array.", 'invalid_type', 'tools');
    body.tools.forEach((tool, i) => {
      const fn = isRecord(tool) ? tool.function : undefined;
      if (!isRecord(fn) || typeof fn.name !== 'string' || fn.name === '') {
        throw new RequestError(400, `Missing required parameter: 'tools[${i}].function.name'.`, 'missing_required_parameter', `tools[${i}].function.name`);
      }
    });
    tools = body.tools;
  }
  const streamOptions = body.stream_options;
  return {
    model: body.model,
    messages: body.messages,
    maxTokens,
    tools,
    toolChoice: body.tool_choice,
    responseFormat: body.response_format,
    stream: body.stream === true,
    includeUsage: isRecord(streamOptions) && streamOptions.include_usage === true,
  };
}

export interface Meta {
  id: string;
  callId: string;
  created: number;
  model: string;
}

function usageOf(plan: PlannedReply) {
  return {
    prompt_tokens: plan.promptTokens,
    completion_tokens: plan.completionTokens,
    total_tokens: plan.promptTokens + plan.completionTokens,
  };
}

export function completionJson(meta: Meta, plan: PlannedReply): string {
  const { reply } = plan;
  const message =
    reply.kind === 'text'
      ? { role: 'assistant', content: reply.pieces.join(''), refusal: null }
      : {
          role: 'assistant',
          content: null,
          refusal: null,
          tool_calls: [{ id: meta.callId, type: 'function', function: { name: reply.name, arguments: reply.arguments } }],
        };
  return JSON.stringify({
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, message, finish_reason: reply.finishReason, logprobs: null }],
    usage: usageOf(plan),
  });
}

/** A stream as SSE frames: the opening chunk, one per content piece, then the closing frames. */
export interface Frames {
  head: string;
  content: string[];
  tail: string[];
}

export function streamFrames(meta: Meta, plan: PlannedReply, includeUsage: boolean): Frames {
  // With include_usage every chunk carries "usage": null until the usage chunk, as OpenAI does.
  const frame = (choices: unknown[], usage: unknown = null) =>
    `data: ${JSON.stringify({ id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: meta.model, choices, ...(includeUsage ? { usage } : {}) })}\n\n`;
  const choice = (delta: unknown, finish: string | null = null) => [{ index: 0, delta, logprobs: null, finish_reason: finish }];
  const { reply } = plan;
  const head =
    reply.kind === 'text'
      ? frame(choice({ role: 'assistant', content: '' }))
      : frame(
          choice({
            role: 'assistant',
            content: null,
            tool_calls: [{ index: 0, id: meta.callId, type: 'function', function: { name: reply.name, arguments: '' } }],
          }),
        );
  const content =
    reply.kind === 'text'
      ? reply.pieces.map((piece) => frame(choice({ content: piece })))
      : argumentPieces(reply.arguments).map((piece) => frame(choice({ tool_calls: [{ index: 0, function: { arguments: piece } }] })));
  const tail = [frame(choice({}, reply.finishReason))];
  if (includeUsage) tail.push(frame([], usageOf(plan)));
  tail.push('data: [DONE]\n\n');
  return { head, content, tail };
}

