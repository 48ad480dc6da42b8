// The cheap checks on an answer's shape: cut off, empty or a refusal, too short for the prompt's kind.
import type { CascadeChecks } from '../../../shared/routing-config';
import type { CheckedAnswer, CheckedRequest, CheckFailure } from './answer';

/**
 * Cut off: finish_reason "length" counts unless the client asked for that limit itself (it set a max
 * and the answer used at least 95 % of it, or the upstream did not say how much it used).
 */
export function checkTruncated(answer: CheckedAnswer, maxTokens: number | undefined): CheckFailure | undefined {
  if (answer.finishReason !== 'length') return undefined;
  if (maxTokens === undefined) return { check: 'truncated', detail: 'the answer was cut off (finish_reason length) with no limit set by the client' };
  if (answer.completionTokens === undefined || answer.completionTokens >= maxTokens * 0.95) return undefined;
  return { check: 'truncated', detail: `the answer was cut off at ${answer.completionTokens} tokens, below the client's limit of ${maxTokens}` };
}

/** An empty answer (no text, no tool call), or a short one that opens with a refusal or a shrug. */
export function checkRefusal(answer: CheckedAnswer, phrases: readonly string[], maxChars: number): CheckFailure | undefined {
  const text = answer.content.trim();
  if (text === '') return answer.toolCalls.length > 0 ? undefined : { check: 'refusal', detail: 'the answer is empty' };
  if (text.length >= maxChars) return undefined;
  const opening = text.slice(0, 160).toLowerCase().replace(/[\u2019\u2018]/g, "'");
  const phrase = phrases.find((p) => opening.includes(p.toLowerCase()));
  return phrase === undefined ? undefined : { check: 'refusal', detail: `a short answer that says "${phrase}"` };
}

export function checkMinLength(answer: CheckedAnswer, request: CheckedRequest, min: CascadeChecks['minLength']): CheckFailure | undefined {
  const limit = min[request.tier];
  if (limit === undefined || answer.toolCalls.length > 0) return undefined;
  const length = answer.content.trim().length;
  return length < limit ? { check: 'minLength', detail: `${length} characters, under the ${limit} set for ${request.tier} prompts` } : undefined;
}
