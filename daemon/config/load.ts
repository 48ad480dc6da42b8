// Reading the config file. Every problem is reported by path, all at once, in words a user can act on
// (`models.gpt-4.1.deployments[0].provider: unknown provider "opnai" (did you mean "openai"?)`); a JSON
// syntax error gives its line and column. Never a stack trace, and never a piece of the file's text in
// a message (an inline key could be next to the mistake).
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z, type core } from 'zod';
import { ConfigSchema, configJsonSchema, type ProviderConfig, type ShepherdConfig } from '../../shared/config';
import { isRecord } from '../../shared/is-record';
import { closest } from '../../shared/closest';
import { formatIssuePath } from '../../shared/issue-path';
import { writeFileAtomic } from '../core/atomic-file';
import { checkJsonSyntax, lineColumn } from './json-syntax';
import { presetConfig } from './presets';

export interface ConfigProblem {
  /** `models.gpt-4.1.deployments[0].provider`; `(root)` for the file as a whole. */
  path: string;
  message: string;
}

export type LoadResult = { ok: true; config: ShepherdConfig; text: string } | { ok: false; problems: ConfigProblem[] };

/** Reading the file's bytes, before any parsing; `missing` lets the watcher tell a save in progress. */
export type ReadResult = { ok: true; text: string } | { ok: false; problems: ConfigProblem[]; missing: boolean };

export const MAX_CONFIG_BYTES = 5 * 1024 * 1024;
export const SCHEMA_FILE_NAME = 'config.schema.json';

/** Parses and validates config text. Never throws. */
export function parseConfigText(text: string): LoadResult {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // editors on Windows may add a BOM
  const syntax = checkJsonSyntax(body);
  if (syntax.error) {
    const { line, column } = lineColumn(body, syntax.error.offset);
    return fail(`invalid JSON at line ${line}, column ${column}: ${syntax.error.message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (err) {
    // Only if the syntax check above let through something JSON.parse refuses; drop V8's quote of the text.
    return fail(`invalid JSON: ${(err instanceof Error ? err.message : String(err)).replace(/, ".*$/s, '')}`);
  }
  if (!isRecord(raw)) return fail(`the config must be a JSON object ({ ... }), not ${describeType(raw)}`);
  const problems = syntax.duplicates.map(({ path, first, again }): ConfigProblem => {
    const a = lineColumn(body, first);
    const b = lineColumn(body, again);
    const key = String(path[path.length - 1]);
    return {
      path: formatIssuePath(path),
      message: `duplicate key "${key}" (first at line ${a.line}, column ${a.column}; again at line ${b.line}, column ${b.column}); keep one`,
    };
  });
  // reportInput: the messages say what was found ("got a string"), not only what was expected.
  const result = ConfigSchema.safeParse(raw, { reportInput: true });
  if (result.success && problems.length === 0) return { ok: true, config: result.data, text };
  if (!result.success) problems.push(...result.error.issues.flatMap(toProblems));
  return { ok: false, problems };
}

/** The file's text, or why it cannot be had: missing, unreadable, not a file, too big, not UTF-8. */
export async function readConfigText(path: string): Promise<ReadResult> {
  const refuse = (message: string, missing = false): ReadResult => ({ ok: false, problems: [{ path: '(root)', message }], missing });
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, 'r');
    const info = await handle.stat();
    if (!info.isFile()) return refuse('is not a regular file');
    const tooBig = (size: number) => refuse(`the file is ${size} bytes; a config file may be at most ${MAX_CONFIG_BYTES} bytes (5 MiB)`);
    if (info.size > MAX_CONFIG_BYTES) return tooBig(info.size);
    const bytes = await handle.readFile();
    if (bytes.length > MAX_CONFIG_BYTES) return tooBig(bytes.length); // it grew while we read
    try {
      return { ok: true, text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
    } catch {
      return refuse('the file is not valid UTF-8 text');
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return refuse('the config file does not exist', true);
    if (code === 'EACCES' || code === 'EPERM') return refuse('not allowed to read the config file (permission denied)');
    if (code === 'EISDIR') return refuse('is a directory, not a file');
    return refuse(`cannot read the config file: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

export async function loadConfigFile(path: string): Promise<LoadResult> {
  const read = await readConfigText(path);
  return read.ok ? parseConfigText(read.text) : { ok: false, problems: read.problems };
}

/** A header naming the file and the count, then one indented `path: message` line per problem. */
export function formatProblems(file: string, problems: ConfigProblem[]): string {
  const header = `${file}: ${problems.length} ${problems.length === 1 ? 'problem' : 'problems'}`;
  return [header, ...problems.map((p) => `  ${p.path}: ${p.message}`)].join('\n');
}

/**
 * First run: writes the preset config (owner-only) in a new owner-only directory. Every run: keeps
 * config.schema.json beside it in step with this version, so editors validate against what it accepts.
 * An existing config is never touched.
 */
export async function ensureConfigFile(path: string): Promise<{ created: boolean }> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let created = false;
  try {
    // 'wx' creates or fails: two daemons starting at once cannot both write, nor clobber a config.
    await writeFile(path, `${JSON.stringify(presetConfig(), null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    created = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  // The schema only helps editors: a read-only config folder must not stop the daemon.
  await writeSchemaFile(join(dir, SCHEMA_FILE_NAME)).catch(() => undefined);
  return { created };
}

async function writeSchemaFile(file: string): Promise<void> {
  const text = `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
  const current = await readFile(file, 'utf8').catch(() => undefined);
  if (current === text) return;
  // Written aside and renamed, so an editor never reads half a schema.
  await writeFileAtomic(file, text);
}

/** The provider's key: inline, else from the named environment variable (empty counts as unset). */
export function resolveApiKey(provider: ProviderConfig, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (provider.apiKey) return provider.apiKey;
  const value = provider.apiKeyEnv ? env[provider.apiKeyEnv] : undefined;
  return value ? value : undefined;
}

/**
 * Which real (non-sandbox) providers have a key in this environment, which lack the key they name,
 * and which need none (neither apiKey nor apiKeyEnv, e.g. a local Ollama), in config order.
 */
export function keyStatus(
  config: ShepherdConfig,
  env: NodeJS.ProcessEnv = process.env,
): { withKey: string[]; withoutKey: string[]; keyless: string[] } {
  const withKey: string[] = [];
  const withoutKey: string[] = [];
  const keyless: string[] = [];
  for (const [name, provider] of Object.entries(config.providers)) {
    if (provider.sandbox) continue;
    if (provider.apiKey === undefined && provider.apiKeyEnv === undefined) keyless.push(name);
    else (resolveApiKey(provider, env) ? withKey : withoutKey).push(name);
  }
  return { withKey, withoutKey, keyless };
}

function fail(message: string): LoadResult {
  return { ok: false, problems: [{ path: '(root)', message }] };
}

// ---- zod issues -> problems -------------------------------------------------------------------------

function toProblems(issue: core.$ZodIssue): ConfigProblem[] {
  if (issue.code === 'unrecognized_keys') {
    const fields = fieldsAt(issue.path);
    return issue.keys.map((key) => {
      const hint = closest(key, fields);
      const message = hint
        ? `unknown field (did you mean "${hint}"?)`
        : fields.length > 0
          ? `unknown field; expected one of: ${fields.join(', ')}`
          : 'unknown field';
      return { path: formatIssuePath([...issue.path, key]), message };
    });
  }
  return [{ path: formatIssuePath(issue.path), message: messageOf(issue) }];
}

function messageOf(issue: core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type': {
      const expected = issue.expected === 'record' ? 'object' : issue.expected;
      if (issue.input === undefined) return `missing; expected ${withArticle(expected)}`;
      return `expected ${withArticle(expected)}, got ${describeType(issue.input)}`;
    }
    case 'invalid_value': {
      const allowed = issue.values.map((v) => JSON.stringify(v));
      return allowed.length === 1 ? `must be ${allowed[0]}` : `must be one of ${allowed.join(', ')}`;
    }
    case 'invalid_key': {
      const emptyName = issue.issues.some((i) => i.code === 'too_small' && i.minimum === 1);
      return emptyName ? 'a name must not be empty' : `invalid name: ${issue.issues.map((i) => i.message).join('; ')}`;
    }
    case 'too_small':
    case 'too_big': {
      if (!/^Too (small|big): /.test(issue.message)) return issue.message; // the schema's own wording
      const small = issue.code === 'too_small';
      const bound = Number(small ? issue.minimum : issue.maximum);
      const op = small ? (issue.inclusive === false ? '>' : '>=') : issue.inclusive === false ? '<' : '<=';
      const atLeast = small ? 'at least' : 'at most';
      if (issue.origin === 'string') return `must be ${atLeast} ${bound} ${bound === 1 ? 'character' : 'characters'} long`;
      if (issue.origin === 'array') return `must have ${atLeast} ${bound} ${bound === 1 ? 'item' : 'items'}`;
      if (issue.origin === 'number' || issue.origin === 'int') return `must be ${op} ${bound}`;
      return issue.message.replace(/^Too (small|big): /, '');
    }
    default:
      // zod's own wording minus its "Too small: "-style prefix; custom messages pass through.
      return issue.message.replace(/^(Invalid input|Invalid option|Too small|Too big|Invalid string|Invalid number): /, '');
  }
}

function withArticle(type: string): string {
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return withArticle(typeof value);
}

/** The field names the schema allows for the object at `path`, for "unknown field" hints. */
function fieldsAt(path: readonly PropertyKey[]): string[] {
  let schema: core.$ZodType = ConfigSchema;
  for (const segment of path) {
    schema = unwrap(schema);
    if (schema instanceof z.ZodObject && typeof segment === 'string' && Object.hasOwn(schema.shape, segment)) {
      schema = schema.shape[segment];
    } else if (schema instanceof z.ZodRecord) {
      schema = schema.valueType;
    } else if (schema instanceof z.ZodArray) {
      schema = schema.element;
    } else {
      return [];
    }
  }
  schema = unwrap(schema);
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

function unwrap(schema: core.$ZodType): core.$ZodType {
  let s = schema;
  while (s instanceof z.ZodDefault || s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap();
  return s;
}
