// The sandbox's answers beyond chat: OpenAI's /v1/embeddings and /v1/completions, and Gemini's
// :embedContent / :batchEmbedContents. Pure and deterministic: a vector is seeded from a hash of its
// text (the same text gets the same unit vector, in every format), and a completion's text comes from
// the prompt and suffix, so tests can compare answers across deployments.
import { isRecord } from '../../shared/is-record';
import { estimateTokens, fnv1a, mulberry32, replyPieces } from './text';
import { RequestError, type Frames } from './wire';

const MAX_DIMENSIONS = 8192;

/** A unit vector of `size` floats, the same for the same text. */
export function sandboxVector(text: string, size: number): number[] {
  const next = mulberry32(fnv1a(text));
  const v = Array.from({ length: size }, () => next() * 2 - 1);
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
  // Rounded through float32, so base64 and float answers carry the very same numbers.
  return v.map((x) => Math.fround(x / norm));
}

function base64Floats(values: number[]): string {
  const buf = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => buf.writeFloatLE(v, i * 4));
  return buf.toString('base64');
}

/** OpenAI's default sizes: text-embedding-3-large has 3072, the others 1536. */
function defaultDimensions(model: string): number {
  return /large/i.test(model) ? 3072 : 1536;
}

function checkDimensions(v: unknown, param: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_DIMENSIONS) {
    throw new RequestError(400, `Invalid '${param}': expected an integer from 1 to ${MAX_DIMENSIONS}.`, 'invalid_value', param);
  }
  return v;
}

/** The texts of an input field: a string, strings, token ids (seeded by their digits), or arrays of token ids. */
function texts(input: unknown, param: string): { text: string; tokens: number }[] {
  const bad = () => new RequestError(400, `Invalid '${param}': expected a string, an array of strings, or token arrays.`, 'invalid_value', param);
  if (typeof input === 'string') return [{ text: input, tokens: estimateTokens(input) }];
  if (!Array.isArray(input) || input.length === 0) throw bad();
  if (input.every((x) => typeof x === 'string')) return input.map((s: string) => ({ text: s, tokens: estimateTokens(s) }));
  if (input.every((x) => typeof x === 'number')) return [{ text: input.join(' '), tokens: input.length }];
  if (input.every((x) => Array.isArray(x) && x.every((n) => typeof n === 'number'))) return input.map((a: number[]) => ({ text: a.join(' '), tokens: a.length }));
  throw bad();
}

export function embeddingsJson(body: unknown): string {
  if (!isRecord(body)) throw new RequestError(400, 'the request body must be a JSON object', 'invalid_type');
  if (typeof body.model !== 'string' || body.model === '') throw new RequestError(400, 'you must provide a model parameter', 'missing_required_parameter', 'model');
  if (body.input === undefined) throw new RequestError(400, "Missing required parameter: 'input'.", 'missing_required_parameter', 'input');
  const format = body.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') throw new RequestError(400, "Invalid 'encoding_format': expected 'float' or 'base64'.", 'invalid_value', 'encoding_format');
  const size = checkDimensions(body.dimensions, 'dimensions') ?? defaultDimensions(body.model);
  const items = texts(body.input, 'input');
  const data = items.map((item, index) => {
    const vector = sandboxVector(item.text, size);
    return { object: 'embedding', index, embedding: format === 'base64' ? base64Floats(vector) : vector };
  });
  const tokens = items.reduce((n, i) => n + i.tokens, 0);
  return JSON.stringify({ object: 'list', data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
}

/** `/v1beta/models/{model}:embedContent` or `:batchEmbedContents`. */
const EMBED_PATH = /^\/v1(?:beta)?\/models\/([^/:]+):(embedContent|batchEmbedContents)$/;

export function geminiEmbedTarget(path: string): { model: string; batch: boolean } | undefined {
  const m = EMBED_PATH.exec(path);
  return m ? { model: decodeURIComponent(m[1]), batch: m[2] === 'batchEmbedContents' } : undefined;
}

function geminiEmbedding(request: unknown, model: string, where: string): { values: number[] } {
  const content = isRecord(request) ? request.content : undefined;
  const parts = isRecord(content) && Array.isArray(content.parts) ? content.parts : undefined;
  if (!parts || parts.length === 0) throw new RequestError(400, `${where}content.parts: must be a non-empty array`, null);
  const text = parts.map((p) => (isRecord(p) && typeof p.text === 'string' ? p.text : '')).join('');
  const dims = checkDimensions(isRecord(request) ? request.outputDimensionality : undefined, `${where}outputDimensionality`);
  return { values: sandboxVector(text, dims ?? (/gemini-embedding/i.test(model) ? 3072 : 768)) };
}

export function geminiEmbedJson(target: { model: string; batch: boolean }, body: unknown): string {
  if (!isRecord(body)) throw new RequestError(400, 'Invalid JSON payload received.', null);
  if (!target.batch) return JSON.stringify({ embedding: geminiEmbedding(body, target.model, '') });
  if (!Array.isArray(body.requests) || body.requests.length === 0) throw new RequestError(400, 'requests: must be a non-empty array', null);
  return JSON.stringify({ embeddings: body.requests.map((r, i) => geminiEmbedding(r, target.model, `requests[${i}].`)) });
}

export interface CompletionsRequest {
  model: string;
  prompts: string[];
  suffix: string;
  maxTokens: number;
  stream: boolean;
  includeUsage: boolean;
}

/** OpenAI's default max_tokens for /v1/completions. */
const DEFAULT_MAX_TOKENS = 16;

export function checkCompletions(body: unknown): CompletionsRequest {
  if (!isRecord(body)) throw new RequestError(400, 'the request body must be a JSON object', 'invalid_type');
  if (typeof body.model !== 'string' || body.model === '') throw new RequestError(400, 'you must provide a model parameter', 'missing_required_parameter', 'model');
  if (body.prompt === undefined) throw new RequestError(400, "Missing required parameter: 'prompt'.", 'missing_required_parameter', 'prompt');
  if (body.suffix !== undefined && body.suffix !== null && typeof body.suffix !== 'string') throw new RequestError(400, "Invalid 'suffix': expected a string.", 'invalid_type', 'suffix');
  const max = body.max_tokens;
  if (max !== undefined && max !== null && (typeof max !== 'number' || !Number.isInteger(max) || max < 1)) {
    throw new RequestError(400, "Invalid 'max_tokens': expected an integer of at least 1.", 'invalid_value', 'max_tokens');
  }
  const options = body.stream_options;
  return {
    model: body.model,
    prompts: texts(body.prompt, 'prompt').map((t) => t.text),
    suffix: typeof body.suffix === 'string' ? body.suffix : '',
    maxTokens: typeof max === 'number' ? max : DEFAULT_MAX_TOKENS,
    stream: body.stream === true,
    includeUsage: isRecord(options) && options.include_usage === true,
  };
}

interface PlannedText {
  pieces: string[];
  finishReason: 'stop' | 'length';
  promptTokens: number;
}

/**
 * The text to put between prompt and suffix: "[sandbox] word word ...", on the prompt's line (no
 * newline), with a space before it when the prompt ends in a word and after it when the suffix starts
 * with one, so prompt + text + suffix reads as one line of prose or a comment.
 */
export function planInfill(prompt: string, suffix: string, maxTokens: number, wantedWords: number): PlannedText {
  const wanted = Math.max(1, wantedWords);
  const count = Math.min(maxTokens, wanted);
  const pieces = replyPieces(JSON.stringify([prompt, suffix]), count);
  if (pieces.length > 0 && prompt !== '' && !/\s$/.test(prompt)) pieces[0] = ' ' + pieces[0];
  if (pieces.length > 0 && suffix !== '' && !/^\s/.test(suffix)) pieces[pieces.length - 1] += ' ';
  return { pieces, finishReason: count < wanted ? 'length' : 'stop', promptTokens: estimateTokens(prompt + suffix) };
}

export interface CompletionMeta {
  id: string;
  created: number;
  model: string;
}

function usage(plans: PlannedText[]) {
  const prompt = plans.reduce((n, p) => n + p.promptTokens, 0);
  const completion = plans.reduce((n, p) => n + p.pieces.length, 0);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export function planCompletions(req: CompletionsRequest, wantedWords: number): PlannedText[] {
  return req.prompts.map((p) => planInfill(p, req.suffix, req.maxTokens, wantedWords));
}

export function textCompletionJson(meta: CompletionMeta, plans: PlannedText[]): string {
  return JSON.stringify({
    id: meta.id,
    object: 'text_completion',
    created: meta.created,
    model: meta.model,
    choices: plans.map((p, index) => ({ text: p.pieces.join(''), index, logprobs: null, finish_reason: p.finishReason })),
    usage: usage(plans),
  });
}

/** OpenAI's completions stream: one chunk per piece, a closing chunk per choice, usage when asked, [DONE]. */
export function textCompletionFrames(meta: CompletionMeta, plans: PlannedText[], includeUsage: boolean): Frames {
  const frame = (choices: unknown[], usageValue?: unknown) =>
    `data: ${JSON.stringify({ id: meta.id, object: 'text_completion', created: meta.created, model: meta.model, choices, ...(usageValue ? { usage: usageValue } : {}) })}\n\n`;
  const choice = (index: number, text: string, finish: string | null = null) => [{ text, index, logprobs: null, finish_reason: finish }];
  const content = plans.flatMap((p, index) => p.pieces.map((piece) => frame(choice(index, piece))));
  const head = content.shift() ?? frame(choice(0, ''));
  const tail = plans.map((p, index) => frame(choice(index, '', p.finishReason)));
  if (includeUsage) tail.push(frame([], usage(plans)));
  tail.push('data: [DONE]\n\n');
  return { head, content, tail };
}
