// Token counts when the upstream reported none, and the cheap guess a hard budget uses before a request.
//
// estimateUsage counts with a real tokenizer (o200k_base, the GPT-4o/4.1 encoding) and the OpenAI chat
// framing (3 tokens per message, 1 per name, 3 to prime the reply); other providers' tokenizers differ by
// some percent, which is why ledger entries made from it are marked usageSource "estimated".
// The package's main entry is the o200k_base encoding (its subpath exports do not resolve in both tsc's
// node10 resolution and esbuild's import condition; a unit test checks it against o200k_base itself).
import type { Price } from '../../shared/config';
import type * as Tokenizer from './tokenizer';
import type { ChatBody } from '../core/chat';
import type { Usage } from '../core/usage';

const PER_MESSAGE = 3;
const PER_NAME = 1;
const REPLY_PRIMING = 3;

/** Prompt tokens of `body` and completion tokens of `outputText`, counted locally. */
export function estimateUsage(body: ChatBody, outputText: string): Usage {
  let prompt = REPLY_PRIMING;
  for (const message of body.messages) {
    prompt += PER_MESSAGE;
    if (typeof message !== 'object' || message === null) continue;
    const m = message as Record<string, unknown>;
    if (typeof m.role === 'string') prompt += tokens(m.role);
    if (typeof m.name === 'string') prompt += PER_NAME + tokens(m.name);
    prompt += tokens(contentText(m.content));
    if (m.tool_calls !== undefined) prompt += tokens(JSON.stringify(m.tool_calls));
  }
  // Tool definitions are sent to the model as text too.
  if (Array.isArray(body.tools) && body.tools.length > 0) prompt += tokens(JSON.stringify(body.tools));
  return { promptTokens: prompt, completionTokens: outputText === '' ? 0 : tokens(outputText) };
}

/**
 * Before a request: what it may cost at the dearest of `prices`, for hard budgets. Four characters per
 * token (no tokenizer on the hot path) plus max_tokens at the output price when the client set one.
 * The check it feeds needs only an estimate that is not negative: refusing when spent + estimate
 * exceeds the limit is what keeps one request from overshooting by more than its own cost.
 */
export function preRequestEstimateUsd(body: ChatBody, prices: readonly (Price | undefined)[]): number {
  let input = 0;
  let output = 0;
  for (const p of prices) {
    if (!p) continue;
    input = Math.max(input, p.input);
    output = Math.max(output, p.output, p.reasoning ?? 0);
  }
  if (input === 0 && output === 0) return 0;
  const promptTokens = Math.ceil(JSON.stringify(body.messages).length / 4);
  const max = [body.max_completion_tokens, body.max_tokens].find((n): n is number => typeof n === 'number' && Number.isFinite(n) && n > 0) ?? 0;
  return (promptTokens * input + max * output) / 1_000_000;
}

// Loaded on first use: building the encoding costs about a second and 100 MB, which a daemon whose
// upstreams always report usage never needs to pay (and `shepherd --version` should not). In the
// bundle this require is left for Node and loads dist/tokenizer.js beside the daemon (esbuild.mjs),
// so the encoding's data is not even parsed at start-up.
let tokenizer: typeof Tokenizer | undefined;

function tokens(text: string): number {
  if (text === '') return 0;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  tokenizer ??= require('./tokenizer') as typeof Tokenizer;
  return tokenizer.count(text);
}

/** A message's text: a string, or the text parts of a content array (images etc. are not counted). */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const part of content) {
    if (typeof part === 'object' && part !== null && typeof (part as { text?: unknown }).text === 'string') {
      text += (part as { text: string }).text;
    }
  }
  return text;
}
