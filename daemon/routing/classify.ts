// Automatic model choice: sorts a chat request into a complexity tier (simple, medium, complex,
// reasoning) from what it visibly asks for. Deterministic and cheap (no model call, no tokenizer: a
// request's size is estimated at 4 characters per token), and every point it scores comes with a reason.
//
// Scoring (documented in the README):
//   prompt size      > 1,000 estimated tokens: +1; > 4,000: +2
//   requested output max_tokens / max_completion_tokens > 2,000: +1
//   code             a fenced block or several code-looking lines: +2
//   conversation     more than 8 messages: +1
//   tools            the request offers tools: +1
//   reasoning cues   each distinct cue word (prove, analyse, debug, compare, step by step...): +1, at most +3
// Tier: "reasoning" when there are two or more distinct reasoning cues and the score is at least 3, or
// when the client set reasoning_effort; otherwise "complex" from 4 points, "medium" from 2, else "simple".
import type { Tier } from '../../shared/routing-config';
import type { ChatBody } from '../core/chat';

export interface Classification {
  tier: Tier;
  score: number;
  estimatedPromptTokens: number;
  reasons: string[];
}

const REASONING_CUES: [string, RegExp][] = [
  ['prove', /\bprove\b|\bproof\b/i],
  ['analyse', /\banaly[sz]e\b|\banalysis\b/i],
  ['debug', /\bdebug\b|\broot cause\b/i],
  ['compare', /\bcompare\b|\btrade-?offs?\b/i],
  ['step by step', /\bstep[- ]by[- ]step\b/i],
  ['derive', /\bderive\b|\bderivation\b/i],
  ['why', /\bexplain why\b|\bwhy does\b|\bwhy is\b/i],
  ['optimise', /\boptimi[sz]e\b/i],
  ['design', /\barchitecture\b|\bdesign (?:a|an|the)\b/i],
  ['plan', /\bplan out\b|\bmulti-step\b/i],
];

const CODE_LINE = /^\s*(?:def |class |function |import |from \S+ import|#include|public |private |const |let |var |return\b|if \(|for \(|while \().*|.*[;{}]\s*$/;

export function classify(body: ChatBody): Classification {
  const text = messageText(body.messages);
  const estimatedPromptTokens = Math.ceil(text.length / 4);
  const reasons: string[] = [];
  let score = 0;
  const add = (points: number, reason: string) => {
    score += points;
    reasons.push(`${reason} (+${points})`);
  };

  if (estimatedPromptTokens > 4_000) add(2, `long prompt, ~${estimatedPromptTokens} tokens`);
  else if (estimatedPromptTokens > 1_000) add(1, `prompt of ~${estimatedPromptTokens} tokens`);

  const maxTokens = numberField(body.max_completion_tokens) ?? numberField(body.max_tokens);
  if (maxTokens !== undefined && maxTokens > 2_000) add(1, `asks for up to ${maxTokens} output tokens`);

  if (hasCode(text)) add(2, 'code in the prompt');
  if (body.messages.length > 8) add(1, `conversation of ${body.messages.length} messages`);
  if (Array.isArray(body.tools) && body.tools.length > 0) add(1, `${body.tools.length} tool(s) offered`);

  const cues = REASONING_CUES.filter(([, re]) => re.test(text)).map(([name]) => name);
  if (cues.length > 0) add(Math.min(3, cues.length), `reasoning cues: ${cues.join(', ')}`);

  let tier: Tier;
  if (typeof body.reasoning_effort === 'string') {
    tier = 'reasoning';
    reasons.push(`client set reasoning_effort "${body.reasoning_effort}"`);
  } else if (cues.length >= 2 && score >= 3) tier = 'reasoning';
  else if (score >= 4) tier = 'complex';
  else if (score >= 2) tier = 'medium';
  else tier = 'simple';
  if (reasons.length === 0) reasons.push('short prompt with no code, tools or reasoning cues');
  return { tier, score, estimatedPromptTokens, reasons };
}

/** The text of every message (string content and text parts), joined; images and tool calls do not count. */
export function messageText(messages: readonly unknown[]): string {
  const parts: string[] = [];
  for (const m of messages) {
    if (typeof m !== 'object' || m === null) continue;
    const content = (m as { content?: unknown }).content;
    if (typeof content === 'string') parts.push(content);
    else if (Array.isArray(content)) {
      for (const part of content) {
        const t = typeof part === 'object' && part !== null ? (part as { text?: unknown }).text : undefined;
        if (typeof t === 'string') parts.push(t);
      }
    }
  }
  return parts.join('\n');
}

function hasCode(text: string): boolean {
  if (text.includes('```')) return true;
  let codeLines = 0;
  for (const line of text.split('\n', 400)) {
    if (line.length > 2 && CODE_LINE.test(line) && ++codeLines >= 3) return true;
  }
  return false;
}

function numberField(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
