// The sandbox's Anthropic Messages wire shapes: which request fields it checks (max_tokens is required,
// as upstream), the message it answers with, its SSE events and its error body. Pure.
import { isRecord } from '../../shared/is-record';
import { anthropicErrorType } from '../formats/anthropic/errors';
import { stopReason as toStopReason } from '../formats/anthropic/stop-reasons';
import { planReply, type PlannedReply, argumentPieces, estimateTokens } from './text';
import { answerPieces, cacheCounts, chooseTool, outputSchema, promptText, schemaValue, thinkingBlock, toolInput, toolResultText, type CacheCounts } from './anthropic-tools';
import { RequestError, type Frames } from './wire';

export interface AnthropicChat {
  model: string;
  stream: boolean;
  plan: PlannedReply;
  /** The stop sequence the reply was cut at, if any. */
  stoppedAt?: string;
  /** Prompt tokens reported as cache reads and writes when any block asks for caching (anthropic-tools.ts). */
  cache: CacheCounts;
  /** A thinking block to lead the answer with, when thinking was asked for. */
  thinking?: { thinking: string; signature: string };
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
    // 'system' turns mid-conversation: what Claude Code sends with its per-turn-control beta.
    if (!isRecord(m) || (m.role !== 'user' && m.role !== 'assistant' && m.role !== 'system')) {
      throw new RequestError(400, `messages.${i}.role: Input should be 'user', 'assistant' or 'system'`, null, `messages.${i}.role`);
    }
    if (typeof m.content !== 'string' && !Array.isArray(m.content)) {
      throw new RequestError(400, `messages.${i}.content: Input should be a string or a list of blocks`, null, `messages.${i}.content`);
    }
  });
  const tools = Array.isArray(body.tools) ? body.tools : undefined;
  tools?.forEach((t, i) => {
    // Server tools (web_search_..., bash_...) carry a type instead of an input_schema.
    if (!isRecord(t) || typeof t.name !== 'string' || (!isRecord(t.input_schema) && (typeof t.type !== 'string' || t.type === 'custom'))) {
      throw new RequestError(400, `tools.${i}: a tool needs name and input_schema`, null, `tools.${i}`);
    }
  });
  const plan = planAnthropic(body, max, defaultWords);
  const stops = Array.isArray(body.stop_sequences) ? body.stop_sequences.filter((s): s is string => typeof s === 'string' && s !== '') : [];
  const cut = cutAtStop(plan, stops);
  const json = JSON.stringify(body);
  // The same signature whole and streamed; the messages are serialised only when thinking was asked for.
  const thinking = thinkingBlock(body, () => JSON.stringify(body.messages));
  return { model: body.model, stream: body.stream === true, plan: cut?.plan ?? plan, stoppedAt: cut?.stop, cache: cacheCounts(json, plan.promptTokens), ...(thinking ? { thinking } : {}) };
}

/**
 * The reply: a tool call with a schema-valid input when a tool is chosen (anthropic-tools.ts), the
 * tool's result quoted back after tool results, and otherwise text.ts's deterministic words.
 */
function planAnthropic(body: Record<string, unknown>, max: number, defaultWords: number): PlannedReply {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  const plan = planReply(
    {
      // The reply planner speaks OpenAI: a user turn of tool results reads as a tool message.
      messages: [...(body.system !== undefined ? [{ role: 'system', content: body.system }] : []), ...messages.map(asPlannerMessage)],
      maxTokens: max,
    },
    defaultWords,
  );
  const tool = chooseTool(body);
  if (tool) {
    const args = JSON.stringify(toolInput(tool.input_schema, promptText(messages)));
    return { ...plan, reply: { kind: 'tool_call', name: String(tool.name), arguments: args, finishReason: 'tool_calls' }, completionTokens: estimateTokens(String(tool.name) + args) };
  }
  const schema = outputSchema(body);
  if (schema !== undefined) {
    // Structured output: the whole text is JSON that fits the schema (no label: it must parse).
    const pieces = [JSON.stringify(schemaValue(schema, promptText(messages)))];
    return { ...plan, reply: { kind: 'text', pieces, finishReason: 'stop' }, completionTokens: pieces.length };
  }
  const result = toolResultText(messages);
  if (result !== undefined && max >= 2) {
    const pieces = answerPieces(result);
    return { ...plan, reply: { kind: 'text', pieces, finishReason: 'stop' }, completionTokens: pieces.length };
  }
  return plan;
}

/** POST /v1/messages/count_tokens: the prompt tokens the same request would report. */
export function countTokensJson(body: unknown): string {
  if (!isRecord(body) || typeof body.model !== 'string' || !Array.isArray(body.messages)) {
    throw new RequestError(400, 'model and messages are required', null);
  }
  const plan = planReply({ messages: [...(body.system !== undefined ? [{ role: 'system', content: body.system }] : []), ...body.messages.map(asPlannerMessage)], maxTokens: 1 }, 1);
  const tools = Array.isArray(body.tools) ? estimateTokens(JSON.stringify(body.tools)) : 0;
  return JSON.stringify({ input_tokens: plan.promptTokens + tools });
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

/** Anthropic's input_tokens exclude cache reads and writes; writes are split by cache lifetime. */
function inputUsage(chat: AnthropicChat) {
  const { read, write5m, write1h } = chat.cache;
  return {
    input_tokens: chat.plan.promptTokens - read - write5m - write1h,
    cache_creation_input_tokens: write5m + write1h,
    cache_read_input_tokens: read,
    cache_creation: { ephemeral_5m_input_tokens: write5m, ephemeral_1h_input_tokens: write1h },
  };
}

function stopReason(chat: AnthropicChat): string {
  if (chat.stoppedAt !== undefined) return 'stop_sequence';
  return toStopReason(chat.plan.reply.finishReason);
}

export function messageJson(meta: AnthropicMeta, chat: AnthropicChat): string {
  const { reply } = chat.plan;
  const content: unknown[] = chat.thinking ? [{ type: 'thinking', ...chat.thinking }] : [];
  content.push(
    reply.kind === 'text'
      ? { type: 'text', text: reply.pieces.join('') }
      : { type: 'tool_use', id: meta.toolId, name: reply.name, input: JSON.parse(reply.arguments) as unknown },
  );
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
  // With thinking asked for, a thinking block (its text, then its signature) comes first, at index 0.
  const at = chat.thinking ? 1 : 0;
  const thinking = chat.thinking
    ? sse('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } }) +
      (chat.thinking.thinking ? sse('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: chat.thinking.thinking } }) : '') +
      sse('content_block_delta', { index: 0, delta: { type: 'signature_delta', signature: chat.thinking.signature } }) +
      sse('content_block_stop', { index: 0 })
    : '';
  const head = start + thinking + sse('content_block_start', { index: at, content_block: block }) + sse('ping', {});
  const content =
    reply.kind === 'text'
      ? reply.pieces.map((text) => sse('content_block_delta', { index: at, delta: { type: 'text_delta', text } }))
      : argumentPieces(reply.arguments).map((partial_json) => sse('content_block_delta', { index: at, delta: { type: 'input_json_delta', partial_json } }));
  const tail = [
    sse('content_block_stop', { index: at }),
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
