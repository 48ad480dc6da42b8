// Carries out a plan for one chat request. On a retryable failure it moves straight on to the next
// deployment (fast failover: nothing reached the client yet); a deployment may first be retried in
// place when retry.perDeployment asks for it. When the whole plan failed it waits (exponential
// backoff with full jitter, or the upstream's Retry-After) and makes another pass with a fresh plan,
// up to retry.rounds times. Everything is bounded by the request's deadline (upstream.totalMs).
import { abortFailure, HedgeLost } from '../core/abort';
import { childCancel, type Cancel } from '../core/cancel';
import { isKeyRejection, type UpstreamFailure } from '../core/failure';
import { HttpError } from '../core/http-error';
import { backoff } from '../routing/backoff';
import type { Deployment } from '../routing/catalog';
import type { Plan, PlannedAttempt } from '../routing/plan';
import { hedgeDelay, slowAfterMs } from '../routing/timing';
import { attempt, type AttemptResult, type Failed } from './attempt';
import type { PipelineDeps } from './deps';
import type { Exchange } from './exchange';
import { finish, recordExtra } from './finish';
import { headerSafe } from './relay';
import { usageOrEstimate } from './usage-fallback';


export async function failover(deps: PipelineDeps, x: Exchange): Promise<void> {
  const leave = deps.hedges.enter();
  try {
    await tryPlan(deps, x);
  } finally {
    leave();
  }
}

async function tryPlan(deps: PipelineDeps, x: Exchange): Promise<void> {
  const signal = x.cancel;
  const remaining = () => x.deadlineAt - performance.now();
  const retry = x.plan.group.retry;
  const groups = x.arrival.state.catalog.groups;
  const failures: Failed[] = [];
  let attempts = 0;
  let plan = x.plan;
  for (let round = 0; ; round++) {
    const before = failures.length;
    for (let i = 0; i < plan.attempts.length; i++) {
      const planned = plan.attempts[i];
      const groupRetry = groups.get(planned.group)?.retry ?? retry;
      for (let tryNo = 0; tryNo <= groupRetry.perDeployment && !signal.aborted; tryNo++) {
        // The first try may be hedged with the plan's next deployment (which then is not tried again).
        const partner = tryNo === 0 ? plan.attempts[i + 1] : undefined;
        const outcome = await hedged(deps, x, plan, planned, partner, attempts + 1, groupRetry.retryableStatuses);
        if (outcome.partnerTried) i++;
        attempts += outcome.tried;
        if (outcome.answered) return;
        if (outcome.failed.length === 0) break; // not admitted (e.g. a half-open circuit's trial slots are taken): next deployment
        for (const f of outcome.failed) if (!f.unsent) logFailure(deps, x.id, f.deployment, f.failure);
        failures.push(...outcome.failed);
        const failure = outcome.failed[outcome.failed.length - 1].failure;
        // A rejected key says nothing about the request: the next deployment may serve it (no retry here).
        if (outcome.partnerTried || isKeyRejection(failure)) break;
        if (!failure.retryable || signal.aborted) return fail(deps, x, failures, attempts);
        if (tryNo === groupRetry.perDeployment) break;
        const wait = backoff(groupRetry, tryNo, failure.retryAfterMs, Math.random);
        if (!wait.wait || wait.ms >= remaining() || !(await sleep(wait.ms, signal))) break;
      }
      if (signal.aborted) return fail(deps, x, failures, attempts);
      const final = failures.find((f) => !f.failure.retryable && !isKeyRejection(f.failure));
      if (final) return fail(deps, x, [...failures.filter((f) => f !== final), final], attempts);
    }
    if (round >= retry.rounds || failures.length === before) break;
    const waits = failures.slice(before).map((f) => f.failure.retryAfterMs).filter((ms): ms is number => ms !== undefined);
    const wait = backoff(retry, round, waits.length ? Math.min(...waits) : undefined, Math.random);
    if (!wait.wait || wait.ms >= remaining() || !(await sleep(wait.ms, signal))) break;
    const next = x.replan();
    if (!next) break;
    plan = next;
  }
  return fail(deps, x, failures, attempts);
}

interface HedgedOutcome {
  answered: boolean;
  /** Attempts that reached a deployment (admitted), 0 to 2. */
  tried: number;
  /** The partner deployment was tried as a hedge. */
  partnerTried: boolean;
  /** Failed attempts, in the order they ended; a hedge's loser is not among them when the other answered. */
  failed: Failed[];
}

/**
 * One attempt at `planned`; when it is slower than the deployment's usual time to first byte and a
 * partner is there, the same request goes to the partner too, and whichever answers first is kept
 * (the other is cancelled; its call is still a ledger line, so budgets count it).
 */
async function hedged(
  deps: PipelineDeps,
  x: Exchange,
  plan: Plan,
  planned: PlannedAttempt,
  partner: PlannedAttempt | undefined,
  attemptNo: number,
  retryableStatuses: readonly number[] | undefined,
): Promise<HedgedOutcome> {
  const delay = partner ? hedgeDelayFor(deps, x, planned) : undefined;
  if (!partner || delay === undefined) {
    const result = await attempt({ deps, x, plan, planned, attemptNo, retryableStatuses, signal: x.cancel, claim: yes });
    return single(result);
  }
  const kind = x.arrival.body.stream === true ? 'stream' : 'whole';
  const routing = x.arrival.state.catalog.routing;
  const group = x.arrival.state.catalog.groups.get(planned.group)?.hedge ?? routing.hedge;
  const slowAfter = (p: PlannedAttempt) => slowAfterMs(deps.health.firstByteFigures(p.deployment.id, kind), routing.firstByte, group, kind);
  // The primary needs a cancel of its own from the start; the hedge's is made only if it goes out.
  const first = childCancel(x.cancel);
  let second: ReturnType<typeof childCancel> | undefined;
  let winner: PlannedAttempt | undefined;
  const claimFor = (mine: PlannedAttempt, other: () => Cancel | undefined) => () => {
    if (winner) return winner === mine;
    winner = mine;
    other()?.abort(new HedgeLost(mine.deployment.id));
    return true;
  };
  let release: (() => void) | undefined;
  try {
    const primary = attempt({ deps, x, plan, planned, attemptNo, retryableStatuses, signal: first.signal, claim: claimFor(planned, () => second?.signal), slowAfterMs: slowAfter(planned) });
    const timer = cancellableSleep(delay);
    const early = await Promise.race([primary, timer.done]);
    timer.cancel();
    // Answered, failed, cancelled, or already streaming its answer to the client: no hedge.
    if (early !== undefined || x.cancel.aborted || winner) return single(early ?? (await primary));
    // Enough hedges out already: wait for a slot (or the primary's answer) rather than add load. Slots
    // free fast when hedges answer fast (one deployment hung), slowly when everything is slow (overload).
    release = deps.hedges.take(group.maxShare);
    while (!release) {
      const retry = cancellableSleep(HEDGE_SLOT_POLL_MS);
      const settled = await Promise.race([primary, retry.done]);
      retry.cancel();
      if (settled !== undefined || x.cancel.aborted || winner) return single(settled ?? (await primary));
      release = deps.hedges.take(group.maxShare);
    }
    second = childCancel(x.cancel);
    const hedge = attempt({ deps, x, plan, planned: partner, attemptNo: attemptNo + 1, retryableStatuses, signal: second.signal, claim: claimFor(partner, () => first.signal), slowAfterMs: slowAfter(partner) });
    const [a, b] = await Promise.all([primary, hedge]);
    if (b.kind === 'skipped') return single(a);
    const answered = a.kind === 'answered' || b.kind === 'answered';
    const lost = [a, b].filter((r): r is Failed => r.kind === 'failed' && r.failure.code === 'hedge_lost');
    if (answered) for (const loser of lost) await recordLoser(deps, x, loser, a === loser ? attemptNo : attemptNo + 1);
    const failed = [a, b].filter((r): r is Failed => r.kind === 'failed' && !(answered && r.failure.code === 'hedge_lost'));
    return { answered, tried: (a.kind === 'skipped' ? 0 : 1) + 1, partnerTried: true, failed };
  } finally {
    release?.();
    first.detach();
    second?.detach();
  }
}

/** A timer that resolves undefined after `ms`, and can be cleared (it must not outlive a fast answer). */
function cancellableSleep(ms: number): { done: Promise<undefined>; cancel(): void } {
  let t: NodeJS.Timeout | undefined;
  const done = new Promise<undefined>((resolve) => {
    t = setTimeout(resolve, ms, undefined);
  });
  return { done, cancel: () => clearTimeout(t) };
}

const yes = () => true;

/** How often a request waiting for a hedge slot looks again. */
const HEDGE_SLOT_POLL_MS = 25;

function single(result: AttemptResult): HedgedOutcome {
  if (result.kind === 'skipped') return { answered: false, tried: 0, partnerTried: false, failed: [] };
  const tried = result.kind === 'failed' && result.unsent ? 0 : 1;
  return { answered: result.kind === 'answered', tried, partnerTried: false, failed: result.kind === 'failed' ? [result] : [] };
}

function hedgeDelayFor(deps: PipelineDeps, x: Exchange, planned: PlannedAttempt): number | undefined {
  const { body, state } = x.arrival;
  const cfg = state.catalog.groups.get(planned.group)?.hedge ?? state.catalog.routing.hedge;
  if (!cfg.enabled) return undefined;
  const kind = body.stream === true ? 'stream' : 'whole';
  const max = body.max_completion_tokens ?? body.max_tokens;
  const maxTokens = typeof max === 'number' && Number.isFinite(max) ? max : undefined;
  return hedgeDelay(deps.health.firstByteFigures(planned.deployment.id, kind), cfg, state.catalog.routing.firstByte.minSamples, kind, maxTokens);
}

/**
 * The losing attempt of a hedged pair is a ledger line of its own, tied to the request by `parent`:
 * its upstream call was made, and its prompt most likely read, so its estimated prompt cost counts.
 */
async function recordLoser(deps: PipelineDeps, x: Exchange, loser: Failed, attemptNo: number): Promise<void> {
  const counted = usageOrEstimate(x.arrival.body, undefined, () => '');
  const facts = { group: loser.deployment.group, deployment: loser.deployment, attempts: attemptNo, status: 499, counted, endedAt: performance.now(), error: loser.failure.message, parent: x.id, role: 'hedge' as const };
  await recordExtra(deps, `${x.id}:${attemptNo}`, x, facts);
}

function logFailure(deps: PipelineDeps, request: string, deployment: Deployment, failure: UpstreamFailure): void {
  deps.log.warn('upstream attempt failed', {
    request,
    deployment: deployment.id,
    status: failure.status,
    kind: failure.kind,
    error: failure.message,
  });
}

/** Resolves true after `ms`, or false at once when the request is aborted meanwhile. */
function sleep(ms: number, signal: Cancel): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    const t = setTimeout(() => {
      signal.off('abort', onAbort);
      resolve(true);
    }, ms);
    signal.once('abort', onAbort);
  });
}

/** No deployment answered: the client hears why, and the ledger line names the last one tried. */
function fail(deps: PipelineDeps, x: Exchange, failures: Failed[], attempts: number): Promise<void> {
  const last = failures[failures.length - 1];
  const error = clientError(x, failures);
  const group = last ? last.deployment.group : x.plan.group.name;
  const headers: Record<string, string> = {
    'x-request-id': x.id,
    'x-shepherd-model': group,
    'x-shepherd-attempts': String(attempts),
    'x-shepherd-strategy': x.plan.strategy,
    'x-shepherd-resolved': headerSafe(x.plan.resolved),
  };
  if (x.plan.auto) headers['x-shepherd-tier'] = x.plan.auto.tier;
  if (last) headers['x-shepherd-deployment'] = last.deployment.id;
  if (x.extraHeaders) Object.assign(headers, x.extraHeaders);
  const facts = { group, deployment: last?.deployment ?? null, attempts, status: error.status, endedAt: performance.now(), error: error.message };
  if (x.held) {
    x.held.failed(facts, error, headers);
    return Promise.resolve();
  }
  return finish(deps, x.id, x.arrival, facts, { kind: 'error', error, headers });
}

/**
 * What the client hears when no deployment answered: the upstream's own answer when one verdict
 * settles it (the request's own fault, or the only deployment there was), otherwise every deployment
 * of the plan with what happened to it, tried or left out.
 */
function clientError(x: Exchange, failures: Failed[]): HttpError {
  const notTried = skippedText(x);
  if (x.cancel.aborted) {
    const f = abortFailure(x.cancel);
    const tried = failures.length ? `; tried ${describeAll(failures)}` : '';
    return new HttpError(f.status, `${f.message}${f.status === 504 ? tried + notTried : ''}`, f.type === 'cancelled' ? 'invalid_request_error' : f.type, f.code ?? null);
  }
  const last = failures[failures.length - 1];
  if (!last) return new HttpError(503, `no deployment of "${x.plan.group.name}" could be tried${notTried}`, 'api_error', 'no_deployment');
  const retryAfter = (ms: number | undefined): Record<string, string> => (ms !== undefined ? { 'retry-after': String(Math.ceil(ms / 1000)) } : {});
  // The client's own mistake (400, 404, 422...): final, in the upstream's words.
  if (!last.failure.retryable && !isKeyRejection(last.failure)) {
    return new HttpError(last.failure.status, last.failure.message, last.failure.type, last.failure.code ?? null, null, retryAfter(last.failure.retryAfterMs));
  }
  const distinct = new Set(failures.map((f) => f.deployment.id));
  if (distinct.size === 1) {
    return new HttpError(
      last.failure.status,
      `${last.deployment.id}: ${last.failure.message}${notTried}`,
      last.failure.type,
      last.failure.code ?? null,
      null,
      retryAfter(last.failure.retryAfterMs),
    );
  }
  if (failures.every((f) => isKeyRejection(f.failure))) {
    return new HttpError(401, `every deployment of "${x.plan.group.name}" tried had its provider key rejected: ${describeAll(failures)}${notTried}`, 'authentication_error', 'upstream_key_rejected');
  }
  const allRateLimited = failures.every((f) => f.failure.status === 429);
  const waits = failures.map((f) => f.failure.retryAfterMs).filter((ms): ms is number => ms !== undefined);
  return new HttpError(
    allRateLimited ? 429 : 503,
    `all ${distinct.size} deployments of "${x.plan.group.name}"${x.plan.panic ? ' (every one ejected; tried anyway)' : ''} failed: ${describeAll(failures)}${notTried}`,
    allRateLimited ? 'rate_limit_error' : 'api_error',
    'all_deployments_failed',
    null,
    retryAfter(waits.length ? Math.min(...waits) : undefined),
  );
}

/** The plan's deployments that were left out, with why (no key, circuit open, rate limited, over budget). */
function skippedText(x: Exchange): string {
  const skipped = x.plan.skipped;
  if (skipped.length === 0) return '';
  return `; not tried: ${skipped.map((s) => `${s.deployment.id} (${s.reason})`).join('; ')}`;
}

/** Each deployment once, with its last failure and how many tries it had. */
function describeAll(failures: Failed[]): string {
  const byId = new Map<string, { failure: UpstreamFailure; tries: number }>();
  for (const f of failures) {
    const prev = byId.get(f.deployment.id);
    byId.set(f.deployment.id, { failure: f.failure, tries: (prev?.tries ?? 0) + 1 });
  }
  return [...byId]
    .map(([id, { failure, tries }]) => `${id} (${failure.kind === 'status' ? `HTTP ${failure.status}: ${failure.message}` : failure.message}${tries > 1 ? `; ${tries} tries` : ''})`)
    .join('; ');
}
