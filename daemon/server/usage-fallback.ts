// When an upstream reports no usage, the ledger still needs token counts: count the prompt and the
// answer locally (spend/estimate.ts) and mark the entry "estimated". The answer's text is read from the
// OpenAI-shaped output every adapter produces: the completion JSON, or the SSE frames of a stream.
import { isRecord } from '../../shared/is-record';
import type { ChatBody, Usage } from '../providers/types';
import { estimateUsage } from '../spend/estimate';

export interface CountedUsage {
  usage: Usage;
  estimated: boolean;
}

/** The upstream's usage when it sent one; otherwise a local count of `outputText()` (only then computed). */
export function usageOrEstimate(body: ChatBody, reported: Usage | undefined, outputText: () => string): CountedUsage {
  if (reported) return { usage: reported, estimated: false };
  return { usage: estimateUsage(body, outputText()), estimated: true };
}

/** The text of a chat completion's choices: message content and tool-call arguments. */
export function completionText(json: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return '';
  }
  const out: string[] = [];
  for (const choice of choicesOf(parsed)) collect(isRecord(choice) ? choice.message : undefined, out);
  return out.join('');
}

/** The text carried by OpenAI stream frames ("data: {...}\n\n"): content deltas and tool-call argument deltas. */
export function streamedText(frames: readonly string[]): string {
  const out: string[] = [];
  for (const block of frames) {
    for (const line of block.split('\n')) {
      if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
      let chunk: unknown;
      try {
        chunk = JSON.parse(line.slice(6));
      } catch {
        continue;
      }
      for (const choice of choicesOf(chunk)) collect(isRecord(choice) ? choice.delta : undefined, out);
    }
  }
  return out.join('');
}

function choicesOf(value: unknown): unknown[] {
  return isRecord(value) && Array.isArray(value.choices) ? value.choices : [];
}

function collect(message: unknown, out: string[]): void {
  if (!isRecord(message)) return;
  if (typeof message.content === 'string') out.push(message.content);
  if (typeof message.refusal === 'string') out.push(message.refusal);
  if (!Array.isArray(message.tool_calls)) return;
  for (const call of message.tool_calls) {
    const fn = isRecord(call) ? call.function : undefined;
    if (isRecord(fn)) {
      if (typeof fn.name === 'string') out.push(fn.name);
      if (typeof fn.arguments === 'string') out.push(fn.arguments);
    }
  }
}
