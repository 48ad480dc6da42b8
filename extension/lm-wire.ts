// Translation between VS Code's language model API and the OpenAI chat format the daemon speaks:
// messages, tool calls, tool results and images out; streamed text and tool-call fragments back; the
// daemon's errors as what a person can act on. Pure: parts are recognised by shape (the vscode
// classes are plain data holders), so this runs in unit tests without an editor.
import type { LmContentPart, LmDelta, LmMessage, LmRequestBody, LmTool } from '../shared/lm-protocol';

/** vscode.LanguageModelChatMessageRole; System (3) is still a proposed API, but VS Code sends it. */
export const ROLE = { User: 1, Assistant: 2, System: 3 } as const;
/** vscode.LanguageModelChatToolMode */
export const TOOL_MODE_REQUIRED = 2;

export interface InMessage {
  readonly role: number;
  readonly content: ReadonlyArray<unknown>;
}

export interface InTool {
  readonly name: string;
  readonly description: string;
  readonly inputSchema?: object | undefined;
}

export interface InOptions {
  readonly tools?: ReadonlyArray<InTool>;
  readonly toolMode?: number;
  readonly modelOptions?: { readonly [name: string]: unknown };
}

/** A finished tool call, ready to become a vscode.LanguageModelToolCallPart. */
export interface ToolCall {
  callId: string;
  name: string;
  input: object;
}

export class TranslationError extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

// The shapes of vscode's part classes.
const asText = (p: unknown): string | undefined => (isObject(p) && typeof p.value === 'string' && !('callId' in p) ? p.value : undefined);
const asToolCall = (p: unknown): ToolCall | undefined =>
  isObject(p) && typeof p.callId === 'string' && typeof p.name === 'string' && isObject(p.input) ? { callId: p.callId, name: p.name, input: p.input } : undefined;
const asToolResult = (p: unknown): { callId: string; content: unknown[] } | undefined =>
  isObject(p) && typeof p.callId === 'string' && Array.isArray(p.content) && !('name' in p) ? { callId: p.callId, content: p.content } : undefined;
const asData = (p: unknown): { mimeType: string; data: Uint8Array } | undefined =>
  isObject(p) && typeof p.mimeType === 'string' && p.data instanceof Uint8Array ? { mimeType: p.mimeType, data: p.data } : undefined;

const TEXTUAL = /^(text\/|application\/(json|xml|x-yaml|yaml))/;

/** A tool result or data part's content as text; what is not text (e.g. prompt-tsx trees) as JSON. */
function partText(p: unknown): string | undefined {
  const text = asText(p);
  if (text !== undefined) return text;
  const data = asData(p);
  if (data) return TEXTUAL.test(data.mimeType) ? new TextDecoder().decode(data.data) : undefined;
  if (isObject(p) && 'value' in p) return JSON.stringify(p.value);
  return undefined;
}

export function toRequestBody(model: string, messages: ReadonlyArray<InMessage>, options: InOptions): LmRequestBody {
  const out: LmMessage[] = [];
  for (const m of messages) {
    if (m.role === ROLE.System) {
      const text = m.content.map(asText).filter((t) => t !== undefined).join('');
      if (text) out.push({ role: 'system', content: text });
    } else if (m.role === ROLE.Assistant) {
      const text = m.content.map(asText).filter((t) => t !== undefined).join('');
      const calls = m.content.map(asToolCall).filter((c) => c !== undefined);
      if (!text && calls.length === 0) continue;
      out.push({
        role: 'assistant',
        content: text || null,
        ...(calls.length > 0
          ? { tool_calls: calls.map((c) => ({ id: c.callId, type: 'function' as const, function: { name: c.name, arguments: JSON.stringify(c.input) } })) }
          : {}),
      });
    } else {
      // OpenAI wants each tool result as its own message right after the assistant's tool calls,
      // before whatever else the user turn says.
      const parts: LmContentPart[] = [];
      for (const p of m.content) {
        const result = asToolResult(p);
        if (result) {
          out.push({ role: 'tool', tool_call_id: result.callId, content: result.content.map(partText).filter((t) => t !== undefined).join('') });
          continue;
        }
        const data = asData(p);
        if (data?.mimeType.startsWith('image/')) {
          parts.push({ type: 'image_url', image_url: { url: `data:${data.mimeType};base64,${Buffer.from(data.data).toString('base64')}` } });
          continue;
        }
        // Other data (e.g. cache-control hints meant for one vendor) carries nothing for the model.
        const text = data ? partText(p) : asText(p);
        if (text) parts.push({ type: 'text', text });
      }
      if (parts.length === 0) continue;
      const onlyText = parts.every((p) => p.type === 'text');
      out.push({ role: 'user', content: onlyText ? parts.map((p) => (p.type === 'text' ? p.text : '')).join('') : parts });
    }
  }
  if (out.length === 0) throw new TranslationError('the request has no message with content');
  const tools: LmTool[] | undefined = options.tools?.length
    ? options.tools.map((t) => ({
        type: 'function' as const,
        function: { name: t.name, description: t.description, parameters: isObject(t.inputSchema) ? t.inputSchema : { type: 'object', properties: {} } },
      }))
    : undefined;
  return {
    model,
    messages: out,
    ...(tools ? { tools, ...(options.toolMode === TOOL_MODE_REQUIRED ? { tool_choice: 'required' as const } : {}) } : {}),
    ...modelOptions(options.modelOptions),
  };
}

/** The few sampling options worth passing on, where the caller set sensible values; the rest is ignored. */
function modelOptions(o: InOptions['modelOptions']): Partial<LmRequestBody> {
  if (!o) return {};
  const num = (v: unknown, min: number, max: number) => (typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? v : undefined);
  const maxTokens = o.max_tokens ?? o.maxTokens;
  const out: Partial<LmRequestBody> = {};
  if (typeof maxTokens === 'number' && Number.isInteger(maxTokens) && maxTokens > 0) out.max_tokens = maxTokens;
  const temperature = num(o.temperature, 0, 2);
  if (temperature !== undefined) out.temperature = temperature;
  const topP = num(o.top_p ?? o.topP, 0, 1);
  if (topP !== undefined) out.top_p = topP;
  if (typeof o.stop === 'string') out.stop = o.stop;
  return out;
}

/**
 * Turns the daemon's deltas into parts: text as it arrives, each tool call once its arguments are
 * complete (OpenAI streams them in pieces, keyed by index; they are complete when the stream finishes).
 */
export class StreamReader {
  private readonly calls = new Map<number, { id?: string; name?: string; args: string }>();

  /** Text to report now, if the delta carried any. */
  push(delta: LmDelta): string | undefined {
    for (const c of delta.toolCalls ?? []) {
      const call = this.calls.get(c.index) ?? { args: '' };
      if (c.id) call.id = c.id;
      if (c.name) call.name = c.name;
      if (c.arguments) call.args += c.arguments;
      this.calls.set(c.index, call);
    }
    return delta.text;
  }

  /** The finished tool calls, in the order the model made them. Throws on arguments that are not a JSON object. */
  finish(): ToolCall[] {
    const out: ToolCall[] = [];
    for (const [index, c] of [...this.calls.entries()].sort((a, b) => a[0] - b[0])) {
      if (!c.name) throw new TranslationError(`the model sent tool call #${index} without a tool name`);
      let input: unknown;
      try {
        input = c.args.trim() === '' ? {} : JSON.parse(c.args);
      } catch {
        throw new TranslationError(`the model sent arguments for tool "${c.name}" that are not valid JSON`);
      }
      if (!isObject(input)) throw new TranslationError(`the model sent arguments for tool "${c.name}" that are not a JSON object`);
      out.push({ callId: c.id ?? `call_${index}`, name: c.name, input });
    }
    this.calls.clear();
    return out;
  }
}

export type LmErrorKind = 'Blocked' | 'NoPermissions' | 'NotFound' | 'Unknown';

/**
 * The daemon's refusal as a vscode.LanguageModelError kind and a message a person can act on: which
 * Shepherd command or setting fixes it. `status` is absent when the request never got an answer.
 */
export function describeError(status: number | undefined, code: string | null | undefined, message: string, model: string): { kind: LmErrorKind; message: string } {
  const said = message.replace(/\.$/, '');
  if (status === 402 || code === 'budget_exceeded') {
    return { kind: 'Blocked', message: `${said}. Raise the limit with "Shepherd: Set Budget", or wait for the period to reset.` };
  }
  if (status === 401 || status === 403) {
    return { kind: 'NoPermissions', message: `Shepherd refused the request: ${said}. Check server.apiKeys in the Shepherd config ("Shepherd: Open Config").` };
  }
  if (status === 404 || code === 'model_not_found') {
    return { kind: 'NotFound', message: `${said}. Shepherd's model list may be out of date: run "Shepherd: Reload Config".` };
  }
  if (/no API key/i.test(message)) {
    return { kind: 'NoPermissions', message: `${said}. Set the key with "Shepherd: Set API Key".` };
  }
  if (status === 503 || code === 'no_deployment') {
    return { kind: 'Blocked', message: `Every deployment of "${model}" is down right now (${said}). See "Shepherd: Show Health", or pick another Shepherd model.` };
  }
  if (status === 429) {
    return { kind: 'Blocked', message: `${said}. Try again shortly, or pick another Shepherd model.` };
  }
  if (status === undefined) return { kind: 'Unknown', message: `Shepherd could not answer: ${said}. See "Shepherd: Show Logs".` };
  return { kind: 'Unknown', message: `Shepherd could not answer (HTTP ${status}): ${said}. See "Shepherd: Show Logs".` };
}

/** OpenAI's chat framing: about 3 tokens per message around its content. */
export const TOKENS_PER_MESSAGE = 3;

/** The text of a message as the model reads it, for token counting: text, tool calls and tool results. */
export function messageText(m: InMessage): string {
  let text = '';
  for (const p of m.content) {
    const call = asToolCall(p);
    if (call) {
      text += call.name + JSON.stringify(call.input);
      continue;
    }
    const result = asToolResult(p);
    if (result) {
      text += result.content.map(partText).filter((t) => t !== undefined).join('');
      continue;
    }
    text += partText(p) ?? '';
  }
  return text;
}
