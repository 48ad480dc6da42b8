// POST /v1/shepherd/sandbox/faults: scripts faults into the daemon's own embedded sandbox upstreams
// (sandbox-us, sandbox-eu), whose ports are picked at start, through the daemon's port. The body is
// the sandbox's own fault body plus an optional provider: {"provider"?: "sandbox-us", "rules": [...]};
// `"rules": []` clears. Refused when the daemon is not serving the sandbox.
import { parseFaultsBody, type FaultRule } from '../sandbox/faults';
import { HttpError } from '../core/http-error';
import { readJsonBody } from './body';
import type { RouteContext } from './route';
import { sendJson } from './send-json';

/** One embedded sandbox upstream the daemon is serving from. */
export interface SandboxUpstream {
  provider: string;
  region: string;
  /** Its OpenAI base URL (`http://127.0.0.1:PORT/v1`); its own fault API is at /_sandbox/faults on that port. */
  url: string;
  setFaults(rules: FaultRule[]): Promise<void>;
}

export async function scriptSandboxFaults(ctx: RouteContext): Promise<void> {
  const upstreams = ctx.state.sandbox ? (ctx.deps.sandboxUpstreams?.() ?? []) : [];
  const body = await readJsonBody(ctx.req, ctx.state.config.server);
  if (upstreams.length === 0) {
    throw new HttpError(409, 'the daemon is not serving the built-in sandbox: there are no sandbox upstreams to script', 'invalid_request_error', 'sandbox_not_serving');
  }
  let provider: string | undefined;
  let rest: unknown = body;
  if (typeof body === 'object' && body !== null && !Array.isArray(body) && 'provider' in body) {
    const { provider: p, ...others } = body as Record<string, unknown>;
    if (typeof p !== 'string') throw new HttpError(400, 'provider must be a string', 'invalid_request_error', 'invalid_provider', 'provider');
    provider = p;
    rest = others;
  }
  const targets = provider === undefined ? upstreams : upstreams.filter((u) => u.provider === provider);
  if (targets.length === 0) {
    const names = upstreams.map((u) => `"${u.provider}"`).join(', ');
    throw new HttpError(400, `unknown sandbox provider "${provider}"; the sandbox upstreams are ${names}`, 'invalid_request_error', 'invalid_provider', 'provider');
  }
  const parsed = parseFaultsBody(rest);
  if (!parsed.ok) throw new HttpError(400, parsed.message, 'invalid_request_error', 'invalid_fault_rules', 'rules');
  for (const u of targets) await u.setFaults(parsed.rules);
  sendJson(ctx.res, 200, { upstreams: targets.map((u) => ({ provider: u.provider, url: u.url, rules: parsed.rules })) });
}
