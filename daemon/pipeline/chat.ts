// A chat request from arrival to finish: plan the route (waiting a little when every deployment is at
// its rate limit), let the spend rules allow, downgrade or refuse it, then try the plan's deployments
// (failover.ts). It registers the request for shutdown, cancels it upstream when the client goes away
// and bounds it by upstream.totalMs. Every path ends in finish().
import { randomUUID } from 'node:crypto';
import { DeadlineAbort } from '../core/abort';
import { Cancel } from '../core/cancel';
import type { ChatBody, Operation } from '../core/chat';
import type { HttpError } from '../core/http-error';
import type { ConfigSnapshot } from '../config/snapshot';
import { planRoute, type Plan, type PlanContext, type PlanResult } from '../routing/plan';
import { cacheAffinityKey } from '../routing/affinity';
import type { SpendCheck } from '../spend/gate';
import type { PipelineDeps } from './deps';
import type { Arrival, Exchange } from './exchange';
import { failover } from './failover';
import { runCascade, type StepPlanner } from './cascade/run';
import { finish } from './finish';
import { budgetError, ledgerError, planError } from './refusals';
import { sendError } from '../core/http-error';

export function planContext(deps: PipelineDeps, state: ConfigSnapshot, cursors = deps.cursors, affinity?: string): PlanContext {
  return { catalog: state.catalog, health: deps.health, cursors, distances: state.distances, random: Math.random, ...(affinity !== undefined ? { affinity } : {}) };
}

/** The deployment that served this request's conversation last, looked up (and its key kept on the arrival). */
function affinityOf(deps: PipelineDeps, arrival: Arrival): string | undefined {
  const cfg = arrival.state.config.routing.cacheAffinity;
  if (!deps.affinity || !cfg.enabled || (arrival.operation ?? 'chat') !== 'chat') return undefined;
  // The Anthropic body's own cache breakpoints; any other format is keyed on the chat view of it.
  arrival.affinityKey = cacheAffinityKey(arrival.body, arrival.native?.format === 'anthropic' ? arrival.native.body : undefined);
  return arrival.affinityKey === undefined ? undefined : deps.affinity.get(arrival.affinityKey, Date.now(), cfg.ttlMs);
}

export async function runChat(deps: PipelineDeps, arrival: Arrival): Promise<void> {
  const { body, state, res } = arrival;
  const id = arrival.id ?? `shep-${randomUUID()}`;
  // Refused before anything is spent, and without a ledger line: the ledger is what cannot be written.
  if (state.config.ledger.onWriteFailure === 'refuse') {
    const ledger = deps.ledger.health();
    if (ledger.state === 'failing') {
      const error = ledgerError(ledger, id);
      return sendError(res, error, {}, arrival.client.errorBody(error));
    }
  }
  const refuse = (group: string | null, error: HttpError): Promise<void> =>
    finish(deps, id, arrival, { group, deployment: null, attempts: 0, status: error.status, endedAt: performance.now(), error: error.message }, { kind: 'error', error, headers: {} });

  const operation = arrival.operation ?? 'chat';
  const affinity = affinityOf(deps, arrival);
  let planned = await planWaitingForCapacity(deps, state, body.model, body, arrival.receivedAt, operation, affinity);
  let check = planned.ok ? spendCheck(planned.plan, body, arrival) : undefined;
  let verdict = check ? deps.spend.check(check) : undefined;
  // Team mode: the team's hard budgets hold this request's estimate (local mode awaits nothing here).
  if (deps.reserve !== undefined && check && verdict?.action === 'allow') verdict = await deps.reserve.reserve(check, id, verdict);
  if (planned.ok && verdict?.action === 'downgrade') {
    // One downgrade at most: the cheaper group's own verdict may allow or block, not redirect again.
    planned = planRoute(planContext(deps, state, deps.cursors, affinity), verdict.toGroup, body, operation);
    check = planned.ok ? spendCheck(planned.plan, body, arrival) : undefined;
    verdict = check ? deps.spend.check(check) : undefined;
    if (verdict?.action === 'downgrade') verdict = { action: 'allow' };
    if (deps.reserve !== undefined && check && verdict?.action === 'allow') verdict = await deps.reserve.reserve(check, id, verdict);
    if (verdict?.action === 'downgrade') verdict = { action: 'allow' };
  }
  if (!planned.ok) return refuse(planned.reason === 'unknown_model' ? null : planned.group, planError(planned, id));
  if (verdict?.action === 'block') return refuse(planned.plan.group.name, budgetError(verdict.block, id, Date.now()));
  const skip = verdict?.action === 'allow' ? verdict.skip : undefined;
  const plan = skip?.size ? withoutSkipped(planned.plan, skip) : planned.plan;

  const cancel = new Cancel();
  const untrack = arrival.track(cancel);
  // A client that goes away cancels the upstream call at once: no orphaned generation keeps billing.
  const onClose = () => {
    if (!res.writableFinished) cancel.abort(new Error('client closed the request'));
  };
  res.on('close', onClose);
  // The whole request, attempts, retries and waits included, ends at upstream.totalMs.
  const totalMs = state.config.upstream.totalMs;
  const deadlineAt = arrival.receivedAt + totalMs;
  const deadline = setTimeout(
    () => cancel.abort(new DeadlineAbort(`the request took longer than upstream.totalMs (${totalMs} ms)`)),
    Math.max(0, deadlineAt - performance.now()),
  );
  const replan = (): Plan | undefined => {
    // Without affinity: a replan follows failures, and the sticky deployment may be what failed.
    const again = planRoute(planContext(deps, state), plan.group.name, body, operation);
    return again.ok ? (skip?.size ? withoutSkipped(again.plan, skip) : again.plan) : undefined;
  };
  try {
    const exchange: Exchange = { id, arrival, plan, cancel, deadlineAt, replan };
    // Only chat answers are checked (a text completion is not read by the checks): other operations take the first step's group.
    if (plan.cascade && operation === 'chat') await runCascade(deps, exchange, (group) => planStep(deps, state, group, body, arrival, operation));
    else await failover(deps, exchange);
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
  operation: Operation,
  affinity?: string,
): Promise<PlanResult> {
  const budget = Math.min(state.catalog.routing.waitWhenSaturatedMs, state.config.upstream.totalMs);
  for (;;) {
    const result = planRoute(planContext(deps, state, deps.cursors, affinity), model, body, operation);
    if (result.ok || result.reason !== 'saturated') return result;
    const left = receivedAt + budget - performance.now();
    if (result.retryAfterMs > left) return result;
    await new Promise((resolve) => setTimeout(resolve, result.retryAfterMs));
  }
}

function spendCheck(plan: Plan, body: ChatBody, who: Pick<Arrival, 'clientKeyId' | 'member'>): SpendCheck {
  return {
    group: plan.group.name,
    ...(plan.auto ? { tier: plan.auto.tier } : {}),
    clientKeyId: who.clientKeyId,
    member: who.member,
    body,
    deployments: plan.attempts.map(({ deployment: d }) => ({ id: d.id, providerName: d.providerName, price: d.price, sandbox: d.sandbox })),
  };
}

/** A later cascade step's plan: its group's deployments, less those the spend rules leave out; blocked when over budget. */
function planStep(deps: PipelineDeps, state: ConfigSnapshot, group: string, body: ChatBody, who: Pick<Arrival, 'clientKeyId' | 'member'>, operation: Operation): ReturnType<StepPlanner> {
  const planned = planRoute(planContext(deps, state), group, body, operation);
  if (!planned.ok) return { ok: false, why: planned.message };
  const verdict = deps.spend.check(spendCheck(planned.plan, body, who));
  if (verdict.action === 'block') return { ok: false, why: `over budget (${verdict.block.message})` };
  const skip = verdict.action === 'allow' ? verdict.skip : undefined;
  return { ok: true, plan: skip?.size ? withoutSkipped(planned.plan, skip) : planned.plan };
}

/** The plan minus deployments the spend rules left out; they move to `skipped` with the reason. */
function withoutSkipped(plan: Plan, skip: ReadonlyMap<string, string>): Plan {
  const attempts = plan.attempts.filter((a) => !skip.has(a.deployment.id));
  const skipped = plan.attempts
    .filter((a) => skip.has(a.deployment.id))
    .map((a) => ({ deployment: a.deployment, reason: skip.get(a.deployment.id) ?? 'over budget' }));
  return { ...plan, attempts, skipped: [...plan.skipped, ...skipped] };
}
