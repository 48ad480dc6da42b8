// Gemini GenerateContentResponse -> OpenAI chat completion. A streamed Gemini answer is a series of
// the same objects, so the pieces here serve gemini-stream.ts too. A prompt or answer blocked by
// Gemini's safety filters is an answer, not an outage: finish_reason "content_filter" with the
// reason in `refusal`.
import { randomUUID } from 'node:crypto';
import { isRecord } from '../../../shared/is-record';
import type { Usage } from '../../core/usage';

const FILTERED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'LANGUAGE']);

/** OpenAI finish reason for a Gemini finishReason; a candidate that called a function finished with tool_calls. */
export function finishReason(reason: unknown, calledTool: boolean): string | null {
  if (typeof reason !== 'string' || reason === 'FINISH_REASON_UNSPECIFIED') return null;
  if (reason === 'MAX_TOKENS') return 'length';
  if (FILTERED.has(reason)) return 'content_filter';
  return calledTool ? 'tool_calls' : 'stop';
}

/** Why a filter stopped the answer, for the client to read; undefined when nothing was blocked. */
export function blockedReason(response: Record<string, unknown>, candidate: Record<string, unknown> | undefined): string | undefined {
  const feedback = isRecord(response.promptFeedback) ? response.promptFeedback : undefined;
  if (typeof feedback?.blockReason === 'string') return `Gemini blocked the prompt (${feedback.blockReason})`;
  const reason = candidate?.finishReason;
  if (typeof reason === 'string' && FILTERED.has(reason)) return `Gemini stopped the answer (${reason})`;
  return undefined;
}

export function readUsage(response: Record<string, unknown>): Usage | undefined {
  const u = response.usageMetadata;
  if (!isRecord(u)) return undefined;
  const prompt = count(u.promptTokenCount) + count(u.toolUsePromptTokenCount);
  // Thinking tokens are billed as output.
  const completion = count(u.candidatesTokenCount) + count(u.thoughtsTokenCount);
  const cached = count(u.cachedContentTokenCount);
  return { promptTokens: prompt, completionTokens: completion, ...(cached > 0 ? { cachedTokens: cached } : {}) };
}

export function openaiUsage(u: Usage): Record<string, unknown> {
  return {
    prompt_tokens: u.promptTokens,
    completion_tokens: u.completionTokens,
    total_tokens: u.promptTokens + u.completionTokens,
    prompt_tokens_details: { cached_tokens: u.cachedTokens ?? 0 },
  };
}

export interface CandidateParts {
  text: string;
  calls: { id: string; name: string; arguments: string }[];
}

/** Text and function calls of one candidate (thought parts are left out). */
export function candidateParts(candidate: Record<string, unknown> | undefined): CandidateParts {
  const out: CandidateParts = { text: '', calls: [] };
  const content = isRecord(candidate?.content) ? candidate.content : undefined;
  const parts = Array.isArray(content?.parts) ? content.parts : [];
  for (const part of parts) {
    if (!isRecord(part) || part.thought === true) continue;
    if (typeof part.text === 'string') out.text += part.text;
    const call = part.functionCall;
    if (isRecord(call) && typeof call.name === 'string') {
      // Gemini rarely gives call ids; OpenAI clients need one to send the result back.
      const id = typeof call.id === 'string' && call.id !== '' ? call.id : `call_${randomUUID().replace(/-/g, '').slice(0, 24)}`;
      out.calls.push({ id, name: call.name, arguments: JSON.stringify(isRecord(call.args) ? call.args : {}) });
    }
  }
  return out;
}

export function candidatesOf(response: Record<string, unknown>): Record<string, unknown>[] {
  return Array.isArray(response.candidates) ? response.candidates.filter(isRecord) : [];
}

export function fromGeminiResponse(response: unknown, created: number): { body: string; usage: Usage | undefined } {
  if (!isRecord(response)) throw new SyntaxError('not a Gemini response');
  const candidates = candidatesOf(response);
  const list = candidates.length > 0 ? candidates : [undefined]; // a blocked prompt has none
  const choices = list.map((candidate, i) => {
    const { text, calls } = candidateParts(candidate);
    const blocked = blockedReason(response, candidate);
    const message: Record<string, unknown> = {
      role: 'assistant',
      content: text === '' && (calls.length > 0 || blocked) ? null : text,
      refusal: blocked ?? null,
    };
    if (calls.length > 0) {
      message.tool_calls = calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
    }
    const finish = blocked && !candidate ? 'content_filter' : (finishReason(candidate?.finishReason, calls.length > 0) ?? 'stop');
    return { index: typeof candidate?.index === 'number' ? candidate.index : i, message, finish_reason: finish, logprobs: null };
  });
  const usage = readUsage(response);
  const body = {
    id: typeof response.responseId === 'string' ? response.responseId : `chatcmpl-${randomUUID()}`,
    object: 'chat.completion',
    created,
    model: typeof response.modelVersion === 'string' ? response.modelVersion : '',
    choices,
    ...(usage ? { usage: openaiUsage(usage) } : {}),
  };
  return { body: JSON.stringify(body), usage };
}

function count(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.round(v) : 0;
}
