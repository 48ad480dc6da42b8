// A small, deterministic JSON Schema instance generator for the sandbox: tool-call arguments and JSON
// answers (response_format json_schema, text.format) that an agent can use. Required properties are
// present with the right types, enums and consts are honoured, $ref/anyOf/oneOf/allOf are followed,
// and a few well-known property names get harmless useful values (a shell command is `ls`). Pure.
import { isRecord } from '../../shared/is-record';

export interface InstanceHints {
  /** Words for free-text fields such as `query` (the start of the user's last message). */
  text: string;
}

const MAX_DEPTH = 8;

/** A value that satisfies `schema` (as far as this generator knows JSON Schema). */
export function schemaInstance(schema: unknown, hints: InstanceHints): unknown {
  return new Generator(schema, hints).value(schema, '', 0);
}

/**
 * Tool-call arguments: an object for the tool's parameters. A tool that declares no properties gets
 * `{"query": ...}`, the sandbox's long-standing answer, which the simplest tool descriptions expect.
 */
export function toolArguments(parameters: unknown, hints: InstanceHints): Record<string, unknown> {
  const resolved = isRecord(parameters) ? parameters : {};
  const hasProperties = isRecord(resolved.properties) && Object.keys(resolved.properties).length > 0;
  const combined = ['$ref', 'anyOf', 'oneOf', 'allOf'].some((k) => resolved[k] !== undefined);
  if (!hasProperties && !combined) return { query: hints.text };
  const value = schemaInstance(resolved, hints);
  return isRecord(value) ? value : { query: hints.text };
}

class Generator {
  constructor(
    private readonly root: unknown,
    private readonly hints: InstanceHints,
  ) {}

  value(schema: unknown, name: string, depth: number): unknown {
    if (!isRecord(schema) || depth > MAX_DEPTH) return null;
    if (typeof schema.$ref === 'string') return this.value(this.resolve(schema.$ref), name, depth + 1);
    if ('const' in schema) return schema.const;
    if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
    for (const key of ['anyOf', 'oneOf'] as const) {
      const branches = schema[key];
      if (Array.isArray(branches) && branches.length > 0) {
        const branch = branches.find((b) => !(isRecord(b) && b.type === 'null')) ?? branches[0];
        return this.value({ ...withoutKey(schema, key), ...(isRecord(branch) ? branch : {}) }, name, depth + 1);
      }
    }
    if (Array.isArray(schema.allOf)) return this.value(mergeAll(schema), name, depth + 1);
    switch (typeOf(schema)) {
      case 'object':
        return this.object(schema, depth);
      case 'array':
        return this.array(schema, name, depth);
      case 'integer':
        return number(schema, true);
      case 'number':
        return number(schema, false);
      case 'boolean':
        return false; // the harmless choice for flags such as "with_escalated_permissions"
      case 'null':
        return null;
      default:
        return this.string(schema, name);
    }
  }

  private object(schema: Record<string, unknown>, depth: number): Record<string, unknown> {
    const properties = isRecord(schema.properties) ? schema.properties : {};
    const required = Array.isArray(schema.required) ? schema.required.filter((k): k is string => typeof k === 'string') : [];
    // Required fields when the schema names some; otherwise every property it describes.
    const keys = required.length > 0 ? required : Object.keys(properties);
    const out: Record<string, unknown> = {};
    for (const key of keys) out[key] = this.value(properties[key] ?? {}, key, depth + 1);
    return out;
  }

  private array(schema: Record<string, unknown>, name: string, depth: number): unknown[] {
    const items = isRecord(schema.items) ? schema.items : {};
    if (COMMAND.test(name) && typeOf(items) === 'string') return ['bash', '-lc', 'ls'];
    const min = typeof schema.minItems === 'number' ? schema.minItems : 1;
    const max = typeof schema.maxItems === 'number' ? schema.maxItems : Infinity;
    const count = Math.max(0, Math.min(Math.max(min, 1), max));
    if (Array.isArray(schema.prefixItems)) return schema.prefixItems.map((s) => this.value(s, name, depth + 1));
    return Array.from({ length: count }, () => this.value(items, singular(name), depth + 1));
  }

  private string(schema: Record<string, unknown>, name: string): string {
    const text = this.stringFor(schema, name);
    const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
    const max = typeof schema.maxLength === 'number' ? schema.maxLength : Infinity;
    const padded = text.length < min ? text.padEnd(min, 'x') : text;
    return padded.length > max ? padded.slice(0, max) : padded;
  }

  private stringFor(schema: Record<string, unknown>, name: string): string {
    switch (schema.format) {
      case 'date-time':
        return '2026-01-01T00:00:00Z';
      case 'date':
        return '2026-01-01';
      case 'time':
        return '00:00:00';
      case 'email':
        return 'sandbox@example.com';
      case 'uri':
      case 'url':
        return 'https://example.com/';
      case 'uuid':
        return '00000000-0000-4000-8000-000000000000';
    }
    if (COMMAND.test(name)) return 'ls';
    if (/^(path|file|filename|file_path|filepath|dir|directory|workdir|cwd)$/i.test(name)) return '.';
    if (/url$/i.test(name)) return 'https://example.com/';
    if (/^(id|.*_id)$/i.test(name)) return 'sbx-1';
    if (/^(lang|language)$/i.test(name)) return 'en';
    return this.hints.text !== '' ? this.hints.text : '[sandbox]';
  }

  private resolve(ref: string): unknown {
    if (!ref.startsWith('#')) return {};
    let node: unknown = this.root;
    for (const part of ref.slice(1).split('/').filter(Boolean)) {
      const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
      node = isRecord(node) ? node[key] : undefined;
    }
    return node ?? {};
  }
}

/** Property names that hold a command to run: `ls` is harmless and shows the agent something. */
const COMMAND = /^(command|cmd|commands|shell|script|argv)$/i;

function typeOf(schema: Record<string, unknown>): string | undefined {
  // Gemini's own schema dialect spells types in capitals (OBJECT, STRING).
  const t = typeof schema.type === 'string' ? schema.type.toLowerCase() : schema.type;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) return t.find((x) => x !== 'null') ?? t[0];
  if (isRecord(schema.properties)) return 'object';
  if (schema.items !== undefined) return 'array';
  return undefined;
}

function number(schema: Record<string, unknown>, integer: boolean): number {
  const lo = typeof schema.minimum === 'number' ? schema.minimum : typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum + (integer ? 1 : 0.5) : undefined;
  const hi = typeof schema.maximum === 'number' ? schema.maximum : typeof schema.exclusiveMaximum === 'number' ? schema.exclusiveMaximum - (integer ? 1 : 0.5) : undefined;
  let n = lo !== undefined ? lo : hi !== undefined && hi < 1 ? hi : 1;
  if (integer) n = lo !== undefined ? Math.ceil(n) : Math.floor(n);
  return n;
}

function singular(name: string): string {
  return name.endsWith('s') ? name.slice(0, -1) : name;
}

function withoutKey(schema: Record<string, unknown>, key: string): Record<string, unknown> {
  const { [key]: _dropped, ...rest } = schema;
  return rest;
}

/** allOf as one schema: properties and required lists merged, other keywords the last one wins. */
function mergeAll(schema: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = withoutKey(schema, 'allOf');
  const properties: Record<string, unknown> = isRecord(out.properties) ? { ...out.properties } : {};
  const required = new Set(Array.isArray(out.required) ? out.required : []);
  for (const part of schema.allOf as unknown[]) {
    if (!isRecord(part)) continue;
    Object.assign(out, withoutKey(withoutKey(part, 'properties'), 'required'));
    if (isRecord(part.properties)) Object.assign(properties, part.properties);
    if (Array.isArray(part.required)) for (const r of part.required) required.add(r);
  }
  if (Object.keys(properties).length > 0) out.properties = properties;
  if (required.size > 0) out.required = [...required];
  return out;
}
