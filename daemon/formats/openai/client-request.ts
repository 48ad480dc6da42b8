// The fields of a chat-completions request that Shepherd itself reads. Everything else passes
// through to the upstream untouched, so these objects are loose.
import { z } from 'zod';
import { formatIssuePath } from '../../../shared/issue-path';
import type { ChatBody } from '../../core/chat';
import { HttpError } from '../../core/http-error';

const tokenLimit = z.number().int().positive().nullable().optional();

/** Exported for the test that holds obviouslyValid to it. */
export const ChatRequestSchema = z.looseObject({
  model: z.string({ error: 'required: the model group or alias to use (see GET /v1/models)' }).min(1, 'must not be empty'),
  messages: z
    .array(z.looseObject({ role: z.string({ error: 'required: a string such as "user"' }).min(1) }), {
      error: 'required: an array of chat messages',
    })
    .min(1, 'must contain at least one message'),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  max_tokens: tokenLimit,
  max_completion_tokens: tokenLimit,
});

export function parseChatRequest(value: unknown): ChatBody {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'request body must be a JSON object', 'invalid_request_error', 'invalid_body');
  }
  // Nearly every request is well formed: a plain check settles those at a fraction of zod's cost, and
  // zod, the source of truth, judges the rest and words the error. The check only ever accepts what
  // the schema accepts (test/unit/validate.test.ts holds them side by side).
  if (obviouslyValid(value as Record<string, unknown>)) return value as ChatBody;
  const result = ChatRequestSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const param = formatIssuePath(issue.path);
    const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more problem(s))` : '';
    throw new HttpError(400, `${param}: ${issue.message}${more}`, 'invalid_request_error', 'invalid_value', param);
  }
  // Hand on the client's own object: validation must not reorder or drop fields it did not read.
  return value as ChatBody;
}

/** True only for bodies ChatRequestSchema accepts; false means "ask the schema". */
export function obviouslyValid(body: Record<string, unknown>): boolean {
  const { model, messages, stream, stream_options: options } = body;
  if (typeof model !== 'string' || model.length === 0) return false;
  if (!Array.isArray(messages) || messages.length === 0) return false;
  for (const m of messages) {
    if (typeof m !== 'object' || m === null || Array.isArray(m)) return false;
    const role = (m as Record<string, unknown>).role;
    if (typeof role !== 'string' || role.length === 0) return false;
  }
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') return false;
  if (options !== undefined && options !== null) {
    if (typeof options !== 'object' || Array.isArray(options)) return false;
    const include = (options as Record<string, unknown>).include_usage;
    if (include !== undefined && typeof include !== 'boolean') return false;
  }
  return tokenLimitOk(body.max_tokens) && tokenLimitOk(body.max_completion_tokens);
}

function tokenLimitOk(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'number' && Number.isSafeInteger(v) && v > 0);
}
