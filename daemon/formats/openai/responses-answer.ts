// The Responses client format for POST /v1/responses on a deployment that speaks chat completions:
// a chat completion becomes a Response object, OpenAI chat chunks become the Responses stream events
// (with sequence numbers, in the order OpenAI sends them), and errors take the OpenAI error shape. A
// stream that breaks after its first byte ends with `response.failed`.
import { randomBytes } from 'node:crypto';
import { isRecord } from '../../../shared/is-record';
import { errorJson } from '../../core/http-error';
import type { ChatEndpoint, ClientFormat, ClientStreamEncoder } from '../client-format';
import { parseResponsesRequest, toChatBody, type ResponsesRequest } from './responses-request';

/** What a Response object echoes of its request, fixed when the request arrives. */
export interface ResponseContext {
  id: string;
  createdAt: number;
  request: ResponsesRequest;
  /** The function tools that were kept, in the Responses shape. */
  tools: unknown[];
}

type Item = Record<string, unknown>;

/** Responses usage from chat usage: cached input and reasoning output are parts of the totals. */
export function responsesUsage(usage: unknown): Record<string, unknown> | null {
  if (!isRecord(usage)) return null;
  const input = num(usage.prompt_tokens);
  const output = num(usage.completion_tokens);
  const inDetails = isRecord(usage.prompt_tokens_details) ? usage.prompt_tokens_details : {};
  const outDetails = isRecord(usage.completion_tokens_details) ? usage.completion_tokens_details : {};
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: num(inDetails.cached_tokens) },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: num(outDetails.reasoning_tokens) },
    total_tokens: num(usage.total_tokens) || input + output,
  };
}

/** The Response object, in OpenAI's field order. */
function responseObject(ctx: ResponseContext, model: unknown, status: string, output: Item[], usage: unknown, extra: { error?: unknown; incomplete?: unknown } = {}): Item {
  const req = ctx.request;
  return {
    id: ctx.id,
    object: 'response',
    created_at: ctx.createdAt,
    status,
    background: false,
    error: extra.error ?? null,
    incomplete_details: extra.incomplete ?? null,
    instructions: req.instructions ?? null,
    max_output_tokens: req.max_output_tokens ?? null,
    model: typeof model === 'string' && model !== '' ? model : req.model,
    output,
    parallel_tool_calls: req.parallel_tool_calls ?? true,
    previous_response_id: null,
    prompt_cache_key: req.prompt_cache_key ?? null,
    reasoning: { effort: req.reasoning?.effort ?? null, summary: null },
    // Shepherd keeps no responses, whatever the request asked (docs/API.md).
    store: false,
    temperature: req.temperature ?? 1,
    text: { format: req.text?.format ?? { type: 'text' } },
    tool_choice: req.tool_choice ?? 'auto',
    tools: ctx.tools,
    top_p: req.top_p ?? 1,
    truncation: 'disabled',
    usage: responsesUsage(usage),
    user: req.user ?? null,
    metadata: req.metadata ?? {},
  };
}

/** finish_reason -> the Response's status and incomplete_details. */
function ending(finish: unknown): { status: 'completed' | 'incomplete'; incomplete?: { reason: string } } {
  if (finish === 'length') return { status: 'incomplete', incomplete: { reason: 'max_output_tokens' } };
  if (finish === 'content_filter') return { status: 'incomplete', incomplete: { reason: 'content_filter' } };
  return { status: 'completed' };
}

const textPart = (text: string) => ({ type: 'output_text', annotations: [], logprobs: [], text });

function wholeBody(ctx: ResponseContext, openaiJson: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(openaiJson);
  } catch {
    parsed = {};
  }
  const completion = isRecord(parsed) ? parsed : {};
  const choice = Array.isArray(completion.choices) && isRecord(completion.choices[0]) ? completion.choices[0] : {};
  const message = isRecord(choice.message) ? choice.message : {};
  const ids = new ItemIds(ctx.id);
  const output: Item[] = [];
  const text = typeof message.content === 'string' ? message.content : '';
  if (text !== '') output.push({ id: ids.message(), type: 'message', status: 'completed', role: 'assistant', content: [textPart(text)] });
  if (typeof message.refusal === 'string' && message.refusal !== '') {
    output.push({ id: ids.message(), type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'refusal', refusal: message.refusal }] });
  }
  for (const call of Array.isArray(message.tool_calls) ? message.tool_calls : []) {
    const fn = isRecord(call) && isRecord(call.function) ? call.function : undefined;
    if (!isRecord(call) || !fn) continue;
    const args = typeof fn.arguments === 'string' ? fn.arguments : '';
    output.push({ id: ids.call(), type: 'function_call', status: 'completed', arguments: args, call_id: String(call.id ?? ids.call()), name: String(fn.name ?? '') });
  }
  const end = ending(choice.finish_reason);
  return JSON.stringify(responseObject(ctx, completion.model, end.status, output, completion.usage, { incomplete: end.incomplete }));
}

/** Item ids in OpenAI's style, derived from the response id so they are unique with it. */
class ItemIds {
  private n = 0;
  constructor(private readonly responseId: string) {}
  message(): string {
    return `msg_${this.responseId.slice(5)}_${this.n++}`;
  }
  call(): string {
    return `fc_${this.responseId.slice(5)}_${this.n++}`;
  }
}

interface OpenText {
  id: string;
  outputIndex: number;
  text: string;
}
interface ToolItem {
  id: string;
  outputIndex: number;
  callId: string;
  name: string;
  args: string;
  done: boolean;
}

/**
 * Chat chunks -> Responses events. Text and each tool call become output items in the order they
 * start; an item is done when the next one starts or the stream ends. The closing response.completed
 * waits for the end of the stream, because chat streams report usage after the finish reason.
 */
class ResponsesEncoder implements ClientStreamEncoder {
  private seq = 0;
  private started = false;
  private closed = false;
  private model: unknown;
  private readonly output: Item[] = [];
  private readonly ids: ItemIds;
  private text: OpenText | undefined;
  private readonly tools = new Map<number, ToolItem>();
  private openTool: ToolItem | undefined;
  private finish: unknown = null;
  private usage: unknown;

  constructor(private readonly ctx: ResponseContext) {
    this.ids = new ItemIds(ctx.id);
  }

  push(frames: string): string {
    let out = '';
    for (const chunk of chunksOf(frames)) out += this.chunk(chunk);
    return out;
  }

  end(frames: string): string {
    let out = this.push(frames);
    if (this.closed) return out;
    out += this.start() + this.closeText() + this.closeTool();
    this.closed = true;
    const end = ending(this.finish);
    const response = responseObject(this.ctx, this.model, end.status, this.output, this.usage, { incomplete: end.incomplete });
    return out + this.event(end.status === 'completed' ? 'response.completed' : 'response.incomplete', { response });
  }

  error(message: string, type: string, code: string | null): string {
    if (this.closed) return '';
    let out = this.start();
    this.closed = true;
    // Items cut off mid-way stay in the output as incomplete, as OpenAI reports them.
    if (this.text) this.output[this.text.outputIndex] = this.textItem(this.text, 'incomplete');
    for (const tool of this.tools.values()) if (!tool.done) this.output[tool.outputIndex] = this.toolItem(tool, 'incomplete');
    const error = { code: code ?? (type === 'rate_limit_error' ? 'rate_limit_exceeded' : 'server_error'), message };
    const response = responseObject(this.ctx, this.model, 'failed', this.output, this.usage, { error });
    out += this.event('response.failed', { response });
    return out;
  }

  private chunk(chunk: Record<string, unknown>): string {
    if (isRecord(chunk.error)) {
      const e = chunk.error;
      return this.error(String(e.message ?? 'upstream error'), String(e.type ?? 'api_error'), typeof e.code === 'string' ? e.code : null);
    }
    if (this.closed) return '';
    if (this.model === undefined && typeof chunk.model === 'string') this.model = chunk.model;
    let out = this.start();
    if (chunk.usage) this.usage = chunk.usage;
    const choice = Array.isArray(chunk.choices) && isRecord(chunk.choices[0]) ? chunk.choices[0] : undefined;
    if (!choice) return out;
    const delta = isRecord(choice.delta) ? choice.delta : {};
    const text = typeof delta.content === 'string' ? delta.content : typeof delta.refusal === 'string' ? delta.refusal : '';
    if (text !== '') out += this.textDelta(text);
    for (const call of Array.isArray(delta.tool_calls) ? delta.tool_calls : []) if (isRecord(call)) out += this.toolDelta(call);
    if (choice.finish_reason) this.finish = choice.finish_reason;
    return out;
  }

  private textDelta(delta: string): string {
    let out = '';
    if (!this.text) {
      out += this.closeTool();
      this.text = { id: this.ids.message(), outputIndex: this.output.length, text: '' };
      const item = { id: this.text.id, type: 'message', status: 'in_progress', role: 'assistant', content: [] };
      out += this.event('response.output_item.added', { output_index: this.text.outputIndex, item });
      out += this.event('response.content_part.added', { item_id: this.text.id, output_index: this.text.outputIndex, content_index: 0, part: textPart('') });
      // Reserve its place: output keeps the order items started in.
      this.output.push({});
    }
    this.text.text += delta;
    return out + this.event('response.output_text.delta', { item_id: this.text.id, output_index: this.text.outputIndex, content_index: 0, delta, logprobs: [] });
  }

  private closeText(): string {
    const open = this.text;
    if (!open) return '';
    this.text = undefined;
    const where = { item_id: open.id, output_index: open.outputIndex, content_index: 0 };
    const item = this.textItem(open, 'completed');
    this.output[open.outputIndex] = item;
    return (
      this.event('response.output_text.done', { ...where, text: open.text, logprobs: [] }) +
      this.event('response.content_part.done', { ...where, part: textPart(open.text) }) +
      this.event('response.output_item.done', { output_index: open.outputIndex, item })
    );
  }

  private textItem(open: OpenText, status: string): Item {
    return { id: open.id, type: 'message', status, role: 'assistant', content: [textPart(open.text)] };
  }

  private toolDelta(call: Record<string, unknown>): string {
    const index = typeof call.index === 'number' ? call.index : 0;
    const fn = isRecord(call.function) ? call.function : {};
    let out = '';
    let tool = this.tools.get(index);
    if (!tool) {
      out += this.closeText() + this.closeTool();
      const id = this.ids.call();
      tool = { id, outputIndex: this.output.length, callId: typeof call.id === 'string' ? call.id : `call_${id}`, name: typeof fn.name === 'string' ? fn.name : '', args: '', done: false };
      this.tools.set(index, tool);
      this.openTool = tool;
      this.output.push({});
      out += this.event('response.output_item.added', { output_index: tool.outputIndex, item: this.toolItem(tool, 'in_progress') });
    }
    if (typeof fn.arguments === 'string' && fn.arguments !== '') {
      tool.args += fn.arguments;
      // A late piece for a call already done has no event left to ride in; it still counts in the final item.
      if (!tool.done) out += this.event('response.function_call_arguments.delta', { item_id: tool.id, output_index: tool.outputIndex, delta: fn.arguments });
      else this.output[tool.outputIndex] = this.toolItem(tool, 'completed');
    }
    return out;
  }

  private closeTool(): string {
    const tool = this.openTool;
    if (!tool) return '';
    this.openTool = undefined;
    tool.done = true;
    const item = this.toolItem(tool, 'completed');
    this.output[tool.outputIndex] = item;
    return (
      this.event('response.function_call_arguments.done', { item_id: tool.id, output_index: tool.outputIndex, name: tool.name, arguments: tool.args }) +
      this.event('response.output_item.done', { output_index: tool.outputIndex, item })
    );
  }

  private toolItem(tool: ToolItem, status: string): Item {
    return { id: tool.id, type: 'function_call', status, arguments: tool.args, call_id: tool.callId, name: tool.name };
  }

  private start(): string {
    if (this.started) return '';
    this.started = true;
    const response = responseObject(this.ctx, this.model, 'in_progress', [], null);
    return this.event('response.created', { response }) + this.event('response.in_progress', { response });
  }

  private event(type: string, data: Record<string, unknown>): string {
    return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.seq++, ...data })}\n\n`;
  }
}

/** The JSON chunks in a run of complete OpenAI SSE frames; [DONE] and comments are skipped. */
function* chunksOf(frames: string): Generator<Record<string, unknown>> {
  for (const frame of frames.split('\n\n')) {
    const data = frame
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5))
      .join('\n');
    if (data === '' || data === '[DONE]') continue;
    try {
      const parsed: unknown = JSON.parse(data);
      if (isRecord(parsed)) yield parsed;
    } catch {
      // a frame that is not JSON carries nothing a Responses client could use
    }
  }
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.round(v) : 0;
}

const errorBody: ClientFormat['errorBody'] = (err) => errorJson(err.message, err.type, err.code, err.param);

/** The Responses client format for one request (the answer echoes the request). */
export function responsesClient(ctx: ResponseContext): ClientFormat {
  return { name: 'responses', wholeBody: (json) => wholeBody(ctx, json), streamEncoder: () => new ResponsesEncoder(ctx), errorBody };
}

/** Errors before a request is read take the OpenAI error shape, as OpenAI's own /v1/responses does. */
const responsesErrors: ClientFormat = {
  name: 'responses',
  wholeBody: (json) => json,
  streamEncoder: () => ({ push: (f) => f, end: (f) => f, error: () => '' }),
  errorBody,
};

export function newResponseId(): string {
  return `resp_${randomBytes(16).toString('hex')}`;
}

/** POST /v1/responses: translated to chat completions, or passed through where the provider serves it. */
export const responses: ChatEndpoint = {
  endpoint: 'responses',
  parse: (json) => toChatBody(parseResponsesRequest(json)).body,
  client: responsesErrors,
  accept(json) {
    const { body, request, droppedTools } = toChatBody(parseResponsesRequest(json));
    const tools = Array.isArray(body.tools) ? body.tools.map(responsesTool) : [];
    const client = responsesClient({ id: newResponseId(), createdAt: Math.floor(Date.now() / 1000), request, tools });
    const headers: Record<string, string> = {};
    if (droppedTools.length > 0) headers['x-shepherd-dropped-tools'] = droppedTools.join(', ');
    return { body, client, headers, dropped: droppedTools };
  },
  // Deployments that serve the Responses API themselves (`responsesApi`) get the body as sent.
  native: (json) => (isRecord(json) ? { format: 'responses', body: json, headers: {} } : undefined),
};

function responsesTool(tool: unknown): unknown {
  const fn = isRecord(tool) && isRecord(tool.function) ? tool.function : {};
  return { type: 'function', name: fn.name, description: fn.description ?? null, parameters: fn.parameters ?? null, strict: fn.strict ?? null };
}
