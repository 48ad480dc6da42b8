// Routing introspection: POST /v1/shepherd/plan answers "what would you do with this request?"
// without calling any upstream, and GET /v1/shepherd/incidents lists outages.
import { planRoute, type Plan } from '../routing/plan';
import { cacheAffinityKey } from '../routing/affinity';
import { readJsonBody } from './body';
import { planContext } from '../pipeline/chat';
import { HttpError } from '../core/http-error';
import type { RouteContext } from './route';
import { sendJson } from './send-json';
import { parseChatRequest } from '../formats/openai/client-request';

export async function explainPlan(ctx: RouteContext): Promise<void> {
  const { deps, state } = ctx;
  const body = parseChatRequest(await readJsonBody(ctx.req, state.config.server));
  // A copy of the cursors: a dry run must not move the round-robin or weighted turn.
  // And the conversation's cache affinity, read but not updated: the plan says when it would apply.
  const cfg = state.config.routing.cacheAffinity;
  const key = cfg.enabled ? cacheAffinityKey(body) : undefined;
  const affinity = key !== undefined ? deps.affinity?.get(key, Date.now(), cfg.ttlMs) : undefined;
  const result = planRoute(planContext(deps, state, deps.cursors.clone(), affinity), body.model, body);
  if (!result.ok) {
    const status = result.reason === 'unknown_model' ? 404 : result.reason === 'wrong_operation' ? 400 : result.reason === 'saturated' ? 429 : 503;
    const clients = status === 404 || status === 400;
    throw new HttpError(status, result.message, clients ? 'invalid_request_error' : 'api_error', result.reason, clients ? 'model' : null);
  }
  const plan = result.plan;
  const describe = (d: (typeof plan.attempts)[number]['deployment']) => {
    const h = deps.health.get(d.id);
    return {
      deployment: d.id,
      provider: d.providerName,
      model: d.upstreamModel,
      region: d.region ?? null,
      state: h.state,
      circuit: h.circuit,
      latencyMs: h.latencyMs ?? null,
      inflight: h.inflight,
    };
  };
  sendJson(ctx.res, 200, {
    requestedModel: plan.requestedModel,
    group: plan.group.name,
    resolved: plan.resolved,
    strategy: plan.strategy,
    tier: plan.auto?.tier ?? null,
    ...(plan.auto ? { classifier: { profile: plan.auto.profile ?? null, score: plan.auto.score, reasons: plan.auto.reasons } } : {}),
    // A cascade: the groups in order, whether this request would escalate is known only after the cheap answer is checked.
    ...(plan.cascade ? { cascade: cascadeView(plan.cascade, body.stream === true) } : {}),
    panic: plan.panic,
    attempts: plan.attempts.map((a) => ({ ...describe(a.deployment), group: a.group, reason: a.reason })),
    skipped: plan.skipped.map((s) => ({ ...describe(s.deployment), reason: s.reason })),
    retry: plan.group.retry,
    fallbacks: plan.group.fallbacks,
  });
}

export function listIncidents(ctx: RouteContext): void {
  const raw = ctx.url.searchParams.get('limit');
  const limit = raw === null ? 100 : Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
    throw new HttpError(400, 'limit must be an integer from 1 to 500', 'invalid_request_error', 'invalid_limit', 'limit');
  }
  sendJson(ctx.res, 200, { object: 'list', data: ctx.deps.health.incidentsList(limit) });
}

/** What the plan endpoint says of a cascade: the steps, the checks on, and how a stream would go. */
function cascadeView(c: NonNullable<Plan['cascade']>, stream: boolean) {
  const checks = Object.entries(c.checks).filter(([name, on]) => on === true && name !== 'refusalMaxChars').map(([name]) => name);
  if (Object.keys(c.checks.minLength).length > 0) checks.push('minLength');
  const direct = c.steps.length === 1 || (stream && c.stream === 'strong');
  return {
    chain: c.chain.map((s) => s.group),
    steps: (direct ? c.steps.slice(-1) : c.steps).map((s) => s.group),
    escalates: direct ? 'never: it goes straight to the last step' : 'when a check fails on the answer of any step but the last',
    checks,
    stream: c.stream,
    reason: c.reason,
  };
}
