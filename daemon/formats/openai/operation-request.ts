// The client side of the OpenAI endpoints beyond chat: POST /v1/embeddings and POST /v1/completions.
// Shepherd checks the fields it reads (naming the field in a 400) and keeps the client's body as the
// payload the upstream adapter passes through or translates; a chat-shaped view of it (the input as
// one user message, stream, max_tokens) is what routing, budgets and estimates read.
import { z } from 'zod';
import { formatIssuePath } from '../../../shared/issue-path';
import type { ChatBody } from '../../core/chat';
import { HttpError } from '../../core/http-error';
import type { OperationEndpoint } from '../client-format';
import { openaiClient } from './client-answer';

const model = z.string({ error: 'required: the model group or alias to use (see GET /v1/models)' }).min(1, 'must not be empty');
const tokens = z.array(z.number().int().nonnegative());
/** A string, an array of strings, an array of token ids, or an array of those (OpenAI's four forms). */
const textOrTokens = (what: string) =>
  z.union([z.string(), z.array(z.string()).min(1, 'must not be empty'), tokens.min(1, 'must not be empty'), z.array(tokens.min(1)).min(1, 'must not be empty')], {
    error: `required: ${what} as a string, an array of strings, or token arrays`,
  });

export const EmbeddingsRequestSchema = z.looseObject({
  model,
  input: textOrTokens('the text to embed'),
  dimensions: z.number({ error: 'must be a positive integer' }).int('must be a positive integer').positive('must be a positive integer').optional(),
  encoding_format: z.enum(['float', 'base64'], { error: 'must be "float" or "base64"' }).optional(),
});

export const CompletionsRequestSchema = z.looseObject({
  model,
  prompt: textOrTokens('the prompt'),
  suffix: z.string().nullable().optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  max_tokens: z.number().int().positive().nullable().optional(),
});

function check<T>(schema: z.ZodType<T>, value: unknown): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'request body must be a JSON object', 'invalid_request_error', 'invalid_body');
  }
  const result = schema.safeParse(value);
  if (result.success) return value as T; // the client's own object, fields in its order
  const issue = result.error.issues[0];
  const param = formatIssuePath(issue.path);
  const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more problem(s))` : '';
  throw new HttpError(400, `${param}: ${issue.message}${more}`, 'invalid_request_error', 'invalid_value', param);
}

/** The text of a string-or-strings field (token arrays carry no text Shepherd can count). */
export function inputText(input: unknown): string {
  if (typeof input === 'string') return input;
  if (Array.isArray(input)) return input.filter((s): s is string => typeof s === 'string').join('\n');
  return '';
}

export function parseEmbeddingsRequest(json: unknown): { view: ChatBody; payload: Record<string, unknown> } {
  const body = check(EmbeddingsRequestSchema, json);
  return { view: { model: body.model, messages: [{ role: 'user', content: inputText(body.input) }], stream: false }, payload: body };
}

export function parseCompletionsRequest(json: unknown): { view: ChatBody; payload: Record<string, unknown> } {
  const body = check(CompletionsRequestSchema, json);
  const view: ChatBody = { model: body.model, messages: [{ role: 'user', content: inputText(body.prompt) + (body.suffix ?? '') }], stream: body.stream === true };
  if (body.stream_options) view.stream_options = body.stream_options;
  if (typeof body.max_tokens === 'number') view.max_tokens = body.max_tokens;
  return { view, payload: body };
}

export const embeddings: OperationEndpoint = { operation: 'embeddings', parse: parseEmbeddingsRequest, client: openaiClient };
export const completions: OperationEndpoint = { operation: 'completions', parse: parseCompletionsRequest, client: openaiClient };

/** Float values as OpenAI's base64 encoding: little-endian float32, back to back. */
export function float32Base64(values: readonly number[]): string {
  const buf = new ArrayBuffer(values.length * 4);
  const view = new DataView(buf);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return Buffer.from(buf).toString('base64');
}
