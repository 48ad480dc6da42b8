// OpenAI chat-completions request -> Anthropic Messages request. Anthropic keeps the system prompt
// apart from the turns, wants tool results as blocks of a user turn, and requires max_tokens.
import { isRecord } from '../../../shared/is-record';
import { untranslatable } from '../http-status';
import type { ChatBody } from '../../core/chat';
import { UpstreamError } from '../../core/failure';
import { outputFormatFor } from './output-format';

/** Sent as max_tokens when the client set none and the provider config names no other default. */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096;

type Block = Record<string, unknown>;
interface Turn {
  role: 'user' | 'assistant';
  content: Block[];
}

/** Thrown for an OpenAI request the Messages API cannot carry; the client gets a clear 400. */
function reject(message: string): never {
  throw new UpstreamError(untranslatable(`the Anthropic adapter cannot translate ${message}`));
}

export interface AnthropicRequestOptions {
  /** Add cache_control to the last system block and the last tool when the client set none anywhere. */
  autoCacheBreakpoints?: boolean;
}

export function toAnthropicRequest(body: ChatBody, model: string, defaultMaxTokens: number, options: AnthropicRequestOptions = {}): Record<string, unknown> {
  const system: Block[] = [];
  const turns: Turn[] = [];
  const push = (role: Turn['role'], blocks: Block[]) => {
    if (blocks.length === 0) return;
    const last = turns.at(-1);
    // Anthropic wants turns to alternate, and all results of parallel tool calls in one user turn.
    if (last && last.role === role) last.content.push(...blocks);
    else turns.push({ role, content: blocks });
  };
  body.messages.forEach((m, i) => {
    if (!isRecord(m)) return reject(`messages[${i}]: not an object`);
    switch (m.role) {
      case 'system':
      case 'developer':
        system.push(...textBlocks(m.content, `messages[${i}].content`));
        return;
      case 'user':
        return push('user', userBlocks(m.content, `messages[${i}].content`));
      case 'assistant':
        return push('assistant', assistantBlocks(m, i));
      case 'tool':
        return push('user', [toolResult(m, i)]);
      default:
        return reject(`messages[${i}].role "${String(m.role)}"`);
    }
  });

  const out: Record<string, unknown> = { model, messages: turns, max_tokens: maxTokens(body, defaultMaxTokens) };
  if (system.length > 0) out.system = system;
  if (typeof body.temperature === 'number') out.temperature = Math.min(1, Math.max(0, body.temperature)); // Anthropic's range is 0..1
  if (typeof body.top_p === 'number') out.top_p = body.top_p;
  const stop = typeof body.stop === 'string' ? [body.stop] : Array.isArray(body.stop) ? body.stop.filter((s) => typeof s === 'string') : [];
  if (stop.length > 0) out.stop_sequences = stop;
  if (typeof body.n === 'number' && body.n > 1) reject('n > 1 (Anthropic returns one choice per request)');
  const tools = Array.isArray(body.tools) ? body.tools.map(toTool) : [];
  if (tools.length > 0) {
    out.tools = tools;
    const choice = toToolChoice(body.tool_choice, body.parallel_tool_calls === false);
    if (choice) out.tool_choice = choice;
  }
  if (typeof body.user === 'string' && body.user !== '') out.metadata = { user_id: body.user };
  if (body.stream === true) out.stream = true;
  // max_tokens counts thinking too: without the client's own limit, the answer keeps the default on top of the budget.
  const own = maxTokens(body, 0) > 0;
  const thinking = thinkingFor(body.reasoning_effort, own ? (out.max_tokens as number) : Number.MAX_SAFE_INTEGER);
  if (thinking && !own) out.max_tokens = (thinking.budget_tokens as number) + defaultMaxTokens;
  if (thinking) {
    out.thinking = thinking;
    // Extended thinking allows no temperature other than 1 and top_p only from 0.95: leave both out.
    delete out.temperature;
    delete out.top_p;
  }
  if (options.autoCacheBreakpoints) addCacheBreakpoints(system, tools, turns);
  const { format, instruction } = outputFormatFor(body.response_format);
  if (format) out.output_config = { format };
  // After the breakpoints: the client's own system prompt stays the cached prefix.
  if (instruction) out.system = [...system, { type: 'text', text: instruction }];
  return out;
}

/** Thinking budgets for OpenAI's reasoning_effort (Anthropic's minimum budget is 1,024 tokens). */
const THINKING_BUDGET: Record<string, number> = { minimal: 1024, low: 2048, medium: 8192, high: 24_576 };

/**
 * reasoning_effort as Anthropic's extended thinking: a budget by effort, kept below max_tokens as
 * Anthropic requires; none for `none`, an unknown effort, or max_tokens too small to think in.
 */
export function thinkingFor(effort: unknown, maxTokens: number): Block | undefined {
  const budget = typeof effort === 'string' ? THINKING_BUDGET[effort] : undefined;
  if (budget === undefined) return undefined;
  const capped = Math.min(budget, maxTokens - 1);
  return capped >= 1024 ? { type: 'enabled', budget_tokens: capped } : undefined;
}

const EPHEMERAL = { type: 'ephemeral' } as const;

/**
 * Automatic cache breakpoints: an OpenAI-format agent (Cline, Continue) resends the same long system
 * prompt and tools every turn but cannot mark them for Anthropic's prompt cache. Marking the last tool
 * and the last system block caches both (tools come before system in Anthropic's cache order): reads
 * then cost a tenth of the input price. Nothing is added when the client marked anything itself, so
 * its own placement (at most four breakpoints) is never disturbed.
 */
function addCacheBreakpoints(system: Block[], tools: Block[], turns: Turn[]): void {
  const marked = (b: Block) => isRecord(b.cache_control);
  if (system.some(marked) || tools.some(marked) || turns.some((t) => t.content.some(marked))) return;
  const lastTool = tools.at(-1);
  if (lastTool) lastTool.cache_control = EPHEMERAL;
  const lastSystem = system.at(-1);
  if (lastSystem) lastSystem.cache_control = EPHEMERAL;
}

function maxTokens(body: ChatBody, fallback: number): number {
  for (const v of [body.max_completion_tokens, body.max_tokens]) {
    if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
  }
  return fallback;
}

function textBlocks(content: unknown, where: string): Block[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  if (!Array.isArray(content)) return content == null ? [] : reject(`${where}: expected a string or an array of parts`);
  return content.map((part, j) => {
    if (isRecord(part) && part.type === 'text' && typeof part.text === 'string') return textBlock(part);
    return reject(`${where}[${j}]: only text parts are allowed here`);
  });
}

// cache_control on a part (a convention some OpenAI-format clients use) carries over as is.
function textBlock(part: Record<string, unknown>): Block {
  return { type: 'text', text: part.text, ...(isRecord(part.cache_control) ? { cache_control: part.cache_control } : {}) };
}

function userBlocks(content: unknown, where: string): Block[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  if (!Array.isArray(content)) return reject(`${where}: expected a string or an array of parts`);
  return content.map((part, j) => {
    if (!isRecord(part)) return reject(`${where}[${j}]: not an object`);
    if (part.type === 'text' && typeof part.text === 'string') return textBlock(part);
    if (part.type === 'image_url') return imageBlock(part.image_url, `${where}[${j}]`);
    return reject(`${where}[${j}]: content part type "${String(part.type)}" (text and image_url are supported)`);
  });
}

function imageBlock(image: unknown, where: string): Block {
  const url = isRecord(image) ? image.url : typeof image === 'string' ? image : undefined;
  if (typeof url !== 'string') return reject(`${where}.image_url.url: missing`);
  const data = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (data) return { type: 'image', source: { type: 'base64', media_type: data[1], data: data[2] } };
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  return reject(`${where}.image_url.url: expected a data: URL or an http(s) URL`);
}

function assistantBlocks(m: Record<string, unknown>, i: number): Block[] {
  const blocks = typeof m.content === 'string' || Array.isArray(m.content) ? textBlocks(m.content, `messages[${i}].content`) : [];
  const calls = Array.isArray(m.tool_calls) ? m.tool_calls : [];
  calls.forEach((call, j) => {
    const where = `messages[${i}].tool_calls[${j}]`;
    const fn = isRecord(call) ? call.function : undefined;
    if (!isRecord(call) || !isRecord(fn) || typeof fn.name !== 'string') return reject(`${where}: needs function.name`);
    blocks.push({ type: 'tool_use', id: String(call.id ?? `call_${i}_${j}`), name: fn.name, input: parseArguments(fn.arguments, where) });
  });
  return blocks;
}

function parseArguments(args: unknown, where: string): unknown {
  if (args === undefined || args === null || args === '') return {};
  if (isRecord(args)) return args;
  if (typeof args !== 'string') return reject(`${where}.function.arguments: expected a JSON string`);
  try {
    const parsed: unknown = JSON.parse(args);
    if (isRecord(parsed)) return parsed;
  } catch {
    // fall through: named below
  }
  return reject(`${where}.function.arguments: not a JSON object (Anthropic tool input must be one)`);
}

function toolResult(m: Record<string, unknown>, i: number): Block {
  if (typeof m.tool_call_id !== 'string') return reject(`messages[${i}].tool_call_id: missing`);
  const content = typeof m.content === 'string' ? m.content : textBlocks(m.content, `messages[${i}].content`);
  return { type: 'tool_result', tool_use_id: m.tool_call_id, content };
}

function toTool(tool: unknown, i: number): Block {
  const fn = isRecord(tool) ? tool.function : undefined;
  if (!isRecord(fn) || typeof fn.name !== 'string') return reject(`tools[${i}]: only function tools with a name are supported`);
  const schema = isRecord(fn.parameters) ? fn.parameters : { type: 'object', properties: {} };
  return { name: fn.name, ...(typeof fn.description === 'string' ? { description: fn.description } : {}), input_schema: schema };
}

function toToolChoice(choice: unknown, noParallel: boolean): Block | undefined {
  const parallel = noParallel ? { disable_parallel_tool_use: true } : {};
  if (choice === 'none') return { type: 'none' };
  if (choice === 'required') return { type: 'any', ...parallel };
  if (isRecord(choice) && isRecord(choice.function) && typeof choice.function.name === 'string') {
    return { type: 'tool', name: choice.function.name, ...parallel };
  }
  return choice === 'auto' || noParallel ? { type: 'auto', ...parallel } : undefined;
}
