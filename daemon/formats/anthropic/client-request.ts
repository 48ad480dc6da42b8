// POST /v1/messages bodies: the Anthropic request fields Shepherd reads, checked with errors that name
// the field, and their translation into the OpenAI chat body the router works in.
import { z } from 'zod';
import { formatIssuePath } from '../../../shared/issue-path';
import type { ChatBody } from '../../core/chat';
import { HttpError } from '../../core/http-error';

const TextBlock = z.looseObject({ type: z.literal('text'), text: z.string({ error: 'required: the text' }) });
const ImageBlock = z.looseObject({
  type: z.literal('image'),
  source: z.discriminatedUnion(
    'type',
    [
      z.looseObject({ type: z.literal('base64'), media_type: z.string().min(1), data: z.string().min(1) }),
      z.looseObject({ type: z.literal('url'), url: z.string().min(1) }),
    ],
    { error: 'an image source must be {"type":"base64","media_type","data"} or {"type":"url","url"}' },
  ),
});
const ToolUseBlock = z.looseObject({
  type: z.literal('tool_use'),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown(), { error: 'must be an object' }),
});
const ToolResultBlock = z.looseObject({
  type: z.literal('tool_result'),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(TextBlock, { error: 'only text blocks are supported in a tool result' })]).optional(),
  is_error: z.boolean().optional(),
});
const ThinkingBlock = z.looseObject({ type: z.enum(['thinking', 'redacted_thinking']) });
const DocumentBlock = z.looseObject({
  type: z.literal('document'),
  source: z.looseObject({ type: z.string() }),
  title: z.string().nullable().optional(),
});

const Block = z.discriminatedUnion('type', [TextBlock, ImageBlock, ToolUseBlock, ToolResultBlock, ThinkingBlock, DocumentBlock], {
  error: 'unsupported content block type (text, image, document, tool_use, tool_result and thinking are supported)',
});

const MessageSchema = z.looseObject({
  role: z.enum(['user', 'assistant', 'system'], { error: 'must be "user" or "assistant"' }),
  content: z.union([z.string(), z.array(Block)], { error: 'required: a string or an array of content blocks' }),
});

const ToolChoice = z.discriminatedUnion(
  'type',
  [
    z.looseObject({ type: z.literal('auto'), disable_parallel_tool_use: z.boolean().optional() }),
    z.looseObject({ type: z.literal('any'), disable_parallel_tool_use: z.boolean().optional() }),
    z.looseObject({ type: z.literal('tool'), name: z.string().min(1), disable_parallel_tool_use: z.boolean().optional() }),
    z.looseObject({ type: z.literal('none') }),
  ],
  { error: 'must be {"type":"auto"|"any"|"none"} or {"type":"tool","name":...}' },
);

const MessagesRequestSchema = z.looseObject({
  model: z.string({ error: 'required: the model group or alias to use (see GET /v1/models)' }).min(1, 'must not be empty'),
  max_tokens: z.number({ error: 'required: the most tokens to generate' }).int().positive(),
  messages: z.array(MessageSchema, { error: 'required: an array of messages' }).min(1, 'must contain at least one message'),
  system: z.union([z.string(), z.array(TextBlock)], { error: 'must be a string or an array of text blocks' }).optional(),
  stop_sequences: z.array(z.string()).optional(),
  stream: z.boolean().optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().nonnegative().optional(),
  tools: z
    .array(
      z.looseObject({
        name: z.string().min(1),
        description: z.string().optional(),
        input_schema: z.looseObject({}, { error: 'required: only custom tools with an input_schema are supported' }),
      }),
    )
    .optional(),
  tool_choice: ToolChoice.optional(),
  metadata: z.looseObject({ user_id: z.string().nullable().optional() }).optional(),
  // Read to translate, never refused here: on a passthrough Anthropic itself judges them.
  thinking: z.looseObject({ type: z.string(), budget_tokens: z.number().int().positive().optional() }).optional().catch(undefined),
  output_config: z
    .looseObject({
      effort: z.string().optional(),
      format: z.looseObject({ type: z.string(), schema: z.looseObject({}).optional() }).optional(),
    })
    .optional()
    .catch(undefined),
});

type MessagesRequest = z.infer<typeof MessagesRequestSchema>;
type BlockT = z.infer<typeof Block>;

export function parseMessagesRequest(value: unknown): MessagesRequest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'request body must be a JSON object', 'invalid_request_error', 'invalid_body');
  }
  const result = MessagesRequestSchema.safeParse(value);
  if (!result.success) {
    const issue = innermost(result.error.issues[0]);
    const param = formatIssuePath(issue.path);
    const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more problem(s))` : '';
    throw new HttpError(400, `${param}: ${issue.message}${more}`, 'invalid_request_error', 'invalid_value', param);
  }
  return result.data;
}

interface Problem {
  path: PropertyKey[];
  message: string;
}

/**
 * For "string or array of blocks" fields, a failed union says only that neither fitted; the array
 * branch's own issue (e.g. content[2]: unsupported block type) is the one a client can act on.
 */
function innermost(issue: z.core.$ZodIssue): Problem {
  if (issue.code !== 'invalid_union') return issue;
  let best: Problem | undefined;
  for (const branch of issue.errors) {
    for (const inner of branch) {
      const candidate = innermost(inner);
      if (!best || candidate.path.length > best.path.length) best = candidate;
    }
  }
  return best && best.path.length > 0 ? { path: [...issue.path, ...best.path], message: best.message } : issue;
}

/** The OpenAI chat body for an Anthropic request. Streams ask for usage so the client's message_delta has it. */
export function toChatBody(req: MessagesRequest): ChatBody {
  const messages: Record<string, unknown>[] = [];
  if (req.system !== undefined) {
    const text = typeof req.system === 'string' ? req.system : req.system.map((b) => b.text).join('\n\n');
    if (text !== '') messages.push({ role: 'system', content: text });
  }
  req.messages.forEach((m, i) => {
    if (m.role === 'system') messages.push({ role: 'system', content: plainText(m.content) });
    else if (m.role === 'user') messages.push(...userMessages(m.content, i));
    else messages.push(assistantMessage(m.content));
  });
  const body: ChatBody = { model: req.model, messages, max_tokens: req.max_tokens };
  if (req.stop_sequences?.length) body.stop = req.stop_sequences;
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.top_p !== undefined) body.top_p = req.top_p;
  if (req.tools?.length) {
    body.tools = req.tools.map((t) => ({
      type: 'function',
      function: { name: t.name, ...(t.description !== undefined ? { description: t.description } : {}), parameters: t.input_schema },
    }));
    const choice = req.tool_choice;
    if (choice) {
      body.tool_choice =
        choice.type === 'auto' ? 'auto' : choice.type === 'any' ? 'required' : choice.type === 'none' ? 'none' : { type: 'function', function: { name: choice.name } };
      if ('disable_parallel_tool_use' in choice && choice.disable_parallel_tool_use === true) body.parallel_tool_calls = false;
    }
  }
  if (typeof req.metadata?.user_id === 'string') body.user = req.metadata.user_id;
  const effort = reasoningEffort(req);
  if (effort !== undefined) body.reasoning_effort = effort;
  const format = req.output_config?.format;
  if (format?.type === 'json_schema' && format.schema !== undefined) {
    body.response_format = { type: 'json_schema', json_schema: { name: 'output', schema: format.schema, strict: true } };
  }
  if (req.stream === true) {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  return body;
}

/**
 * Anthropic's thinking settings as OpenAI's reasoning_effort: output_config.effort when given (max reads
 * as high), else by the thinking budget (under 4,096 tokens low, under 16,384 medium, more high), else
 * medium for adaptive thinking. Disabled or absent thinking sends none.
 */
export function reasoningEffort(req: Pick<MessagesRequest, 'thinking' | 'output_config'>): 'low' | 'medium' | 'high' | undefined {
  const stated = req.output_config?.effort;
  if (stated === 'low' || stated === 'medium' || stated === 'high') return stated;
  if (stated === 'max') return 'high';
  const t = req.thinking;
  if (!t || t.type === 'disabled') return undefined;
  if (t.budget_tokens !== undefined) return t.budget_tokens < 4096 ? 'low' : t.budget_tokens < 16_384 ? 'medium' : 'high';
  return t.type === 'enabled' || t.type === 'adaptive' ? 'medium' : undefined;
}

function plainText(content: string | BlockT[]): string {
  if (typeof content === 'string') return content;
  return content.map((b) => (b.type === 'text' ? b.text : '')).join('');
}

/** Tool results become tool messages, ahead of whatever else the user turn says (OpenAI's order). */
function userMessages(content: string | BlockT[], i: number): Record<string, unknown>[] {
  if (typeof content === 'string') return [{ role: 'user', content }];
  const out: Record<string, unknown>[] = [];
  const parts: Record<string, unknown>[] = [];
  content.forEach((b, j) => {
    if (b.type === 'tool_result') {
      const text = typeof b.content === 'string' ? b.content : (b.content ?? []).map((t) => t.text).join('');
      // OpenAI tool messages have no is_error: the failure is said in the text, where the model reads it.
      out.push({ role: 'tool', tool_call_id: b.tool_use_id, content: b.is_error === true ? `Error: ${text}` : text });
    } else if (b.type === 'text') parts.push({ type: 'text', text: b.text });
    else if (b.type === 'image') {
      const url = b.source.type === 'base64' ? `data:${b.source.media_type};base64,${b.source.data}` : b.source.url;
      parts.push({ type: 'image_url', image_url: { url } });
    } else if (b.type === 'document') {
      parts.push(documentPart(b, `messages[${i}].content[${j}]`));
    } else {
      throw new HttpError(400, `messages[${i}].content[${j}]: a ${b.type} block belongs in an assistant message`, 'invalid_request_error', 'invalid_value', `messages[${i}].content[${j}]`);
    }
  });
  if (parts.length === 1 && parts[0].type === 'text') out.push({ role: 'user', content: parts[0].text });
  else if (parts.length > 0) out.push({ role: 'user', content: parts });
  return out;
}

function assistantMessage(content: string | BlockT[]): Record<string, unknown> {
  if (typeof content === 'string') return { role: 'assistant', content };
  let text = '';
  const calls: unknown[] = [];
  for (const b of content) {
    if (b.type === 'text') text += b.text;
    else if (b.type === 'tool_use') calls.push({ id: b.id, type: 'function', function: { name: b.name, arguments: JSON.stringify(b.input) } });
    // thinking blocks are the model's own notes; other providers cannot read them.
  }
  return { role: 'assistant', content: text === '' && calls.length > 0 ? null : text, ...(calls.length > 0 ? { tool_calls: calls } : {}) };
}

/**
 * A PDF document as OpenAI's `file` content part (base64 as a data URL, as OpenAI's chat API takes it).
 * Other sources (url, text, content) have no OpenAI counterpart: a 400 naming the field.
 */
function documentPart(b: z.infer<typeof DocumentBlock>, where: string): Record<string, unknown> {
  const src = b.source as Record<string, unknown>;
  if (src.type === 'base64' && src.media_type === 'application/pdf' && typeof src.data === 'string') {
    const filename = typeof b.title === 'string' && b.title !== '' ? b.title : 'document.pdf';
    return { type: 'file', file: { filename, file_data: `data:application/pdf;base64,${src.data}` } };
  }
  throw new HttpError(
    400,
    `${where}.source: only base64 PDF documents can be sent to a non-Anthropic model (got source type "${String(src.type)}")`,
    'invalid_request_error',
    'invalid_value',
    `${where}.source`,
  );
}
