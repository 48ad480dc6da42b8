// What a sandbox upstream "says": deterministic replies and token counts. Pure: no I/O, no clock,
// no Math.random, so the same request always gets the same answer (tests compare texts across
// deployments, streaming and not).
import { isRecord } from '../../shared/is-record';
import { schemaInstance, toolArguments } from './schema-instance';

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
  /** OpenAI's response_format: {type:'json_object'} or {type:'json_schema', json_schema:{schema}}. */
  responseFormat?: unknown;
}

/**
 * The whole answer to one chat request. `defaultWords` is how long the "model" wants to talk; a
 * smaller max tokens truncates it (finish_reason 'length'). The label counts as the first token, so
 * completion tokens always equal the number of content chunks a stream carries.
 */
export function planReply(req: ReplyRequest, defaultWords: number): PlannedReply {
  const json = JSON.stringify(req.messages); // once: both the seed and the prompt estimate use it
  const promptTokens = estimateTokens(json);
  const hints = { text: firstWords(lastUserText(req.messages), 6) };
  const tool = toolToCall(req);
  if (tool !== undefined) {
    const args = JSON.stringify(toolArguments(tool.parameters, hints));
    return {
      reply: { kind: 'tool_call', name: tool.name, arguments: args, finishReason: 'tool_calls' },
      promptTokens,
      completionTokens: estimateTokens(tool.name + args),
    };
  }
  const asJson = jsonAnswer(req.responseFormat, hints.text === '' ? SANDBOX_LABEL : `${SANDBOX_LABEL} ${hints.text}`);
  if (asJson !== undefined) {
    // Not cut at max tokens: a truncated JSON text would be no JSON at all.
    const pieces = argumentPieces(asJson);
    return { reply: { kind: 'text', pieces, finishReason: 'stop' }, promptTokens, completionTokens: pieces.length };
  }
  const wanted = Math.max(1, Math.floor(defaultWords));
  const length = req.maxTokens !== undefined ? Math.min(req.maxTokens, wanted) : wanted;
  const result = toolResultAfterLastUser(req.messages);
  if (result !== undefined) {
    // The agent loop ends: the "model" reports what the tool said instead of calling it again.
    const words = ['Done.', 'The', 'tool', 'said:', ...result.split(/\s+/).filter(Boolean)].slice(0, Math.max(0, length - 1));
    const pieces = [SANDBOX_LABEL, ...words.map((w) => ' ' + w)].slice(0, length);
    return { reply: { kind: 'text', pieces, finishReason: 'stop' }, promptTokens, completionTokens: pieces.length };
  }
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

interface ToolSpec {
  name: string;
  parameters: unknown;
}

/**
 * A tool is called when tools are offered and no tool has answered since the user's last message, so
 * an agent loop ends after one round trip. The named tool_choice wins; otherwise a shell-like tool
 * (what a coding agent needs to see its folder), else the first.
 */
function toolToCall(req: ReplyRequest): ToolSpec | undefined {
  if (!req.tools || req.tools.length === 0 || req.toolChoice === 'none') return undefined;
  if (toolResultAfterLastUser(req.messages) !== undefined) return undefined;
  const specs = req.tools.map(toolSpec).filter((t): t is ToolSpec => t !== undefined);
  const chosen = isRecord(req.toolChoice) && isRecord(req.toolChoice.function) ? req.toolChoice.function.name : undefined;
  if (typeof chosen === 'string') return specs.find((t) => t.name === chosen) ?? { name: chosen, parameters: undefined };
  return specs.find((t) => SHELL_TOOL.test(t.name)) ?? specs[0];
}

const SHELL_TOOL = /^(shell|shell_command|exec_command|bash|run_shell_command|execute_command|run_command|terminal)$/i;

function toolSpec(tool: unknown): ToolSpec | undefined {
  const fn = isRecord(tool) && isRecord(tool.function) ? tool.function : undefined;
  return fn && typeof fn.name === 'string' ? { name: fn.name, parameters: fn.parameters } : undefined;
}

/** The text of the last tool result after the user's last message, or undefined when there is none. */
function toolResultAfterLastUser(messages: unknown[]): string | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (!isRecord(m)) continue;
    if (m.role === 'user') return undefined;
    if (m.role === 'tool') return contentText(m.content);
  }
  return undefined;
}

/** JSON text for a JSON response_format (an object matching the schema when one is given), else undefined. */
function jsonAnswer(format: unknown, text: string): string | undefined {
  if (!isRecord(format)) return undefined;
  if (format.type === 'json_object') return JSON.stringify({ answer: text });
  if (format.type !== 'json_schema') return undefined;
  const spec = isRecord(format.json_schema) ? format.json_schema : {};
  const schema = isRecord(spec.schema) ? spec.schema : { type: 'object', properties: { answer: { type: 'string' } } };
  return JSON.stringify(schemaInstance(schema, { text }));
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (isRecord(part) ? (typeof part.text === 'string' ? part.text : typeof part.content === 'string' ? part.content : contentText(part.content)) : ''))
      .join(' ');
  }
  return '';
}

function lastUserText(messages: unknown[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (!isRecord(m) || m.role !== 'user') continue;
    return contentText(m.content);
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

