// What the sandbox's Anthropic wire adds so a coding agent (Claude Code) can finish a task against it:
// which tool to call, inputs that satisfy the tool's input_schema, an answer that quotes the tool's
// result, thinking blocks when thinking is asked for, and cache counts when cache_control is set.
// Kept apart from text.ts (shared with the other wire formats) so the formats evolve separately. Pure.
import { isRecord } from '../../shared/is-record';
import { SANDBOX_LABEL, fnv1a } from './text';

/** The last user or assistant turn, skipping mid-conversation system turns. */
function lastTurn(messages: unknown[]): Record<string, unknown> | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (isRecord(m) && (m.role === 'user' || m.role === 'assistant')) return m;
  }
  return undefined;
}

/** The user's own words in the last user turn: its last text block that is not a system reminder. */
export function promptText(messages: unknown[]): string {
  const turn = lastTurn(messages);
  if (!turn || turn.role !== 'user') return '';
  if (typeof turn.content === 'string') return turn.content;
  const texts = (Array.isArray(turn.content) ? turn.content : [])
    .filter((b): b is Record<string, unknown> => isRecord(b) && b.type === 'text' && typeof b.text === 'string')
    .map((b) => String(b.text))
    .filter((t) => !t.trimStart().startsWith('<system-reminder>'));
  return texts.at(-1) ?? '';
}

/** The text of the tool results the last user turn carries, or undefined when it carries none. */
export function toolResultText(messages: unknown[]): string | undefined {
  const turn = lastTurn(messages);
  if (!turn || turn.role !== 'user' || !Array.isArray(turn.content)) return undefined;
  const results = turn.content.filter((b): b is Record<string, unknown> => isRecord(b) && b.type === 'tool_result');
  if (results.length === 0) return undefined;
  return results
    .map((r) => (typeof r.content === 'string' ? r.content : Array.isArray(r.content) ? r.content.map((c) => (isRecord(c) && typeof c.text === 'string' ? c.text : '')).join(' ') : ''))
    .join(' ');
}

/**
 * The tool to call, if any: the one tool_choice names; else a tool the user's words name (`Bash`,
 * `Read`); else, with a single tool offered (or tool_choice "any"), that first tool. Never right after
 * tool results: then the model answers.
 */
export function chooseTool(body: Record<string, unknown>): Record<string, unknown> | undefined {
  const tools = (Array.isArray(body.tools) ? body.tools : []).filter((t): t is Record<string, unknown> => isRecord(t) && typeof t.name === 'string' && isRecord(t.input_schema));
  const choice = isRecord(body.tool_choice) ? body.tool_choice : undefined;
  const messages = Array.isArray(body.messages) ? body.messages : [];
  if (tools.length === 0 || choice?.type === 'none' || toolResultText(messages) !== undefined) return undefined;
  if (choice?.type === 'tool') return tools.find((t) => t.name === choice.name);
  const words = promptText(messages);
  const named = tools.find((t) => new RegExp(`(^|[^\\w])${escape(String(t.name))}([^\\w]|$)`).test(words));
  if (named) return named;
  return tools.length === 1 || choice?.type === 'any' ? tools[0] : undefined;
}

/** `inline code` in the user's words, in order: the values a tool's string fields get first. */
export function snippets(text: string): string[] {
  return [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
}

/**
 * An input that satisfies the tool's input_schema (required properties, types, enums, bounds, nested
 * objects and arrays, local $refs). String fields take the prompt's `snippets` in order, then a word.
 * A schema with no properties gets the legacy `{"query": ...}` (an open object allows it).
 */
export function toolInput(schema: unknown, prompt: string): Record<string, unknown> {
  const root = isRecord(schema) ? schema : {};
  if (!isRecord(root.properties) || Object.keys(root.properties).length === 0) {
    return { query: prompt.split(/\s+/).filter(Boolean).slice(0, 6).join(' ') };
  }
  const queue = snippets(prompt);
  const value = generate(root, root, queue, 0, prompt.split(/\s+/).filter(Boolean).slice(0, 6).join(' ') || 'sandbox');
  return isRecord(value) ? value : {};
}

/** A value that satisfies any JSON schema (for structured outputs), strings from the prompt. */
export function schemaValue(schema: unknown, prompt: string): unknown {
  const root = isRecord(schema) ? schema : {};
  return generate(root, root, snippets(prompt), 0, prompt.split(/\s+/).filter(Boolean).slice(0, 6).join(' ') || 'sandbox');
}

/** The JSON schema the answer must follow: output_config.format (or the older output_format). */
export function outputSchema(body: Record<string, unknown>): unknown {
  const config = isRecord(body.output_config) ? body.output_config : {};
  const format = isRecord(config.format) ? config.format : isRecord(body.output_format) ? body.output_format : undefined;
  return format?.type === 'json_schema' && isRecord(format.schema) ? format.schema : undefined;
}

function generate(schema: Record<string, unknown>, root: Record<string, unknown>, queue: string[], depth: number, fallback: string): unknown {
  if (depth > 8) return null;
  if (typeof schema.$ref === 'string') {
    const target = resolveRef(root, schema.$ref);
    return target ? generate(target, root, queue, depth + 1, fallback) : {};
  }
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if ('default' in schema && schema.default !== undefined) return schema.default;
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const options = schema[key];
    if (Array.isArray(options) && options.length > 0 && isRecord(options[0])) {
      if (key !== 'allOf') return generate(options[0], root, queue, depth + 1, fallback);
      return generate(Object.assign({}, ...options.filter(isRecord)), root, queue, depth + 1, fallback);
    }
  }
  const types = Array.isArray(schema.type) ? schema.type.filter((t) => t !== 'null') : [schema.type ?? (isRecord(schema.properties) ? 'object' : 'string')];
  switch (types[0]) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const props = isRecord(schema.properties) ? schema.properties : {};
      const required = Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === 'string') : [];
      // Required properties; with none required, the first one, so the call says something.
      for (const name of required.length > 0 ? required : Object.keys(props).slice(0, 1)) {
        const prop = props[name];
        out[name] = generate(isRecord(prop) ? prop : {}, root, queue, depth + 1, fallback);
      }
      return out;
    }
    case 'array': {
      const min = typeof schema.minItems === 'number' ? schema.minItems : 0;
      const items = isRecord(schema.items) ? schema.items : {};
      return Array.from({ length: Math.max(min, 1) }, () => generate(items, root, queue, depth + 1, fallback)).slice(0, Math.max(min, 1));
    }
    case 'integer':
    case 'number': {
      const min = typeof schema.minimum === 'number' ? schema.minimum : typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum + 1 : undefined;
      const max = typeof schema.maximum === 'number' ? schema.maximum : undefined;
      let n = min ?? 1;
      if (max !== undefined && n > max) n = max;
      return types[0] === 'integer' ? Math.ceil(n) : n;
    }
    case 'boolean':
      return false;
    case 'null':
      return null;
    default: {
      let s = queue.shift() ?? fallback;
      const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
      const max = typeof schema.maxLength === 'number' ? schema.maxLength : undefined;
      while (s.length < min) s += ' sandbox';
      if (max !== undefined) s = s.slice(0, max);
      return s;
    }
  }
}

function resolveRef(root: Record<string, unknown>, ref: string): Record<string, unknown> | undefined {
  if (!ref.startsWith('#/')) return undefined;
  let at: unknown = root;
  for (const part of ref.slice(2).split('/')) at = isRecord(at) ? at[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
  return isRecord(at) ? at : undefined;
}

/** The answer to tool results: the label, then the start of what the tool said. */
export function answerPieces(result: string): string[] {
  const firstLines = result.replace(/\s+/g, ' ').trim().slice(0, 160);
  return [SANDBOX_LABEL, ` The tool said: ${firstLines || '(nothing)'}`];
}

/** Thinking was asked for (enabled or adaptive); `omitted` display keeps the block but not its text. */
export function thinkingBlock(body: Record<string, unknown>, seed: () => string): { thinking: string; signature: string } | undefined {
  const t = isRecord(body.thinking) ? body.thinking : undefined;
  if (!t || (t.type !== 'enabled' && t.type !== 'adaptive')) return undefined;
  const signature = `sandbox-signature-${fnv1a(seed()).toString(16)}`;
  return { thinking: t.display === 'omitted' ? '' : `${SANDBOX_LABEL} thinking it over before answering.`, signature };
}

export interface CacheCounts {
  read: number;
  write5m: number;
  write1h: number;
}

/**
 * A stateless stand-in for prompt caching when any block sets cache_control: half the prompt is read
 * from the cache and a quarter written to it (the turns after the last cached prefix). A breakpoint
 * with ttl "1h" makes the writes one-hour writes.
 */
export function cacheCounts(json: string, promptTokens: number): CacheCounts {
  if (!json.includes('"cache_control"')) return { read: 0, write5m: 0, write1h: 0 };
  const hour = /"ttl"\s*:\s*"1h"/.test(json);
  const read = Math.floor(promptTokens / 2);
  const write = Math.floor(promptTokens / 4);
  return { read, write5m: hour ? 0 : write, write1h: hour ? write : 0 };
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
