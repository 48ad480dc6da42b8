// The Anthropic client format for POST /v1/messages: OpenAI completions and chunks from any provider
// become Anthropic messages and Messages SSE events, and errors take Anthropic's shape.
import { nativeMessages } from './client-native';
import { isRecord } from '../../../shared/is-record';
import { anthropicErrorType } from './errors';
import { stopReason } from './stop-reasons';
import type { ChatEndpoint, ClientFormat, ClientStreamEncoder } from '../client-format';
import { parseMessagesRequest, toChatBody } from './client-request';
import type { HttpError } from '../../core/http-error';

/** Anthropic counts input without cache reads and writes; OpenAI's prompt_tokens includes both. */
export function anthropicUsage(usage: unknown): Record<string, number> {
  const u = isRecord(usage) ? usage : {};
  const details = isRecord(u.prompt_tokens_details) ? u.prompt_tokens_details : {};
  const prompt = num(u.prompt_tokens);
  const cacheRead = num(details.cached_tokens);
  const cacheWrite = num(u.cache_creation_input_tokens); // set by Shepherd's Anthropic adapter
  return {
    input_tokens: Math.max(0, prompt - cacheRead - cacheWrite),
    output_tokens: num(u.completion_tokens),
    cache_read_input_tokens: cacheRead,
    cache_creation_input_tokens: cacheWrite,
  };
}

function messageId(id: unknown): string {
  return typeof id === 'string' && id.startsWith('msg_') ? id : `msg_${typeof id === 'string' ? id : 'shepherd'}`;
}

function parseArguments(args: unknown): unknown {
  if (typeof args !== 'string' || args === '') return {};
  try {
    return JSON.parse(args);
  } catch {
    return {}; // the model produced broken JSON; Anthropic clients expect an object
  }
}

function wholeBody(openaiJson: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(openaiJson);
  } catch {
    parsed = {};
  }
  const completion = isRecord(parsed) ? parsed : {};
  const choice = Array.isArray(completion.choices) && isRecord(completion.choices[0]) ? completion.choices[0] : {};
  const message = isRecord(choice.message) ? choice.message : {};
  const content: unknown[] = [];
  const text = typeof message.content === 'string' ? message.content : typeof message.refusal === 'string' ? message.refusal : '';
  if (text !== '') content.push({ type: 'text', text });
  for (const call of Array.isArray(message.tool_calls) ? message.tool_calls : []) {
    const fn = isRecord(call) && isRecord(call.function) ? call.function : undefined;
    if (!isRecord(call) || !fn) continue;
    content.push({ type: 'tool_use', id: call.id, name: fn.name, input: parseArguments(fn.arguments) });
  }
  return JSON.stringify({
    id: messageId(completion.id),
    type: 'message',
    role: 'assistant',
    model: completion.model ?? '',
    content,
    stop_reason: stopReason(choice.finish_reason),
    stop_sequence: null,
    usage: anthropicUsage(completion.usage),
  });
}

function errorType(status: number, type: string, code: string | null): string {
  if (code === 'overloaded_error') return 'overloaded_error';
  // A timeout (a deadline, a silent upstream) has a type of its own in Anthropic's vocabulary.
  if (status >= 500 && status !== 529 && (type === 'timeout' || status === 504)) return 'timeout_error';
  return anthropicErrorType(status);
}

export function anthropicErrorJson(message: string, type: string): string {
  return JSON.stringify({ type: 'error', error: { type, message } });
}

const event = (type: string, data: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

/**
 * OpenAI chunks -> Messages events. Text and each tool call become content blocks in the order they
 * start; the closing message_delta waits for the end of the stream, because OpenAI reports usage
 * after the finish reason.
 */
class AnthropicEncoder implements ClientStreamEncoder {
  private started = false;
  private open: { index: number; kind: 'text' | 'tool'; toolIndex?: number } | undefined;
  private blocks = 0;
  private readonly toolBlocks = new Map<number, number>(); // OpenAI tool_calls index -> block index
  private finish: unknown = null;
  private usage: unknown;
  private closed = false;

  push(frames: string): string {
    let out = '';
    for (const chunk of chunksOf(frames)) out += this.chunk(chunk);
    return out;
  }

  end(frames: string): string {
    let out = this.push(frames);
    if (this.closed) return out;
    out += this.start({});
    out += this.closeBlock();
    this.closed = true;
    const usage = anthropicUsage(this.usage);
    return (
      out +
      event('message_delta', { delta: { stop_reason: stopReason(this.finish), stop_sequence: null }, usage }) +
      event('message_stop', {})
    );
  }

  error(message: string, type: string, code: string | null): string {
    this.closed = true;
    const status = type === 'rate_limit_error' ? 429 : type === 'invalid_request_error' ? 400 : 500;
    return event('error', { error: { type: errorType(status, type, code), message } });
  }

  private chunk(chunk: Record<string, unknown>): string {
    if (isRecord(chunk.error)) {
      const e = chunk.error;
      return this.error(String(e.message ?? 'upstream error'), String(e.type ?? 'api_error'), typeof e.code === 'string' ? e.code : null);
    }
    let out = this.start(chunk);
    if (chunk.usage) this.usage = chunk.usage;
    const choice = Array.isArray(chunk.choices) && isRecord(chunk.choices[0]) ? chunk.choices[0] : undefined;
    if (!choice) return out;
    const delta = isRecord(choice.delta) ? choice.delta : {};
    const text = typeof delta.content === 'string' ? delta.content : typeof delta.refusal === 'string' ? delta.refusal : '';
    if (text !== '') {
      if (this.open?.kind !== 'text') out += this.closeBlock() + this.openBlock('text', { type: 'text', text: '' });
      out += event('content_block_delta', { index: this.open?.index, delta: { type: 'text_delta', text } });
    }
    for (const call of Array.isArray(delta.tool_calls) ? delta.tool_calls : []) if (isRecord(call)) out += this.toolDelta(call);
    if (choice.finish_reason) this.finish = choice.finish_reason;
    return out;
  }

  private toolDelta(call: Record<string, unknown>): string {
    const toolIndex = typeof call.index === 'number' ? call.index : 0;
    const fn = isRecord(call.function) ? call.function : {};
    let out = '';
    let block = this.toolBlocks.get(toolIndex);
    if (block === undefined) {
      out += this.closeBlock();
      const id = typeof call.id === 'string' ? call.id : `toolu_${toolIndex}`;
      out += this.openBlock('tool', { type: 'tool_use', id, name: fn.name ?? '', input: {} }, toolIndex);
      block = this.open?.index ?? 0;
      this.toolBlocks.set(toolIndex, block);
    }
    if (typeof fn.arguments === 'string' && fn.arguments !== '') {
      out += event('content_block_delta', { index: block, delta: { type: 'input_json_delta', partial_json: fn.arguments } });
    }
    return out;
  }

  private start(chunk: Record<string, unknown>): string {
    if (this.started) return '';
    this.started = true;
    const message = {
      id: messageId(chunk.id),
      type: 'message',
      role: 'assistant',
      model: chunk.model ?? '',
      content: [],
      stop_reason: null,
      stop_sequence: null,
      // OpenAI reports usage only at the end; the totals follow in message_delta.
      usage: { input_tokens: 0, output_tokens: 0 },
    };
    return event('message_start', { message });
  }

  private openBlock(kind: 'text' | 'tool', contentBlock: Record<string, unknown>, toolIndex?: number): string {
    this.open = { index: this.blocks++, kind, toolIndex };
    return event('content_block_start', { index: this.open.index, content_block: contentBlock });
  }

  private closeBlock(): string {
    if (!this.open) return '';
    const index = this.open.index;
    this.open = undefined;
    return event('content_block_stop', { index });
  }
}

/** The JSON chunks in a run of complete OpenAI SSE frames; [DONE] and comments are skipped. */
function* chunksOf(frames: string): Generator<Record<string, unknown>> {
  for (const frame of frames.split('\n\n')) {
    const data = frame
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5))
      .join('\n');
    if (data === '' || data === '[DONE]') continue;
    try {
      const parsed: unknown = JSON.parse(data);
      if (isRecord(parsed)) yield parsed;
    } catch {
      // a frame that is not JSON carries nothing an Anthropic client could use
    }
  }
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.round(v) : 0;
}

export const anthropicClient: ClientFormat = {
  name: 'anthropic',
  wholeBody,
  streamEncoder: () => new AnthropicEncoder(),
  errorBody: (err: HttpError) => anthropicErrorJson(err.message, errorType(err.status, err.type, err.code)),
};

/** POST /v1/messages: Anthropic-format requests, routed like any chat, answered in Anthropic's shape. */
export const messages: ChatEndpoint = { endpoint: 'messages', parse: (json) => toChatBody(parseMessagesRequest(json)), client: anthropicClient, native: nativeMessages };
