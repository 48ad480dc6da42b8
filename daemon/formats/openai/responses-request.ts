// POST /v1/responses bodies: the Responses API fields Shepherd reads, checked with errors that name the
// field, and their translation into the OpenAI chat body the router works in, so any deployment (an
// OpenAI-compatible chat server, Anthropic, Gemini, the sandbox) can answer a Responses client.
// What cannot be translated is said: hosted and custom tools are left out (the caller reports them),
// and state kept by OpenAI (previous_response_id, conversations, item references) is refused with a
// 400 that tells the client to send the whole input, as Codex CLI does with store=false.
import { z } from 'zod';
import { formatIssuePath } from '../../../shared/issue-path';
import { isRecord } from '../../../shared/is-record';
import type { ChatBody } from '../../core/chat';
import { HttpError } from '../../core/http-error';

const FunctionTool = z.looseObject({
  type: z.literal('function'),
  name: z.string({ error: 'required: the function name' }).min(1, 'must not be empty'),
  description: z.string().nullable().optional(),
  parameters: z.record(z.string(), z.unknown(), { error: 'must be a JSON Schema object' }).nullable().optional(),
  strict: z.boolean().nullable().optional(),
});

const ResponsesRequestSchema = z.looseObject({
  model: z.string({ error: 'required: the model group or alias to use (see GET /v1/models)' }).min(1, 'must not be empty'),
  input: z.union([z.string(), z.array(z.unknown())], { error: 'required: a string or an array of input items' }),
  instructions: z.string().nullable().optional(),
  tools: z.array(z.looseObject({ type: z.string({ error: 'required: the tool type, e.g. "function"' }) }), { error: 'must be an array of tools' }).nullable().optional(),
  tool_choice: z.union([z.enum(['auto', 'none', 'required']), z.looseObject({ type: z.string() })], { error: 'must be "auto", "none", "required" or an object with a type' }).nullable().optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  max_output_tokens: z.number().int().positive().nullable().optional(),
  reasoning: z.looseObject({ effort: z.string().nullable().optional() }).nullable().optional(),
  text: z
    .looseObject({
      format: z
        .discriminatedUnion(
          'type',
          [
            z.looseObject({ type: z.literal('text') }),
            z.looseObject({ type: z.literal('json_object') }),
            z.looseObject({
              type: z.literal('json_schema'),
              name: z.string().optional(),
              schema: z.record(z.string(), z.unknown(), { error: 'required: the JSON Schema of the answer' }),
              description: z.string().optional(),
              strict: z.boolean().nullable().optional(),
            }),
          ],
          { error: 'must be {"type":"text"}, {"type":"json_object"} or {"type":"json_schema","name","schema"}' },
        )
        .optional(),
    })
    .nullable()
    .optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  metadata: z.record(z.string(), z.string(), { error: 'must be an object of string values' }).nullable().optional(),
  store: z.boolean().nullable().optional(),
  stream: z.boolean().nullable().optional(),
  include: z.array(z.string()).nullable().optional(),
  prompt_cache_key: z.string().nullable().optional(),
  user: z.string().nullable().optional(),
  previous_response_id: z.string().nullable().optional(),
  background: z.boolean().nullable().optional(),
});

export type ResponsesRequest = z.infer<typeof ResponsesRequestSchema>;

/** The chat body, and what the client asked for that the answer echoes or the caller reports. */
export interface TranslatedResponses {
  body: ChatBody;
  request: ResponsesRequest;
  /** Tools left out because a chat deployment cannot run them, as "type" or "type:name". */
  droppedTools: string[];
}

export function parseResponsesRequest(value: unknown): ResponsesRequest {
  if (!isRecord(value)) throw new HttpError(400, 'request body must be a JSON object', 'invalid_request_error', 'invalid_body');
  const result = ResponsesRequestSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const param = formatIssuePath(issue.path);
    const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more problem(s))` : '';
    throw new HttpError(400, `${param}: ${issue.message}${more}`, 'invalid_request_error', 'invalid_value', param);
  }
  const req = result.data;
  // Shepherd keeps no responses: state that lives at OpenAI cannot be continued here.
  if (typeof req.previous_response_id === 'string' && req.previous_response_id !== '') {
    throw refusal(
      'previous_response_id: Shepherd does not keep responses, so it cannot continue one by id. Send the whole conversation in `input` (with store=false), as Codex CLI does.',
      'previous_response_not_supported',
      'previous_response_id',
    );
  }
  if (value.conversation !== undefined && value.conversation !== null) {
    throw refusal('conversation: Shepherd does not keep conversations. Send the whole conversation in `input`.', 'conversation_not_supported', 'conversation');
  }
  if (req.background === true) {
    throw refusal('background: Shepherd answers Responses requests in the foreground only (it keeps no responses to poll).', 'background_not_supported', 'background');
  }
  if (value.prompt !== undefined && value.prompt !== null) {
    throw refusal('prompt: stored prompt templates live at OpenAI; send the prompt text in `instructions` and `input`.', 'prompt_not_supported', 'prompt');
  }
  return req;
}

function refusal(message: string, code: string, param: string): HttpError {
  return new HttpError(400, message, 'invalid_request_error', code, param);
}

export function toChatBody(req: ResponsesRequest): TranslatedResponses {
  const messages: Record<string, unknown>[] = [];
  if (typeof req.instructions === 'string' && req.instructions !== '') messages.push({ role: 'system', content: req.instructions });
  if (typeof req.input === 'string') messages.push({ role: 'user', content: req.input });
  else req.input.forEach((item, i) => addItem(messages, item, `input[${i}]`));
  if (messages.length === 0) throw refusal('input: must contain at least one message', 'invalid_value', 'input');

  const body: ChatBody = { model: req.model, messages };
  const { tools, dropped } = functionTools(req.tools ?? []);
  if (tools.length > 0) {
    body.tools = tools;
    const choice = toolChoice(req.tool_choice, new Set(tools.map((t) => t.function.name)));
    if (choice !== undefined) body.tool_choice = choice;
    if (typeof req.parallel_tool_calls === 'boolean') body.parallel_tool_calls = req.parallel_tool_calls;
  }
  if (typeof req.max_output_tokens === 'number') body.max_completion_tokens = req.max_output_tokens;
  if (typeof req.temperature === 'number') body.temperature = req.temperature;
  if (typeof req.top_p === 'number') body.top_p = req.top_p;
  const effort = req.reasoning?.effort;
  if (typeof effort === 'string') body.reasoning_effort = effort;
  const format = req.text?.format;
  if (format?.type === 'json_object') body.response_format = { type: 'json_object' };
  else if (format?.type === 'json_schema') {
    const schema: Record<string, unknown> = { name: format.name ?? 'response', schema: format.schema };
    if (format.description !== undefined) schema.description = format.description;
    if (typeof format.strict === 'boolean') schema.strict = format.strict;
    body.response_format = { type: 'json_schema', json_schema: schema };
  }
  if (typeof req.prompt_cache_key === 'string') body.prompt_cache_key = req.prompt_cache_key;
  if (typeof req.user === 'string') body.user = req.user;
  // metadata, store and include describe OpenAI-side storage; chat deployments have none of it.
  if (req.stream === true) {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  return { body, request: req, droppedTools: dropped };
}

interface ChatTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
}

/** Function tools pass; every other type (web_search, file_search, custom, namespace, MCP, ...) is left out. */
function functionTools(tools: Record<string, unknown>[]): { tools: ChatTool[]; dropped: string[] } {
  const out: ChatTool[] = [];
  const dropped: string[] = [];
  tools.forEach((tool, i) => {
    if (tool.type !== 'function') {
      dropped.push(typeof tool.name === 'string' && tool.name !== '' ? `${String(tool.type)}:${tool.name}` : String(tool.type));
      return;
    }
    const parsed = FunctionTool.safeParse(tool);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const param = formatIssuePath([`tools`, i, ...issue.path]);
      throw new HttpError(400, `${param}: ${issue.message}`, 'invalid_request_error', 'invalid_value', param);
    }
    const t = parsed.data;
    const fn: ChatTool['function'] = { name: t.name };
    if (typeof t.description === 'string') fn.description = t.description;
    fn.parameters = t.parameters ?? { type: 'object', properties: {} };
    if (typeof t.strict === 'boolean') fn.strict = t.strict;
    out.push({ type: 'function', function: fn });
  });
  return { tools: out, dropped };
}

/** A choice that names a tool left out falls back to "auto": the request goes on without it. */
function toolChoice(choice: ResponsesRequest['tool_choice'], names: ReadonlySet<string>): unknown {
  if (choice === undefined || choice === null) return undefined;
  if (typeof choice === 'string') return choice;
  if (choice.type === 'function' && typeof choice.name === 'string') {
    return names.has(choice.name) ? { type: 'function', function: { name: choice.name } } : 'auto';
  }
  if (choice.type === 'allowed_tools') return choice.mode === 'required' ? 'required' : 'auto';
  return 'auto';
}

/**
 * One input item onto the chat messages. Function calls join the assistant message before them (one
 * assistant turn may call several tools); their outputs become tool messages.
 */
function addItem(messages: Record<string, unknown>[], item: unknown, at: string): void {
  if (!isRecord(item)) throw refusal(`${at}: must be an object`, 'invalid_value', at);
  const type = item.type ?? 'message';
  switch (type) {
    case 'message':
      return addMessage(messages, item, at);
    case 'function_call':
    case 'custom_tool_call':
    case 'local_shell_call':
      return addCall(messages, item, at);
    case 'function_call_output':
    case 'custom_tool_call_output':
    case 'local_shell_call_output': {
      const callId = item.call_id ?? item.id;
      if (typeof callId !== 'string' || callId === '') throw refusal(`${at}.call_id: required: the id of the call this output answers`, 'invalid_value', `${at}.call_id`);
      messages.push({ role: 'tool', tool_call_id: callId, content: outputText(item.output) });
      return;
    }
    case 'reasoning':
      return; // the model's own notes, often encrypted for OpenAI alone: other deployments cannot read them
    case 'item_reference':
      throw refusal(`${at}: an item_reference needs a stored response, and Shepherd keeps none. Send the item itself.`, 'previous_response_not_supported', at);
    default:
      // The record of a hosted tool's run (web_search_call, file_search_call, ...): nothing a chat deployment can use.
      if (typeof type === 'string' && type.endsWith('_call')) return;
      throw refusal(`${at}.type: unsupported input item type ${JSON.stringify(type)} (message, function_call, function_call_output and reasoning are supported)`, 'invalid_value', `${at}.type`);
  }
}

function addMessage(messages: Record<string, unknown>[], item: Record<string, unknown>, at: string): void {
  const role = item.role;
  if (role !== 'user' && role !== 'assistant' && role !== 'system' && role !== 'developer') {
    throw refusal(`${at}.role: must be "user", "assistant", "system" or "developer"`, 'invalid_value', `${at}.role`);
  }
  const content = item.content;
  if (role === 'assistant') {
    const text = typeof content === 'string' ? content : Array.isArray(content) ? content.map(partText).join('') : '';
    messages.push({ role: 'assistant', content: text });
    return;
  }
  // developer is the Responses name for system instructions; every chat server knows "system".
  const chatRole = role === 'developer' ? 'system' : role;
  if (typeof content === 'string') return void messages.push({ role: chatRole, content });
  if (!Array.isArray(content)) throw refusal(`${at}.content: required: a string or an array of content parts`, 'invalid_value', `${at}.content`);
  const parts = content.map((part, j) => inputPart(part, `${at}.content[${j}]`));
  if (chatRole === 'system' || parts.every((p) => p.type === 'text')) {
    messages.push({ role: chatRole, content: parts.map((p) => (p.type === 'text' ? p.text : '')).join('') });
  } else messages.push({ role: chatRole, content: parts });
}

type ChatPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string; detail?: string } };

function inputPart(part: unknown, at: string): ChatPart {
  if (!isRecord(part)) throw refusal(`${at}: must be a content part object`, 'invalid_value', at);
  if ((part.type === 'input_text' || part.type === 'output_text' || part.type === 'text') && typeof part.text === 'string') {
    return { type: 'text', text: part.text };
  }
  if (part.type === 'input_image') {
    if (typeof part.image_url !== 'string' || part.image_url === '') {
      throw refusal(`${at}.image_url: required: an image URL or data: URL (file_id images live at OpenAI and cannot be routed)`, 'invalid_value', `${at}.image_url`);
    }
    const image: { url: string; detail?: string } = { url: part.image_url };
    if (typeof part.detail === 'string') image.detail = part.detail;
    return { type: 'image_url', image_url: image };
  }
  throw refusal(`${at}.type: unsupported content part ${JSON.stringify(part.type)} (input_text and input_image are supported)`, 'invalid_value', `${at}.type`);
}

function partText(part: unknown): string {
  if (!isRecord(part)) return '';
  if (typeof part.text === 'string') return part.text;
  if (typeof part.refusal === 'string') return part.refusal;
  return '';
}

function addCall(messages: Record<string, unknown>[], item: Record<string, unknown>, at: string): void {
  const callId = item.call_id ?? item.id;
  if (typeof callId !== 'string' || callId === '') throw refusal(`${at}.call_id: required: the call's id`, 'invalid_value', `${at}.call_id`);
  let name: string;
  let args: string;
  if (item.type === 'local_shell_call') {
    name = 'local_shell';
    args = JSON.stringify(isRecord(item.action) ? item.action : {});
  } else {
    if (typeof item.name !== 'string' || item.name === '') throw refusal(`${at}.name: required: the tool's name`, 'invalid_value', `${at}.name`);
    name = item.name;
    // A custom tool's free-form input travels as one string argument.
    args = item.type === 'custom_tool_call' ? JSON.stringify({ input: String(item.input ?? '') }) : typeof item.arguments === 'string' ? item.arguments : '{}';
  }
  const call = { id: callId, type: 'function', function: { name, arguments: args } };
  const last = messages.at(-1);
  if (last?.role === 'assistant' && (Array.isArray(last.tool_calls) || typeof last.content === 'string')) {
    const calls = Array.isArray(last.tool_calls) ? last.tool_calls : [];
    calls.push(call);
    last.tool_calls = calls;
    if (last.content === '') last.content = null;
    return;
  }
  messages.push({ role: 'assistant', content: null, tool_calls: [call] });
}

/** A tool output is a string, or content parts whose text is kept. */
function outputText(output: unknown): string {
  if (typeof output === 'string') return output;
  if (Array.isArray(output)) return output.map(partText).join('');
  return output === undefined || output === null ? '' : JSON.stringify(output);
}
