// When an upstream reports no usage, the ledger still needs token counts: count the prompt and the
// answer locally (spend/estimate.ts) and mark the entry "estimated". The answer's text is read from the
// OpenAI-shaped output every adapter produces: the completion JSON, or the SSE frames of a stream.
import { isRecord } from '../../shared/is-record';
import type { ChatBody } from '../core/chat';
import type { Usage } from '../core/usage';
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

/** The text of a completion's choices: message content and tool-call arguments, or a text completion's text. */
export function completionText(json: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return '';
  }
  const out: string[] = [];
  for (const choice of choicesOf(parsed)) {
    if (isRecord(choice) && typeof choice.text === 'string') out.push(choice.text); // a text completion
    collect(isRecord(choice) ? choice.message : undefined, out);
  }
  return out.join('');
}

/** A text field of a stream frame: its key, optional spaces, and the opening quote of its value. */
const TEXT_FIELD = /"(?:content|refusal|arguments|name|text)":\s*"/g;

/**
 * The text carried by a stream's OpenAI frames ("data: {...}\n\n"): content, refusal, tool-call names
 * and argument deltas, kept in case the upstream reports no usage. Each frame's string values of those
 * keys are cut out as they pass (still JSON-escaped), without parsing the frame: a stream of thousands
 * of frames holds its text, not its frames, and costs no JSON.parse per chunk. The key pattern cannot
 * match inside a JSON string, where every quote is escaped.
 */
export class StreamedText {
  private readonly pieces: string[] = [];

  add(frames: string): void {
    TEXT_FIELD.lastIndex = 0;
    for (let m = TEXT_FIELD.exec(frames); m !== null; m = TEXT_FIELD.exec(frames)) {
      const start = TEXT_FIELD.lastIndex;
      let i = start;
      while (i < frames.length && frames[i] !== '"') i += frames[i] === '\\' ? 2 : 1;
      if (i > start) this.pieces.push(frames.slice(start, i));
      TEXT_FIELD.lastIndex = i + 1;
    }
  }

  text(): string {
    let out = '';
    for (const raw of this.pieces) {
      try {
        out += JSON.parse(`"${raw}"`) as string;
      } catch {
        out += raw; // a cut-off escape: close enough for a count
      }
    }
    return out;
  }
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
