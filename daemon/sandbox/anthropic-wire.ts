// The sandbox's Anthropic Messages wire shapes: which request fields it checks (max_tokens is required,
// as upstream), the message it answers with, its SSE events and its error body. Pure.
import { isRecord } from '../../shared/is-record';
import { anthropicErrorType } from '../formats/anthropic/errors';
import { stopReason as toStopReason } from '../formats/anthropic/stop-reasons';
import { planReply, type PlannedReply, argumentPieces } from './text';
import { RequestError, type Frames } from './wire';

export interface AnthropicChat {
  model: string;
  stream: boolean;
  plan: PlannedReply;
  /** The stop sequence the reply was cut at, if any. */
  stoppedAt?: string;
  /** Prompt tokens reported as cache reads: half the prompt when any block asks for caching. */
  cacheRead: number;
}

/** Checks a POST /v1/messages body and plans the reply. */
export function checkMessages(body: unknown, defaultWords: number): AnthropicChat {
  if (!isRecord(body)) throw new RequestError(400, 'the request body must be a JSON object', null);
  if (typeof body.model !== 'string' || body.model === '') throw new RequestError(400, 'model: Field required', null, 'model');
  const max = body.max_tokens;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1) {
    throw new RequestError(400, 'max_tokens: Field required (an integer of at least 1)', null, 'max_tokens');
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    throw new RequestError(400, 'messages: at least one message is required', null, 'messages');
  }
  body.messages.forEach((m, i) => {
    if (!isRecord(m) || (m.role !== 'user' && m.role !== 'assistant')) {
      throw new RequestError(400, `messages.${i}.role: Input should be 'user' or 'assistant'`, null, `messages.${i}.role`);
    }
    if (typeof m.content !== 'string' && !Array.isArray(m.content)) {
      throw new RequestError(400, `messages.${i}.content: Input should be a string or a list of blocks`, null, `messages.${i}.content`);
    }
  });
  const tools = Array.isArray(body.tools) ? body.tools : undefined;
  tools?.forEach((t, i) => {
    if (!isRecord(t) || typeof t.name !== 'string' || !isRecord(t.input_schema)) {
      throw new RequestError(400, `tools.${i}: a tool needs name and input_schema`, null, `tools.${i}`);
    }
  });
  const choice = isRecord(body.tool_choice) ? body.tool_choice : undefined;
  const plan = planReply(
    {
      // The reply planner speaks OpenAI: a user turn of tool results reads as a tool message.
      messages: [...(body.system !== undefined ? [{ role: 'system', content: body.system }] : []), ...body.messages.map(asPlannerMessage)],
      maxTokens: max,
      tools: tools?.map((t) => ({ type: 'function', function: { name: isRecord(t) ? t.name : '' } })),
      toolChoice: choice?.type === 'none' ? 'none' : choice?.type === 'tool' ? { function: { name: choice.name } } : undefined,
    },
    defaultWords,
  );
  const stops = Array.isArray(body.stop_sequences) ? body.stop_sequences.filter((s): s is string => typeof s === 'string' && s !== '') : [];
  const cut = cutAtStop(plan, stops);
  // A cheap stand-in for prompt caching, so cache accounting can be tested end to end.
  const cacheRead = JSON.stringify(body).includes('"cache_control"') ? Math.floor(plan.promptTokens / 2) : 0;
  return { model: body.model, stream: body.stream === true, plan: cut?.plan ?? plan, stoppedAt: cut?.stop, cacheRead };
}

function asPlannerMessage(m: unknown): unknown {
  if (isRecord(m) && m.role === 'user' && Array.isArray(m.content) && m.content.some((b) => isRecord(b) && b.type === 'tool_result')) {
    return { role: 'tool', content: m.content };
  }
  return m;
}

/** Ends the reply before the first stop sequence it contains, as a real model would. */
function cutAtStop(plan: PlannedReply, stops: string[]): { plan: PlannedReply; stop: string } | undefined {
  if (plan.reply.kind !== 'text' || stops.length === 0) return undefined;
  const text = plan.reply.pieces.join('');
  let best: { at: number; stop: string } | undefined;
  for (const stop of stops) {
    const at = text.indexOf(stop);
    if (at >= 0 && (!best || at < best.at)) best = { at, stop };
  }
  if (!best) return undefined;
  const pieces: string[] = [];
  let used = 0;
  for (const piece of plan.reply.pieces) {
    if (used + piece.length > best.at) {
      if (best.at > used) pieces.push(piece.slice(0, best.at - used));
      break;
    }
    pieces.push(piece);
    used += piece.length;
  }
  return { plan: { ...plan, reply: { kind: 'text', pieces, finishReason: 'stop' }, completionTokens: pieces.length }, stop: best.stop };
}

export interface AnthropicMeta {
  id: string;
  toolId: string;
  model: string;
}

/** Anthropic's input_tokens exclude cache reads. */
function inputUsage(chat: AnthropicChat) {
  return { input_tokens: chat.plan.promptTokens - chat.cacheRead, cache_creation_input_tokens: 0, cache_read_input_tokens: chat.cacheRead };
}

function stopReason(chat: AnthropicChat): string {
  if (chat.stoppedAt !== undefined) return 'stop_sequence';
  return toStopReason(chat.plan.reply.finishReason);
}

export function messageJson(meta: AnthropicMeta, chat: AnthropicChat): string {
  const { reply } = chat.plan;
  const content =
    reply.kind === 'text'
      ? [{ type: 'text', text: reply.pieces.join('') }]
      : [{ type: 'tool_use', id: meta.toolId, name: reply.name, input: JSON.parse(reply.arguments) as unknown }];
  return JSON.stringify({
    id: meta.id,
    type: 'message',
    role: 'assistant',
    model: meta.model,
    content,
    stop_reason: stopReason(chat),
    stop_sequence: chat.stoppedAt ?? null,
    usage: { ...inputUsage(chat), output_tokens: chat.plan.completionTokens },
  });
}

const sse = (type: string, data: unknown) => `event: ${type}\ndata: ${JSON.stringify({ type, ...(data as object) })}\n\n`;

export function messageFrames(meta: AnthropicMeta, chat: AnthropicChat): Frames {
  const { reply } = chat.plan;
  const start = sse('message_start', {
    message: {
      id: meta.id,
      type: 'message',
      role: 'assistant',
      model: meta.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...inputUsage(chat), output_tokens: 1 },
    },
  });
  const block =
    reply.kind === 'text' ? { type: 'text', text: '' } : { type: 'tool_use', id: meta.toolId, name: reply.name, input: {} };
  const head = start + sse('content_block_start', { index: 0, content_block: block }) + sse('ping', {});
  const content =
    reply.kind === 'text'
      ? reply.pieces.map((text) => sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text } }))
      : argumentPieces(reply.arguments).map((partial_json) => sse('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json } }));
  const tail = [
    sse('content_block_stop', { index: 0 }),
    sse('message_delta', {
      delta: { stop_reason: stopReason(chat), stop_sequence: chat.stoppedAt ?? null },
      usage: { output_tokens: chat.plan.completionTokens },
    }),
    sse('message_stop', {}),
  ];
  return { head, content, tail };
}

export function anthropicErrorJson(status: number, message: string): string {
  return JSON.stringify({ type: 'error', error: { type: anthropicErrorType(status), message } });
}

export function anthropicModelList(ids: string[]): string {
  const data = ids.map((id) => ({ type: 'model', id, display_name: id, created_at: '2025-01-01T00:00:00Z' }));
  return JSON.stringify({ data, has_more: false, first_id: ids[0] ?? null, last_id: ids.at(-1) ?? null });
}
