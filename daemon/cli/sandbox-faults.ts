// `shepherd sandbox faults`: scripts faults into the running daemon's embedded sandbox upstreams
// through its POST /v1/shepherd/sandbox/faults (the state file gives the daemon's URL).
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { DaemonStateSchema } from '../../shared/protocol';
import { resolveDataDir } from '../config/paths';
import { stateFilePath } from '../lifecycle/state-file';

export const SANDBOX_FAULTS_USAGE = `  shepherd sandbox faults [--provider sandbox-us|sandbox-eu] (--rules JSON | --clear) [--data-dir DIR]
                                             script faults into the running daemon's sandbox upstreams`;

type MakeUsageError = (message: string) => Error;

export async function sandboxFaultsCommand(args: string[], usage: MakeUsageError, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: { provider: { type: 'string' }, rules: { type: 'string' }, clear: { type: 'boolean' }, 'data-dir': { type: 'string' } },
      strict: true,
    }));
  } catch (err) {
    throw usage(err instanceof Error ? err.message : String(err));
  }
  if ((values.rules === undefined) === (values.clear !== true)) throw usage('sandbox faults needs --rules JSON or --clear (one of them)');
  let rules: unknown = [];
  if (values.rules !== undefined) {
    try {
      rules = JSON.parse(values.rules);
    } catch (err) {
      throw usage(`--rules is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
    // Either the rules array or the sandbox's own body, {"rules": [...]}.
    if (typeof rules === 'object' && rules !== null && !Array.isArray(rules) && 'rules' in rules) rules = (rules as { rules: unknown }).rules;
  }
  const dataDir = resolveDataDir(values['data-dir'], env);
  let url: string;
  try {
    url = DaemonStateSchema.parse(JSON.parse(await readFile(stateFilePath(dataDir), 'utf8'))).url;
  } catch {
    process.stderr.write(`shepherd: no running daemon found in ${dataDir} (start one with "shepherd start")\n`);
    return 1;
  }
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  // When the daemon requires local API keys, one from the environment.
  if (env.SHEPHERD_API_KEY) headers.authorization = `Bearer ${env.SHEPHERD_API_KEY}`;
  const body = JSON.stringify({ ...(values.provider !== undefined ? { provider: values.provider } : {}), rules });
  let res: Response;
  try {
    res = await fetch(`${url}/v1/shepherd/sandbox/faults`, { method: 'POST', headers, body, signal: AbortSignal.timeout(5_000) });
  } catch (err) {
    process.stderr.write(`shepherd: the daemon at ${url} does not answer: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const text = await res.text();
  if (!res.ok) {
    let message = text;
    try {
      message = (JSON.parse(text) as { error: { message: string } }).error.message;
    } catch {
      // not the daemon's error shape: print as is
    }
    process.stderr.write(`shepherd: ${message}\n`);
    return 1;
  }
  const answer = JSON.parse(text) as { upstreams: { provider: string; url: string; rules: unknown[] }[] };
  for (const u of answer.upstreams) {
    process.stdout.write(`${u.provider} (${u.url}): ${u.rules.length === 0 ? 'no faults' : `${u.rules.length} rule(s) set`}\n`);
  }
  return 0;
}
