// The fields of a chat-completions request that Shepherd itself reads. Everything else passes
// through to the upstream untouched, so these objects are loose.
import { z } from 'zod';
import { formatIssuePath } from '../../shared/issue-path';
import type { ChatBody } from '../providers/types';
import { HttpError } from './errors';

const tokenLimit = z.number().int().positive().nullable().optional();

const ChatRequestSchema = z.looseObject({
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
