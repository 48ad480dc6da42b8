// Carries out a plan for one chat request. On a retryable failure it moves straight on to the next
// deployment (fast failover: nothing reached the client yet); a deployment may first be retried in
// place when retry.perDeployment asks for it. When the whole plan failed it waits (exponential
// backoff with full jitter, or the upstream's Retry-After) and makes another pass with a fresh plan,
// up to retry.rounds times. Everything is bounded by the request's deadline (upstream.totalMs).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Cancel } from '../core/cancel';
import type { ChatBody } from '../core/chat';
import type { UpstreamFailure } from '../core/failure';
import { backoff } from '../routing/backoff';
import type { Deployment } from '../routing/catalog';
import type { Plan } from '../routing/plan';
import { attempt } from './attempt';
import type { ClientFormat } from '../formats/client-format';
import { HttpError, sendError } from '../core/http-error';
import type { PipelineDeps } from './deps';
import { entryFor, record } from './ledger-line';
import { abortFailure } from '../core/abort';

export interface RequestInfo {
  id: string;
  receivedAt: number; // performance.now() when the request arrived
  body: ChatBody;
  plan: Plan;
  /** The wire format the client speaks (OpenAI, or Anthropic on /v1/messages). */
  client: ClientFormat;
  /** Which local API key the client presented (a label, never the key), when keys are in use. */
  clientKeyId?: string;
  /** Who is asking, when the client named itself (the ledger's `client`). */
  caller?: string;
  /** performance.now() by which the whole request must be done (upstream.totalMs after it arrived). */
  deadlineAt: number;
  /** A fresh plan for another pass (current health), or undefined when none can be made. */
  replan(): Plan | undefined;
}

interface Failed {
  deployment: Deployment;
  failure: UpstreamFailure;
}

export async function relayChat(
  deps: PipelineDeps,
  req: IncomingMessage,
  res: ServerResponse,
  info: RequestInfo,
  /** Aborted when the client goes away, at shutdown, or at the deadline (the caller's DeadlineAbort). */
  signal: Cancel,
): Promise<void> {
  const remaining = () => info.deadlineAt - performance.now();
  const retry = info.plan.group.retry;
  const failures: Failed[] = [];
  let attempts = 0;
  let plan = info.plan;
  for (let round = 0; ; round++) {
    const before = failures.length;
    for (const planned of plan.attempts) {
      const group = deps.current().catalog.groups.get(planned.group);
      const perDeployment = group?.retry.perDeployment ?? 0;
      for (let tryNo = 0; tryNo <= perDeployment && !signal.aborted; tryNo++) {
        const admission = deps.health.begin(planned.deployment.id, plan.estimatedTokens, planned.panic === true);
        if (!admission.ok) break; // e.g. a half-open circuit's trial slots are taken: next deployment
        attempts++;
        const result = await attempt({
          deps,
          res,
          info: plan === info.plan ? info : { ...info, plan },
          planned,
          attemptNo: attempts,
          trial: admission.trial,
          charged: admission.charged,
          signal,
          retryableStatuses: group?.retry.retryableStatuses,
        });
        if (result.kind === 'answered') return;
        failures.push({ deployment: result.deployment, failure: result.failure });
        logFailure(deps, info.id, result.deployment, result.failure);
        if (!result.failure.retryable || signal.aborted) return await finish(deps, req, res, info, failures, attempts, signal);
        if (tryNo === perDeployment) break;
        const wait = backoff(group?.retry ?? retry, tryNo, result.failure.retryAfterMs, Math.random);
        if (!wait.wait || wait.ms >= remaining() || !(await sleep(wait.ms, signal))) break;
      }
      if (signal.aborted) return await finish(deps, req, res, info, failures, attempts, signal);
    }
    if (round >= retry.rounds || failures.length === before) break;
    const waits = failures.slice(before).map((f) => f.failure.retryAfterMs).filter((ms): ms is number => ms !== undefined);
    const wait = backoff(retry, round, waits.length ? Math.min(...waits) : undefined, Math.random);
    if (!wait.wait || wait.ms >= remaining() || !(await sleep(wait.ms, signal))) break;
    const next = info.replan();
    if (!next) break;
    plan = next;
  }
  await finish(deps, req, res, info, failures, attempts, signal);
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

async function finish(
  deps: PipelineDeps,
  req: IncomingMessage,
  res: ServerResponse,
  info: RequestInfo,
  failures: Failed[],
  attempts: number,
  signal: Cancel,
): Promise<void> {
  const last = failures[failures.length - 1];
  const error = clientError(info, failures, signal);
  const now = performance.now();
  const group = last ? last.deployment.group : info.plan.group.name;
  await record(deps, {
    ...entryFor(info, group, last?.deployment ?? null, attempts, error.status, undefined, now, undefined),
    ok: false,
    error: error.message,
  });
  if (req.destroyed && res.destroyed) return;
  sendError(
    res,
    error,
    {
      'x-request-id': info.id,
      'x-shepherd-model': group,
      'x-shepherd-attempts': String(attempts),
      'x-shepherd-strategy': info.plan.strategy,
      ...(info.plan.auto ? { 'x-shepherd-tier': info.plan.auto.tier } : {}),
      ...(last ? { 'x-shepherd-deployment': last.deployment.id } : {}),
    },
    info.client.errorBody(error),
  );
}

/** What the client hears when no deployment answered. */
function clientError(info: RequestInfo, failures: Failed[], signal: Cancel): HttpError {
  if (signal.aborted) {
    const f = abortFailure(signal);
    const tried = failures.length ? `; tried ${describeAll(failures)}` : '';
    return new HttpError(f.status, `${f.message}${f.status === 504 ? tried : ''}`, f.type === 'cancelled' ? 'invalid_request_error' : f.type, f.code ?? null);
  }
  const last = failures[failures.length - 1];
  if (!last) return new HttpError(503, `no deployment of "${info.plan.group.name}" could be tried`, 'api_error', 'no_deployment');
  const distinct = new Set(failures.map((f) => f.deployment.id));
  if (!last.failure.retryable || distinct.size === 1) {
    // A final verdict (bad request, auth) or a single deployment: the client sees the upstream's own answer.
    const retry = last.failure.retryAfterMs;
    return new HttpError(
      last.failure.status,
      distinct.size === 1 && last.failure.retryable ? `${last.deployment.id}: ${last.failure.message}` : last.failure.message,
      last.failure.type,
      last.failure.code ?? null,
      null,
      retry !== undefined ? { 'retry-after': String(Math.ceil(retry / 1000)) } : {},
    );
  }
  const allRateLimited = failures.every((f) => f.failure.status === 429);
  const waits = failures.map((f) => f.failure.retryAfterMs).filter((ms): ms is number => ms !== undefined);
  const headers: Record<string, string> = waits.length ? { 'retry-after': String(Math.ceil(Math.min(...waits) / 1000)) } : {};
  return new HttpError(
    allRateLimited ? 429 : 503,
    `all ${distinct.size} deployments of "${info.plan.group.name}"${info.plan.panic ? ' (every one ejected; tried anyway)' : ''} failed: ${describeAll(failures)}`,
    allRateLimited ? 'rate_limit_error' : 'api_error',
    'all_deployments_failed',
    null,
    headers,
  );
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
