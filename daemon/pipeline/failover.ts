// Carries out a plan for one chat request. On a retryable failure it moves straight on to the next
// deployment (fast failover: nothing reached the client yet); a deployment may first be retried in
// place when retry.perDeployment asks for it. When the whole plan failed it waits (exponential
// backoff with full jitter, or the upstream's Retry-After) and makes another pass with a fresh plan,
// up to retry.rounds times. Everything is bounded by the request's deadline (upstream.totalMs).
import { abortFailure } from '../core/abort';
import type { Cancel } from '../core/cancel';
import { isKeyRejection, type UpstreamFailure } from '../core/failure';
import { HttpError } from '../core/http-error';
import { backoff } from '../routing/backoff';
import type { Deployment } from '../routing/catalog';
import { attempt } from './attempt';
import type { PipelineDeps } from './deps';
import type { Exchange } from './exchange';
import { finish } from './finish';

interface Failed {
  deployment: Deployment;
  failure: UpstreamFailure;
}

export async function failover(deps: PipelineDeps, x: Exchange): Promise<void> {
  const signal = x.cancel;
  const remaining = () => x.deadlineAt - performance.now();
  const retry = x.plan.group.retry;
  const groups = x.arrival.state.catalog.groups;
  const failures: Failed[] = [];
  let attempts = 0;
  let plan = x.plan;
  for (let round = 0; ; round++) {
    const before = failures.length;
    for (const planned of plan.attempts) {
      const groupRetry = groups.get(planned.group)?.retry ?? retry;
      for (let tryNo = 0; tryNo <= groupRetry.perDeployment && !signal.aborted; tryNo++) {
        const result = await attempt({ deps, x, plan, planned, attemptNo: attempts + 1, retryableStatuses: groupRetry.retryableStatuses });
        if (result.kind === 'skipped') break; // e.g. a half-open circuit's trial slots are taken: next deployment
        attempts++;
        if (result.kind === 'answered') return;
        failures.push({ deployment: result.deployment, failure: result.failure });
        logFailure(deps, x.id, result.deployment, result.failure);
        // A rejected key says nothing about the request: the next deployment may serve it (no retry here).
        if (isKeyRejection(result.failure)) break;
        if (!result.failure.retryable || signal.aborted) return fail(deps, x, failures, attempts);
        if (tryNo === groupRetry.perDeployment) break;
        const wait = backoff(groupRetry, tryNo, result.failure.retryAfterMs, Math.random);
        if (!wait.wait || wait.ms >= remaining() || !(await sleep(wait.ms, signal))) break;
      }
      if (signal.aborted) return fail(deps, x, failures, attempts);
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
  };
  if (x.plan.auto) headers['x-shepherd-tier'] = x.plan.auto.tier;
  if (last) headers['x-shepherd-deployment'] = last.deployment.id;
  const facts = { group, deployment: last?.deployment ?? null, attempts, status: error.status, endedAt: performance.now(), error: error.message };
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
