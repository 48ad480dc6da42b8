// Anthropic Messages answers -> OpenAI chat completions: the finish reason, the usage (cache reads
// and writes included) and a whole message with its text and tool calls.
import { isRecord } from '../../../shared/is-record';
import type { Usage } from '../../core/usage';
import { finishReason } from './stop-reasons';

/** Anthropic's raw counters; input_tokens excludes cache reads and writes, unlike OpenAI's prompt_tokens. */
export interface AnthropicCounts {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  /** The part of cacheWrite kept for an hour (`cache_creation.ephemeral_1h_input_tokens`), billed higher. */
  cacheWrite1h: number;
}

export const NO_COUNTS: AnthropicCounts = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, cacheWrite1h: 0 };

/** Folds a usage object into counts; fields absent or null keep their earlier value (stream deltas). */
export function mergeCounts(prev: AnthropicCounts, usage: unknown): AnthropicCounts {
  if (!isRecord(usage)) return prev;
  return {
    input: count(usage.input_tokens) ?? prev.input,
    output: count(usage.output_tokens) ?? prev.output,
    cacheRead: count(usage.cache_read_input_tokens) ?? prev.cacheRead,
    cacheWrite: count(usage.cache_creation_input_tokens) ?? prev.cacheWrite,
    cacheWrite1h: (isRecord(usage.cache_creation) ? count(usage.cache_creation.ephemeral_1h_input_tokens) : undefined) ?? prev.cacheWrite1h,
  };
}

/** The router's usage: every input token counts as prompt; cache reads are the cached part. */
export function toUsage(c: AnthropicCounts): Usage {
  return {
    promptTokens: c.input + c.cacheRead + c.cacheWrite,
    completionTokens: c.output,
    ...(c.cacheRead > 0 ? { cachedTokens: c.cacheRead } : {}),
    ...(c.cacheWrite > 0 ? { cacheWriteTokens: c.cacheWrite } : {}),
    ...(c.cacheWrite1h > 0 ? { cacheWrite1hTokens: Math.min(c.cacheWrite1h, c.cacheWrite) } : {}),
  };
}

export function openaiUsage(c: AnthropicCounts): Record<string, unknown> {
  const u = toUsage(c);
  return {
    prompt_tokens: u.promptTokens,
    completion_tokens: u.completionTokens,
    total_tokens: u.promptTokens + u.completionTokens,
    prompt_tokens_details: { cached_tokens: c.cacheRead },
    // Not an OpenAI field, but lets a client see what the cache writes were.
    cache_creation_input_tokens: c.cacheWrite,
  };
}

export function fromAnthropicMessage(message: unknown, created: number): { body: string; usage: Usage } {
  if (!isRecord(message) || !Array.isArray(message.content)) throw new SyntaxError('not an Anthropic message');
  let text = '';
  let reasoning = '';
  const toolCalls: unknown[] = [];
  for (const block of message.content) {
    if (!isRecord(block)) continue;
    if (block.type === 'text' && typeof block.text === 'string') text += block.text;
    // The model's thinking, as the `reasoning_content` DeepSeek, vLLM and OpenRouter clients read.
    else if (block.type === 'thinking' && typeof block.thinking === 'string') reasoning += block.thinking;
    else if (block.type === 'tool_use') {
      toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } });
    }
    // redacted thinking (encrypted) and server-tool blocks have no OpenAI counterpart and are left out.
  }
  const counts = mergeCounts(NO_COUNTS, message.usage);
  const body = {
    id: message.id,
    object: 'chat.completion',
    created,
    model: message.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text === '' && toolCalls.length > 0 ? null : text,
          refusal: null,
          ...(reasoning !== '' ? { reasoning_content: reasoning } : {}),
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: finishReason(message.stop_reason),
        logprobs: null,
      },
    ],
    usage: openaiUsage(counts),
  };
  return { body: JSON.stringify(body), usage: toUsage(counts) };
}

function count(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.round(v) : undefined;
}
