// One attempt: admit it with the deployment's health (circuit, rate limits), send the request, and on
// a 2xx relay the answer to the client (relay.ts). Health hears the attempt's begin and its outcome
// here, once each. A failure before any byte reached the client is returned to failover, which may try
// elsewhere; after the first byte, a stream can only end with an error event.
import type { UpstreamFailure } from '../core/failure';
import type { Usage } from '../core/usage';
import { adapterFor } from '../formats';
import { buildChatRequest } from '../formats/build-request';
import { upstreamTarget, type Deployment } from '../routing/catalog';
import type { Plan, PlannedAttempt } from '../routing/plan';
import { toUpstreamError, type UpstreamResponse, type UpstreamTimeouts } from '../upstream/pool';
import { cleanFailure } from './clean-failure';
import type { PipelineDeps } from './deps';
import type { Exchange } from './exchange';
import { relayStream, relayWhole, type Relay } from './relay';

const MAX_ERROR_BODY = 64 * 1024;

export type Failed = { kind: 'failed'; failure: UpstreamFailure; deployment: Deployment };
export type AttemptResult = { kind: 'answered' } | { kind: 'skipped' } | Failed;

export interface AttemptInput {
  deps: PipelineDeps;
  x: Exchange;
  /** The plan this attempt belongs to (a later pass has a fresh one). */
  plan: Plan;
  planned: PlannedAttempt;
  attemptNo: number;
  /** Upstream statuses the deployment's group treats as retryable, when configured. */
  retryableStatuses: readonly number[] | undefined;
}

export async function attempt(input: AttemptInput): Promise<AttemptResult> {
  const { deps, x, plan, planned } = input;
  const deployment = planned.deployment;
  const adapter = adapterFor(deployment.provider.type);
  const target = upstreamTarget(deployment);
  // Built before admission: a request that cannot be built is the client's error, never a health event.
  const built = buildChatRequest(adapter, target, x.arrival.body);
  if (!built.ok) return { kind: 'failed', failure: built.failure, deployment };
  const admission = deps.health.begin(deployment.id, plan.estimatedTokens, planned.panic === true);
  if (!admission.ok) return { kind: 'skipped' };
  const { trial, charged } = admission;
  const signal = x.cancel;
  const startedAt = performance.now();
  let settled = false;
  const fail = (raw: UpstreamFailure): Failed => {
    const failure = reclassify(cleanFailure(raw, deployment, x.arrival.body), input.retryableStatuses);
    if (!settled) {
      settled = true;
      if (signal.aborted) deps.health.abandon(deployment.id, trial);
      else deps.health.failure(deployment.id, trial, failure);
    }
    return { kind: 'failed', failure, deployment };
  };

  let upstream: UpstreamResponse;
  try {
    upstream = await deps.upstreams.send(target, built.request, timeoutsFor(x, deployment), signal);
  } catch (err) {
    return fail(toUpstreamError(err, signal).failure);
  }
  const ttfbMs = performance.now() - startedAt;
  if (upstream.status < 200 || upstream.status >= 300) {
    const text = await readBounded(upstream, MAX_ERROR_BODY).catch(() => '');
    return fail(adapter.classifyStatus(upstream.status, upstream.headers, text));
  }
  const succeed = (usage: Usage | undefined) => {
    settled = true;
    const tokens = charged > 0 && usage ? { charged, actual: usage.promptTokens + usage.completionTokens } : undefined;
    deps.health.success(deployment.id, trial, ttfbMs, tokens);
  };
  // The input is kept as one field rather than spread into a new object: V8 builds an object that is
  // spread and then extended slowly (microseconds), and this runs for every request.
  const relay: Relay = { deps, x, plan, planned, attemptNo: input.attemptNo, adapter, upstream, fail, succeed };
  return x.arrival.body.stream === true ? relayStream(relay) : relayWhole(relay);
}

function timeoutsFor(x: Exchange, deployment: Deployment): UpstreamTimeouts {
  const d = x.arrival.state.config.upstream;
  const p = deployment.provider.timeouts;
  const body = x.arrival.body;
  let firstByteMs = p?.firstByteMs ?? d.firstByteMs;
  if (body.stream !== true) {
    // Without streaming the whole answer is generated before the headers: allow for its size.
    const max = body.max_completion_tokens ?? body.max_tokens;
    if (typeof max === 'number' && Number.isFinite(max) && max > 0) firstByteMs += Math.round(max * d.firstBytePerTokenMs);
  }
  return { connectMs: p?.connectMs ?? d.connectMs, firstByteMs, idleMs: p?.idleMs ?? d.idleMs };
}

/** A group's retryableStatuses, when set, overrides the adapter's verdict on an HTTP status. */
function reclassify(failure: UpstreamFailure, statuses: readonly number[] | undefined): UpstreamFailure {
  if (!statuses || failure.kind !== 'status') return failure;
  const retryable = statuses.includes(failure.status);
  return retryable === failure.retryable ? failure : { ...failure, retryable };
}

async function readBounded(upstream: UpstreamResponse, limit: number): Promise<string> {
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of upstream.body as AsyncIterable<Uint8Array>) {
    text += decoder.decode(chunk, { stream: true });
    if (text.length >= limit) {
      upstream.body.destroy();
      break;
    }
  }
  return text.slice(0, limit);
}
