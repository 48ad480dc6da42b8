// TEMPORARY stand-in until the config module lands.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { ConfigSchema, type ProviderConfig, type ShepherdConfig } from '../../shared/config';
import { formatIssuePath } from '../../shared/issue-path';
export interface ConfigProblem { path: string; message: string }
export type LoadResult = { ok: true; config: ShepherdConfig; text: string } | { ok: false; problems: ConfigProblem[] };
export function parseConfigText(text: string, _source: string): LoadResult {
  let raw: unknown;
  try { raw = JSON.parse(text); } catch (e) { return { ok: false, problems: [{ path: '(root)', message: String(e) }] }; }
  const r = ConfigSchema.safeParse(raw);
  if (!r.success) return { ok: false, problems: r.error.issues.map((i) => ({ path: formatIssuePath(i.path), message: i.message })) };
  return { ok: true, config: r.data, text };
}
export async function loadConfigFile(path: string): Promise<LoadResult> {
  try { return parseConfigText(await readFile(path, 'utf8'), path); } catch (e) { return { ok: false, problems: [{ path: '(root)', message: String(e) }] }; }
}
export function formatProblems(file: string, problems: ConfigProblem[]): string {
  return `${file}: ${problems.length} problems\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`;
}
export async function ensureConfigFile(path: string): Promise<{ created: boolean }> {
  if (existsSync(path)) return { created: false };
  await writeFile(path, JSON.stringify({ models: { 'gpt-4.1': { deployments: [{ provider: 'openai', model: 'gpt-4.1' }] } }, providers: { openai: { baseUrl: 'https://api.openai.com/v1', apiKeyEnv: 'OPENAI_API_KEY' } } }), { mode: 0o600 });
  return { created: true };
}
export function resolveApiKey(provider: ProviderConfig, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return provider.apiKey ?? (provider.apiKeyEnv ? env[provider.apiKeyEnv] || undefined : undefined);
}
export function keyStatus(config: ShepherdConfig, env: NodeJS.ProcessEnv): { withKey: string[]; withoutKey: string[] } {
  const withKey: string[] = []; const withoutKey: string[] = [];
  for (const [n, p] of Object.entries(config.providers)) { if (p.sandbox) continue; (resolveApiKey(p, env) ? withKey : withoutKey).push(n); }
  return { withKey, withoutKey };
}
