// Reading the config file: JSON syntax errors with line and column, then every schema problem by
// path (`models.gpt-4.1.deployments[0].provider: unknown provider "opnai"`), never a stack trace.
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { core } from 'zod';
import { ConfigSchema, configJsonSchema, type ProviderConfig, type ShepherdConfig } from '../../shared/config';
import { formatIssuePath } from '../../shared/issue-path';
import { presetConfig } from './presets';

export interface ConfigProblem {
  path: string;
  message: string;
}

export type LoadResult = { ok: true; config: ShepherdConfig; text: string } | { ok: false; problems: ConfigProblem[] };

const MAX_CONFIG_BYTES = 5 * 1024 * 1024;

export function parseConfigText(text: string): LoadResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    return { ok: false, problems: [{ path: '(root)', message: jsonSyntaxMessage(text, err) }] };
  }
  const result = ConfigSchema.safeParse(raw);
  if (result.success) return { ok: true, config: result.data, text };
  return { ok: false, problems: result.error.issues.flatMap(toProblems) };
}

export async function loadConfigFile(path: string): Promise<LoadResult> {
  try {
    const info = await stat(path);
    if (!info.isFile()) return fail(`${path} is not a file`);
    if (info.size > MAX_CONFIG_BYTES) return fail(`the file is ${info.size} bytes; a config may be at most ${MAX_CONFIG_BYTES}`);
    return parseConfigText(await readFile(path, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return fail(`no config file at ${path}`);
    if (code === 'EACCES') return fail(`not allowed to read ${path}`);
    return fail(`cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function formatProblems(file: string, problems: ConfigProblem[]): string {
  const header = `${file}: ${problems.length} ${problems.length === 1 ? 'problem' : 'problems'}`;
  return [header, ...problems.map((p) => `  ${p.path}: ${p.message}`)].join('\n');
}

/** Writes the preset config on first run; (re)writes config.schema.json beside it either way. */
export async function ensureConfigFile(path: string): Promise<{ created: boolean }> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let created = false;
  try {
    await writeFile(path, `${JSON.stringify(presetConfig(), null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    created = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  // The schema tracks this version of Shepherd, so editors validate against what it accepts.
  await writeFile(join(dir, 'config.schema.json'), `${JSON.stringify(configJsonSchema(), null, 2)}\n`, { mode: 0o600 });
  return { created };
}

/** The provider's key: inline, else from the named environment variable (empty counts as unset). */
export function resolveApiKey(provider: ProviderConfig, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (provider.apiKey) return provider.apiKey;
  const value = provider.apiKeyEnv ? env[provider.apiKeyEnv] : undefined;
  return value ? value : undefined;
}

/** Which real (non-sandbox) providers have a key in this environment. */
export function keyStatus(config: ShepherdConfig, env: NodeJS.ProcessEnv = process.env): { withKey: string[]; withoutKey: string[] } {
  const withKey: string[] = [];
  const withoutKey: string[] = [];
  for (const [name, provider] of Object.entries(config.providers)) {
    if (provider.sandbox) continue;
    (resolveApiKey(provider, env) ? withKey : withoutKey).push(name);
  }
  return { withKey, withoutKey };
}

function toProblems(issue: core.$ZodIssue): ConfigProblem[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: formatIssuePath([...issue.path, key]), message: 'unknown field' }));
  }
  return [{ path: formatIssuePath(issue.path), message: issue.message }];
}

function fail(message: string): LoadResult {
  return { ok: false, problems: [{ path: '(root)', message }] };
}

/** "invalid JSON at line 3, column 14: ..." from the position Node puts in the SyntaxError. */
function jsonSyntaxMessage(text: string, err: unknown): string {
  const detail = err instanceof Error ? err.message : String(err);
  const match = /at position (\d+)/.exec(detail);
  const position = match ? Number(match[1]) : /end of JSON input/.test(detail) ? text.length : undefined;
  if (position === undefined) return `invalid JSON: ${detail}`;
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  const what = detail.replace(/\s*(in JSON )?at position \d+.*$/, '');
  return `invalid JSON at line ${line}, column ${column}: ${what}`;
}
