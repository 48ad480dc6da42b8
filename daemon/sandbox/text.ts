// What a sandbox upstream "says": deterministic replies and token counts. Pure: no I/O, no clock,
// no Math.random, so the same request always gets the same answer (tests compare texts across
// deployments, streaming and not).
import { isRecord } from '../../shared/is-record';

/** Every sandbox reply starts with this label, so nobody mistakes it for a real model's answer. */
export const SANDBOX_LABEL = '[sandbox]';

// A fixed vocabulary; replies are drawn from it by a PRNG seeded with the messages' hash.
const WORDS = [
  'flock', 'meadow', 'fence', 'gate', 'shepherd', 'crook', 'wool', 'lamb', 'ewe', 'ram', 'hill', 'valley',
  'river', 'stone', 'path', 'grass', 'clover', 'barn', 'dog', 'whistle', 'morning', 'evening', 'rain', 'wind',
  'cloud', 'sun', 'field', 'hedge', 'stream', 'bridge', 'trail', 'pasture', 'quiet', 'steady', 'gentle', 'swift',
  'green', 'golden', 'grey', 'white', 'calm', 'bright', 'far', 'near', 'over', 'under', 'through', 'along',
  'gathers', 'wanders', 'rests', 'grazes', 'follows', 'leads', 'counts', 'watches', 'returns', 'crosses',
  'and', 'the', 'a', 'to', 'with', 'by',
] as const;

export type FinishReason = 'stop' | 'length' | 'tool_calls';

export type Reply =
  | { kind: 'text'; pieces: string[]; finishReason: 'stop' | 'length' }
  | { kind: 'tool_call'; name: string; arguments: string; finishReason: 'tool_calls' };

export interface PlannedReply {
  reply: Reply;
  promptTokens: number;
  completionTokens: number;
}

/** The parts of a chat request the reply depends on (already checked by the server). */
export interface ReplyRequest {
  messages: unknown[];
  /** max_completion_tokens ?? max_tokens, if the request set one. */
  maxTokens?: number;
  tools?: unknown[];
  toolChoice?: unknown;
}

/**
 * The whole answer to one chat request. `defaultWords` is how long the "model" wants to talk; a
 * smaller max tokens truncates it (finish_reason 'length'). The label counts as the first token, so
 * completion tokens always equal the number of content chunks a stream carries.
 */
export function planReply(req: ReplyRequest, defaultWords: number): PlannedReply {
  const json = JSON.stringify(req.messages); // once: both the seed and the prompt estimate use it
  const promptTokens = estimateTokens(json);
  const tool = toolToCall(req);
  if (tool !== undefined) {
    const args = JSON.stringify({ query: firstWords(lastUserText(req.messages), 6) });
    return {
      reply: { kind: 'tool_call', name: tool, arguments: args, finishReason: 'tool_calls' },
      promptTokens,
      completionTokens: estimateTokens(tool + args),
    };
  }
  const wanted = Math.max(1, Math.floor(defaultWords));
  const length = req.maxTokens !== undefined ? Math.min(req.maxTokens, wanted) : wanted;
  const pieces = replyPieces(json, length);
  return {
    reply: { kind: 'text', pieces, finishReason: length < wanted ? 'length' : 'stop' },
    promptTokens,
    completionTokens: pieces.length,
  };
}

/** `count` pieces: the label, then " word" each; joined they are the reply text. */
export function replyPieces(messagesJson: string, count: number): string[] {
  const next = mulberry32(fnv1a(messagesJson));
  const pieces: string[] = [];
  if (count >= 1) pieces.push(SANDBOX_LABEL);
  for (let i = 1; i < count; i++) pieces.push(' ' + WORDS[Math.floor(next() * WORDS.length)]);
  return pieces;
}

/** The usual rough estimate of ~4 characters per token; deterministic, which is all tests need. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Tool-call arguments are streamed in small pieces, as OpenAI does. */
export function argumentPieces(args: string, size = 8): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i += size) out.push(args.slice(i, i + size));
  return out.length > 0 ? out : [''];
}

// A tool is called when tools are offered and the model is not looking at a tool's result yet.
function toolToCall(req: ReplyRequest): string | undefined {
  if (!req.tools || req.tools.length === 0 || req.toolChoice === 'none') return undefined;
  const last = req.messages.at(-1);
  if (isRecord(last) && last.role === 'tool') return undefined;
  const chosen = isRecord(req.toolChoice) && isRecord(req.toolChoice.function) ? req.toolChoice.function.name : undefined;
  if (typeof chosen === 'string') return chosen;
  const first = req.tools[0];
  const name = isRecord(first) && isRecord(first.function) ? first.function.name : undefined;
  return typeof name === 'string' ? name : undefined;
}

function lastUserText(messages: unknown[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (!isRecord(m) || m.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    if (Array.isArray(m.content)) {
      return m.content.map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : '')).join(' ');
    }
    return '';
  }
  return '';
}

function firstWords(text: string, n: number): string {
  return text.split(/\s+/).filter(Boolean).slice(0, n).join(' ');
}

/** FNV-1a over UTF-16 code units: a tiny, stable string hash for the seed. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: a small, good-enough seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

