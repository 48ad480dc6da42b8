// A chat request from arrival to relay: read and validate the body, plan the route, register the
// request for shutdown and cancel it upstream when the client goes away.
import { randomUUID } from 'node:crypto';
import type { ChatBody } from '../providers/types';
import { planRoute, type Plan } from '../routing/plan';
import type { SpendCheck } from '../spend/gate';
import { readJsonBody } from './body';
import { openaiClient, type ClientFormat } from './client-format';
import { HttpError } from './errors';
import { recordRefusal, relayChat } from './relay';
import type { RouteContext } from './routes';
import { parseChatRequest } from './validate';

export async function handleChatCompletions(ctx: RouteContext): Promise<void> {
  const receivedAt = performance.now();
  const body = parseChatRequest(await readJsonBody(ctx.req, ctx.state.config.server.bodyLimitBytes));
  await routeChat(ctx, body, openaiClient, receivedAt);
}

/**
 * Routes one chat request, already translated to an OpenAI chat body, and answers in the client's
 * format. Errors before any attempt are thrown as HttpError for the caller to send in its shape.
 */
export async function routeChat(ctx: RouteContext, body: ChatBody, client: ClientFormat, receivedAt: number): Promise<void> {
  const { deps, state, res } = ctx;
  const id = `shep-${randomUUID()}`;
  const request = { id, receivedAt, body, clientKeyId: ctx.clientKeyId };
  let planned = planRoute(state.catalog, body.model);
  let verdict = planned.ok ? deps.spend.check(spendCheck(planned.plan, body, ctx.clientKeyId)) : undefined;
  if (planned.ok && verdict?.action === 'downgrade') {
    // One downgrade at most: the cheaper group's own verdict may allow or block, not redirect again.
    planned = planRoute(state.catalog, verdict.toGroup);
    verdict = planned.ok ? deps.spend.check(spendCheck(planned.plan, body, ctx.clientKeyId)) : undefined;
    if (verdict?.action === 'downgrade') verdict = { action: 'allow' };
  }
  if (!planned.ok) {
    const headers = { 'x-request-id': id };
    const error =
      planned.reason === 'unknown_model'
        ? new HttpError(404, planned.message, 'invalid_request_error', 'model_not_found', 'model', headers)
        : new HttpError(503, planned.message, 'api_error', 'no_deployment', null, headers);
    await recordRefusal(deps, request, planned.reason === 'no_deployment' ? planned.group : null, error);
    throw error;
  }
  if (verdict?.action === 'block') {
    await recordRefusal(deps, request, planned.plan.group.name, verdict.error);
    throw verdict.error;
  }
  const plan = verdict?.action === 'allow' && verdict.skip?.size ? withoutSkipped(planned.plan, verdict.skip) : planned.plan;
  const controller = new AbortController();
  const untrack = ctx.track(controller);
  // A client that goes away cancels the upstream call at once: no orphaned generation keeps billing.
  const onClose = () => {
    if (!res.writableFinished) controller.abort(new Error('client closed the request'));
  };
  res.on('close', onClose);
  try {
    await relayChat(deps, ctx.req, res, { ...request, plan, client }, controller.signal);
  } finally {
    res.off('close', onClose);
    untrack();
  }
}

function spendCheck(plan: Plan, body: ChatBody, clientKeyId: string | undefined): SpendCheck {
  return {
    group: plan.group.name,
    clientKeyId,
    body,
    deployments: plan.attempts.map(({ deployment: d }) => ({ id: d.id, providerName: d.providerName, price: d.price })),
  };
}

/** The plan minus deployments the spend rules left out; they move to `skipped` with the reason. */
function withoutSkipped(plan: Plan, skip: ReadonlyMap<string, string>): Plan {
  const attempts = plan.attempts.filter((a) => !skip.has(a.deployment.id));
  const skipped = plan.attempts
    .filter((a) => skip.has(a.deployment.id))
    .map((a) => ({ deployment: a.deployment, reason: skip.get(a.deployment.id) ?? 'over budget' }));
  return { ...plan, attempts, skipped: [...plan.skipped, ...skipped] };
}
