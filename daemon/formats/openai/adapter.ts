// Adapter for every upstream that speaks OpenAI chat completions: OpenAI itself, DeepSeek,
// OpenRouter and other relays, Ollama, vLLM, and the OpenAI-compatible endpoints of Anthropic and
// Google. Bodies pass through untouched apart from the model name and, when streaming, a request
// for usage; answers pass through as the upstream wrote them.
import type { ProviderAdapter, StreamOptions, StreamTranslator, UpstreamHttpRequest } from '../types';
import type { UpstreamTarget } from '../../core/target';
import type { ChatBody } from '../../core/chat';
import { classForStatus, type UpstreamFailure } from '../../core/failure';
import type { Usage } from '../../core/usage';
import { retryAfterMs, isRetryableStatus } from '../http-status';
import { isRecord } from '../../../shared/is-record';
import { responsesPassthrough } from './responses-passthrough';

export const openaiCompatible: ProviderAdapter = {
  type: 'openai-compatible',

  // POST /v1/responses to a provider with `responsesApi` (OpenAI itself) passes through unchanged.
  passthrough: responsesPassthrough,

  chatRequest(target: UpstreamTarget, body: ChatBody): UpstreamHttpRequest {
    const out: ChatBody = { ...body, model: target.upstreamModel };
    // Ask for usage in the stream so cost is exact; the translator hides it again when the client
    // did not ask for it.
    if (body.stream === true) out.stream_options = { ...body.stream_options, include_usage: true };
    return {
      method: 'POST',
      path: '/chat/completions',
      headers: baseHeaders(target, body.stream === true ? 'text/event-stream' : 'application/json'),
      body: JSON.stringify(out),
    };
  },

  parseChatResponse(text: string) {
    const parsed: unknown = JSON.parse(text);
    return { body: text, usage: readUsage(parsed) };
  },

  streamTranslator(options: StreamOptions): StreamTranslator {
    return new OpenAIStreamRelay(options.clientWantsUsage, options.operation === 'completions');
  },

  classifyStatus(status, headers, bodyText): UpstreamFailure {
    const upstream = readErrorBody(bodyText);
    return {
      kind: 'status',
      class: classForStatus(status),
      status,
      retryable: isRetryableStatus(status),
      retryAfterMs: retryAfterMs(headers),
      message: upstream.message ?? `upstream answered HTTP ${status}`,
      type: upstream.type ?? (status >= 500 ? 'api_error' : 'invalid_request_error'),
      code: upstream.code,
    };
  },

  probeRequest(target: UpstreamTarget): UpstreamHttpRequest {
    return { method: 'GET', path: '/models', headers: baseHeaders(target, 'application/json') };
  },

  // Embeddings and completions pass through like chat: the client's body with the upstream's model name.
  embeddingsRequest(target, payload) {
    return { method: 'POST', path: '/embeddings', headers: baseHeaders(target, 'application/json'), body: JSON.stringify({ ...payload, model: target.upstreamModel }) };
  },

  parseEmbeddings(text) {
    return { body: text, usage: readUsage(JSON.parse(text)) };
  },

  completionsRequest(target, payload) {
    const stream = payload.stream === true;
    const path = target.provider.completionsPath;
    const out: Record<string, unknown> = path === undefined ? { ...payload } : fimBody(payload);
    out.model = target.upstreamModel;
    if (stream) out.stream_options = { ...(isRecord(payload.stream_options) ? payload.stream_options : {}), include_usage: true };
    if (path !== undefined) delete out.stream_options; // FIM APIs (Codestral) report usage unasked and refuse unknown fields
    return { method: 'POST', path: path ?? '/completions', headers: baseHeaders(target, stream ? 'text/event-stream' : 'application/json'), body: JSON.stringify(out) };
  },

  parseCompletions(text) {
    const parsed: unknown = JSON.parse(text);
    // A FIM API answering in the chat shape (Codestral's /fim/completions) becomes a text completion.
    return { body: isChatShaped(parsed) ? JSON.stringify(toTextCompletion(parsed)) : text, usage: readUsage(parsed) };
  },
};

/** The fields a dedicated FIM API (Mistral's /fim/completions) takes; it refuses others. */
const FIM_FIELDS = ['prompt', 'suffix', 'max_tokens', 'min_tokens', 'temperature', 'top_p', 'stop', 'stream'] as const;

function fimBody(payload: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of FIM_FIELDS) if (payload[f] !== undefined && payload[f] !== null) out[f] = payload[f];
  if (Array.isArray(out.prompt)) out.prompt = out.prompt.join('');
  if (typeof payload.seed === 'number') out.random_seed = payload.seed;
  return out;
}

function isChatShaped(value: unknown): value is Record<string, unknown> & { choices: unknown[] } {
  return isRecord(value) && Array.isArray(value.choices) && value.choices.some((c) => isRecord(c) && (isRecord(c.message) || isRecord(c.delta)) && c.text === undefined);
}

/** A chat-shaped answer or chunk (message or delta content) as OpenAI's text_completion shape. */
function toTextCompletion(value: Record<string, unknown> & { choices: unknown[] }): Record<string, unknown> {
  const choices = value.choices.map((c, i) => {
    if (!isRecord(c)) return c;
    const m = isRecord(c.message) ? c.message : isRecord(c.delta) ? c.delta : {};
    return { text: typeof m.content === 'string' ? m.content : '', index: typeof c.index === 'number' ? c.index : i, logprobs: null, finish_reason: c.finish_reason ?? null };
  });
  return { ...value, object: 'text_completion', choices };
}

function baseHeaders(target: UpstreamTarget, accept: string): Record<string, string> {
  // Assigned, not spread: a spread object that then gets another key is slow to build in V8.
  const headers: Record<string, string> = { 'content-type': 'application/json', accept };
  if (target.provider.headers) Object.assign(headers, target.provider.headers);
  if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;
  return headers;
}

/**
 * Relays OpenAI SSE events. Most frames are forwarded as the exact text received; only frames that
 * carry usage are parsed. A JSON string cannot contain an unescaped `"usage"`, so a substring test on
 * the raw frame finds the usage key without parsing every chunk.
 */
const USAGE_NULL = /"usage":\s*null\s*,|,\s*"usage":\s*null/;

class OpenAIStreamRelay implements StreamTranslator {
  private seenUsage: Usage | undefined;
  private finished = false;

  constructor(
    private readonly clientWantsUsage: boolean,
    /** Text completions: a FIM API's chat-shaped chunks (delta.content) are rewritten as text chunks. */
    private readonly completions = false,
  ) {}

  push(event: { event?: string; data: string }): string[] {
    let data = event.data;
    if (data === '[DONE]') {
      this.finished = true;
      return [];
    }
    if (this.completions && data.includes('"delta"')) data = textChunk(data);
    if (!data.includes('"usage"')) return [`data: ${data}\n\n`];
    if (data.includes('"usage":null') || data.includes('"usage": null')) {
      // include_usage puts `"usage":null` on every chunk; a client that did not ask never sees it.
      return [`data: ${this.clientWantsUsage ? data : data.replace(USAGE_NULL, '')}\n\n`];
    }
    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch {
      return [`data: ${data}\n\n`]; // not ours to judge; the client gets what the upstream sent
    }
    const usage = readUsage(chunk);
    if (usage) this.seenUsage = usage;
    if (this.clientWantsUsage || !isRecord(chunk)) return [`data: ${data}\n\n`];
    const choices = chunk.choices;
    if (Array.isArray(choices) && choices.length === 0) return []; // the usage-only chunk
    const { usage: _dropped, ...rest } = chunk;
    return [`data: ${JSON.stringify(rest)}\n\n`];
  }

  end(): string[] {
    this.finished = true;
    return ['data: [DONE]\n\n'];
  }

  usage(): Usage | undefined {
    return this.seenUsage;
  }

  done(): boolean {
    return this.finished;
  }
}

function textChunk(data: string): string {
  try {
    const chunk: unknown = JSON.parse(data);
    return isChatShaped(chunk) ? JSON.stringify(toTextCompletion(chunk)) : data;
  } catch {
    return data;
  }
}

export function readUsage(value: unknown): Usage | undefined {
  if (!isRecord(value) || !isRecord(value.usage)) return undefined;
  const u = value.usage;
  const promptTokens = toCount(u.prompt_tokens);
  const completionTokens = toCount(u.completion_tokens);
  if (promptTokens === undefined && completionTokens === undefined) return undefined;
  const details = isRecord(u.prompt_tokens_details) ? u.prompt_tokens_details : undefined;
  const cachedTokens = details ? toCount(details.cached_tokens) : undefined;
  const outDetails = isRecord(u.completion_tokens_details) ? u.completion_tokens_details : undefined;
  const reasoningTokens = outDetails ? toCount(outDetails.reasoning_tokens) : undefined;
  return {
    promptTokens: promptTokens ?? 0,
    completionTokens: completionTokens ?? 0,
    ...(cachedTokens ? { cachedTokens } : {}),
    ...(reasoningTokens ? { reasoningTokens } : {}),
  };
}

function readErrorBody(text: string): { message?: string; type?: string; code?: string } {
  try {
    const parsed: unknown = JSON.parse(text);
    const err = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : isRecord(parsed) ? parsed : undefined;
    if (!err) return {};
    return {
      message: typeof err.message === 'string' ? err.message : undefined,
      type: typeof err.type === 'string' ? err.type : undefined,
      code: typeof err.code === 'string' ? err.code : undefined,
    };
  } catch {
    const trimmed = text.trim().slice(0, 200);
    return trimmed ? { message: trimmed } : {};
  }
}

function toCount(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.round(v) : undefined;
}

