// One attempt: admit it with the deployment's health (circuit, rate limits), send the request, and on
// a 2xx relay the answer to the client (relay.ts). Health hears the attempt's begin and its outcome
// here, once each. A failure before any byte reached the client is returned to failover, which may try
// elsewhere; after the first byte, a stream can only end with an error event.
import { HedgeLost } from '../core/abort';
import type { Cancel } from '../core/cancel';
import type { UpstreamFailure } from '../core/failure';
import type { Usage } from '../core/usage';
import { adapterFor } from '../formats';
import { buildRequestFor } from '../formats/build-request';
import { upstreamTarget, type Deployment } from '../routing/catalog';
import type { Plan, PlannedAttempt } from '../routing/plan';
import { firstByteDeadline, type RequestKind } from '../routing/timing';
import { toUpstreamError, type UpstreamResponse, type UpstreamTimeouts } from '../upstream/pool';
import { cleanFailure } from './clean-failure';
import type { PipelineDeps } from './deps';
import type { Exchange } from './exchange';
import { relayStream, relayWhole, type Relay } from './relay';
import { buildNativeRequest, nativeFor, relayNativeStream, relayNativeWhole } from './relay-native';

const MAX_ERROR_BODY = 64 * 1024;

/** `unsent`: the request could not even be built for this deployment; nothing reached the upstream. */
export type Failed = { kind: 'failed'; failure: UpstreamFailure; deployment: Deployment; unsent?: true };
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
  /** This attempt's own cancel: the request's, or a child of it when the attempt is one of a hedged pair. */
  signal: Cancel;
  /** Called before the first byte goes to the client; false means the other attempt of a hedged pair won. */
  claim(): boolean;
  /**
   * Of a hedged pair: how long without response headers counts as slow, should the other attempt win
   * (a health failure rather than a mere cancellation).
   */
  slowAfterMs?: number;
}

export async function attempt(input: AttemptInput): Promise<AttemptResult> {
  const { deps, x, plan, planned } = input;
  const deployment = planned.deployment;
  const adapter = adapterFor(deployment.provider.type);
  const target = upstreamTarget(deployment);
  // Built before admission: a request that cannot be built is the client's error, never a health event.
  // A deployment that speaks the client's own format gets the client's body (relay-native.ts).
  // A held cascade step is read by its checks in the OpenAI shape: it takes the translated path.
  const native = x.held ? undefined : nativeFor(adapter, x, target);
  const built = native ? buildNativeRequest(native, target) : buildRequestFor(adapter, target, x.arrival.operation ?? 'chat', x.arrival.body, x.arrival.payload);
  if (!built.ok) return { kind: 'failed', failure: built.failure, deployment, unsent: true };
  const admission = deps.health.begin(deployment.id, plan.estimatedTokens, planned.panic === true);
  if (!admission.ok) return { kind: 'skipped' };
  const { trial, charged } = admission;
  // Team mode: the provider's limits are the team's, counted in Redis. Only then may there be an await here.
  if (deps.sharedLimits !== undefined && (deployment.rpm !== undefined || deployment.tpm !== undefined)) {
    const taken = deps.sharedLimits.take(deployment, plan.estimatedTokens);
    const waitMs = typeof taken === 'number' ? taken : await taken;
    if (waitMs > 0) {
      deps.health.abandon(deployment.id, trial);
      deps.health.holdFor(deployment.id, waitMs);
      return { kind: 'skipped' };
    }
  }
  const signal = input.signal;
  const kind: RequestKind = x.arrival.body.stream === true ? 'stream' : 'whole';
  const startedAt = performance.now();
  let settled = false;
  let headersAt: number | undefined = undefined; // set when the upstream's response headers arrive
  const fail = (raw: UpstreamFailure): Failed => {
    const failure = reclassify(cleanFailure(raw, deployment, x.arrival.body), input.retryableStatuses);
    if (!settled) {
      settled = true;
      if (!signal.aborted) deps.health.failure(deployment.id, trial, failure);
      else if (isSlowLoser(signal, headersAt, startedAt, input.slowAfterMs)) deps.health.failure(deployment.id, trial, slowFailure(input.slowAfterMs ?? 0));
      else deps.health.abandon(deployment.id, trial);
    }
    return { kind: 'failed', failure, deployment };
  };

  let upstream: UpstreamResponse;
  try {
    upstream = await deps.upstreams.send(target, built.request, timeoutsFor(deps, x, deployment, kind), signal);
  } catch (err) {
    return fail(toUpstreamError(err, signal).failure);
  }
  headersAt = performance.now();
  const ttfbMs = headersAt - startedAt;
  if (upstream.status < 200 || upstream.status >= 300) {
    const text = await readBounded(upstream, MAX_ERROR_BODY).catch(() => '');
    return fail(adapter.classifyStatus(upstream.status, upstream.headers, text));
  }
  const succeed = (usage: Usage | undefined) => {
    settled = true;
    const tokens = charged > 0 && usage ? { charged, actual: usage.promptTokens + usage.completionTokens } : undefined;
    deps.health.success(deployment.id, trial, ttfbMs, tokens, kind);
  };
  // The input is kept as one field rather than spread into a new object: V8 builds an object that is
  // spread and then extended slowly (microseconds), and this runs for every request.
  const relay: Relay = { deps, x, plan, planned, attemptNo: input.attemptNo, adapter, upstream, fail, succeed, signal, claim: input.claim };
  if (native) return x.arrival.body.stream === true ? relayNativeStream(relay, native) : relayNativeWhole(relay, native);
  return x.arrival.body.stream === true ? relayStream(relay) : relayWhole(relay);
}

/**
 * The attempt's timeouts. A stream's first byte (its response headers) comes early whatever the
 * answer's length, so its deadline adapts to what the deployment usually takes (routing/timing.ts),
 * with the configured value as the ceiling. A whole answer's first byte comes after all of it.
 */
function timeoutsFor(deps: PipelineDeps, x: Exchange, deployment: Deployment, kind: RequestKind): UpstreamTimeouts {
  const d = x.arrival.state.config.upstream;
  const p = deployment.provider.timeouts;
  const body = x.arrival.body;
  let firstByteMs = p?.firstByteMs ?? d.firstByteMs;
  if (kind === 'stream') {
    firstByteMs = firstByteDeadline(deps.health.firstByteFigures(deployment.id, kind), x.arrival.state.catalog.routing.firstByte, firstByteMs);
  } else {
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

/** A hedged attempt that lost without even sending its response headers, after waiting past its norm. */
function isSlowLoser(signal: Cancel, headersAt: number | undefined, startedAt: number, slowAfterMs: number | undefined): boolean {
  return signal.reason instanceof HedgeLost && headersAt === undefined && slowAfterMs !== undefined && performance.now() - startedAt >= slowAfterMs;
}

function slowFailure(afterMs: number): UpstreamFailure {
  return {
    kind: 'timeout',
    class: 'outage',
    status: 504,
    retryable: true,
    message: `no response headers within ${afterMs} ms, far slower than usual, while another deployment answered`,
    type: 'upstream_error',
    code: 'slow_first_byte',
  };
}
