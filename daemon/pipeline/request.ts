// A chat request from arrival to relay: read and validate the body, plan the route (waiting a little
// when every deployment is at its rate limit), let the spend rules allow, downgrade or refuse it,
// register it for shutdown and cancel it upstream when the client goes away.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Cancel } from '../core/cancel';
import type { ChatBody } from '../core/chat';
import { planRoute, type Plan, type PlanContext, type PlanResult } from '../routing/plan';
import type { SpendCheck } from '../spend/gate';
import { CLIENT_HEADER, clientTag } from '../core/caller';
import type { ClientFormat } from '../formats/client-format';
import { HttpError } from '../core/http-error';
import type { ConfigSnapshot } from '../config/snapshot';
import type { PipelineDeps } from './deps';
import { recordRefusal, type LedgerRequest } from './ledger-line';
import { relayChat, type RequestInfo } from './failover';
import { DeadlineAbort } from '../core/abort';
import { budgetError, planError } from './refusals';

/** What a chat request needs from the front door (http/routes.ts's RouteContext has all of it). */
export interface ChatContext {
  deps: PipelineDeps;
  /** The config, catalog and keys as they were when this request arrived. */
  state: ConfigSnapshot;
  req: IncomingMessage;
  res: ServerResponse;
  /** Label of the local API key presented, when keys are in use. */
  clientKeyId: string | undefined;
  /** Registers the request so shutdown can wait for it or cancel it; call the result when done. */
  track(cancel: Cancel): () => void;
}

export function planContext(deps: PipelineDeps, state: ConfigSnapshot, cursors = deps.cursors): PlanContext {
  return { catalog: state.catalog, health: deps.health, cursors, distances: state.distances, random: Math.random };
}

/**
 * Routes one chat request, already translated to an OpenAI chat body, and answers in the client's
 * format. Errors before any attempt are thrown as HttpError for the caller to send in its shape.
 */
export async function routeChat(ctx: ChatContext, body: ChatBody, client: ClientFormat, receivedAt: number): Promise<void> {
  const { deps, state, res } = ctx;
  const id = `shep-${randomUUID()}`;
  const caller = clientTag(ctx.req.headers[CLIENT_HEADER]);
  const request: LedgerRequest = { id, receivedAt, body, clientKeyId: ctx.clientKeyId, caller };
  const refuse = async (group: string | null, error: HttpError): Promise<never> => {
    await recordRefusal(deps, request, group, error);
    throw error;
  };

  let planned = await planWaitingForCapacity(deps, state, body.model, body, receivedAt);
  let verdict = planned.ok ? deps.spend.check(spendCheck(planned.plan, body, ctx.clientKeyId)) : undefined;
  if (planned.ok && verdict?.action === 'downgrade') {
    // One downgrade at most: the cheaper group's own verdict may allow or block, not redirect again.
    planned = planRoute(planContext(deps, state), verdict.toGroup, body);
    verdict = planned.ok ? deps.spend.check(spendCheck(planned.plan, body, ctx.clientKeyId)) : undefined;
    if (verdict?.action === 'downgrade') verdict = { action: 'allow' };
  }
  if (!planned.ok) return refuse(planned.reason === 'unknown_model' ? null : planned.group, planError(planned, id));
  if (verdict?.action === 'block') return refuse(planned.plan.group.name, budgetError(verdict.block, id, Date.now()));
  const skip = verdict?.action === 'allow' ? verdict.skip : undefined;
  const plan = skip?.size ? withoutSkipped(planned.plan, skip) : planned.plan;

  const cancel = new Cancel();
  const untrack = ctx.track(cancel);
  // A client that goes away cancels the upstream call at once: no orphaned generation keeps billing.
  const onClose = () => {
    if (!res.writableFinished) cancel.abort(new Error('client closed the request'));
  };
  res.on('close', onClose);
  // The whole request, attempts, retries and waits included, ends at upstream.totalMs.
  const totalMs = state.config.upstream.totalMs;
  const deadlineAt = receivedAt + totalMs;
  const deadline = setTimeout(
    () => cancel.abort(new DeadlineAbort(`the request took longer than upstream.totalMs (${totalMs} ms)`)),
    Math.max(0, deadlineAt - performance.now()),
  );
  const replan = (): Plan | undefined => {
    const again = planRoute(planContext(deps, deps.current()), plan.group.name, body);
    return again.ok ? (skip?.size ? withoutSkipped(again.plan, skip) : again.plan) : undefined;
  };
  try {
    // A literal, not a spread of `request`: V8 makes objects spread-then-extended slowly (µs each).
    const info: RequestInfo = { id, receivedAt, body, clientKeyId: ctx.clientKeyId, caller, plan, client, deadlineAt, replan };
    await relayChat(deps, ctx.req, res, info, cancel);
  } finally {
    clearTimeout(deadline);
    res.off('close', onClose);
    untrack();
  }
}

/**
 * Plans; when every deployment is only at its rate limit, waits for capacity (up to
 * routing.waitWhenSaturatedMs and the request's deadline) and plans again.
 */
async function planWaitingForCapacity(
  deps: PipelineDeps,
  state: ConfigSnapshot,
  model: string,
  body: ChatBody,
  receivedAt: number,
): Promise<PlanResult> {
  const budget = Math.min(state.catalog.routing.waitWhenSaturatedMs, state.config.upstream.totalMs);
  for (;;) {
    const result = planRoute(planContext(deps, state), model, body);
    if (result.ok || result.reason !== 'saturated') return result;
    const left = receivedAt + budget - performance.now();
    if (result.retryAfterMs > left) return result;
    await new Promise((resolve) => setTimeout(resolve, result.retryAfterMs));
  }
}

function spendCheck(plan: Plan, body: ChatBody, clientKeyId: string | undefined): SpendCheck {
  return {
    group: plan.group.name,
    ...(plan.auto ? { tier: plan.auto.tier } : {}),
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
