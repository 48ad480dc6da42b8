// One attempt: send the request to one deployment and, if it answers 2xx, relay the answer to the
// client (streamed chunk by chunk, or whole), writing the ledger line before the last byte. Health
// hears every outcome. A failure before any byte reached the client is returned to the caller, who
// may try elsewhere; after the first byte, a stream can only end with an error event.
import type { ServerResponse } from 'node:http';
import { createParser } from 'eventsource-parser';
import type { Cancel } from '../core/cancel';
import { adapterFor } from '../formats';
import type { ProviderAdapter } from '../formats/types';
import type { UpstreamFailure } from '../core/failure';
import type { Usage } from '../core/usage';
import { toUpstreamError, type UpstreamResponse, type UpstreamTimeouts } from '../upstream/pool';
import { upstreamTarget, type Deployment } from '../routing/catalog';
import type { PlannedAttempt } from '../routing/plan';
import type { ClientStreamEncoder } from '../formats/client-format';
import type { PipelineDeps } from './deps';
import { entryFor, record } from './ledger-line';
import type { RequestInfo } from './failover';
import { abortFailure, redact } from '../core/abort';
import { completionText, StreamedText, usageOrEstimate, type CountedUsage } from './usage-fallback';

const MAX_ERROR_BODY = 64 * 1024;

type Failed = { kind: 'failed'; failure: UpstreamFailure; deployment: Deployment };
export type AttemptResult = { kind: 'answered' } | Failed;

export interface AttemptInput {
  deps: PipelineDeps;
  res: ServerResponse;
  info: RequestInfo;
  planned: PlannedAttempt;
  attemptNo: number;
  /** This attempt is a half-open circuit's trial request. */
  trial: boolean;
  /** Tokens charged to the deployment's tpm bucket for this attempt (0 without a tpm limit). */
  charged: number;
  signal: Cancel;
  /** Upstream statuses the deployment's group treats as retryable, when configured. */
  retryableStatuses: readonly number[] | undefined;
}

export async function attempt(input: AttemptInput): Promise<AttemptResult> {
  const { deps, info, planned, trial, signal } = input;
  const deployment = planned.deployment;
  const adapter = adapterFor(deployment.provider.type);
  const target = upstreamTarget(deployment);
  const startedAt = performance.now();
  let settled = false;
  const fail = (raw: UpstreamFailure): Failed => {
    const failure = reclassify(redact(raw, deployment.apiKey), input.retryableStatuses);
    if (!settled) {
      settled = true;
      if (signal.aborted) deps.health.abandon(deployment.id, trial);
      else deps.health.failure(deployment.id, trial, failure);
    }
    return { kind: 'failed', failure, deployment };
  };

  let upstream: UpstreamResponse;
  try {
    upstream = await deps.upstreams.send(target, adapter.chatRequest(target, info.body), timeoutsFor(deps, deployment, info), signal);
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
    const tokens = input.charged > 0 && usage ? { charged: input.charged, actual: usage.promptTokens + usage.completionTokens } : undefined;
    deps.health.success(deployment.id, trial, ttfbMs, tokens);
  };
  // The input is kept as one field rather than spread into a new object: V8 builds an object that is
  // spread and then extended slowly (microseconds), and this runs for every request.
  const ctx: Relay = { input, adapter, upstream, fail, succeed };
  return info.body.stream === true ? relayStream(ctx) : relayWhole(ctx);
}

/** An attempt whose upstream answered 2xx: everything needed to relay its body. */
interface Relay {
  input: AttemptInput;
  adapter: ProviderAdapter;
  upstream: UpstreamResponse;
  /** Reports the failure to health (once) and returns it, redacted and with the group's verdict. */
  fail: (f: UpstreamFailure) => Failed;
  succeed: (usage: Usage | undefined) => void;
}

async function relayWhole(ctx: Relay): Promise<AttemptResult> {
  const { adapter, upstream, fail, succeed } = ctx;
  const { deps, res, info, planned, attemptNo, signal } = ctx.input;
  let parsed: { body: string; usage: Usage | undefined };
  try {
    parsed = adapter.parseChatResponse(await upstream.body.text());
  } catch (err) {
    if (err instanceof SyntaxError) {
      return fail({ kind: 'protocol', status: 502, retryable: true, message: 'upstream answered with invalid JSON', type: 'upstream_error' });
    }
    return fail(toUpstreamError(err, signal).failure);
  }
  const now = performance.now();
  succeed(parsed.usage);
  const counted = usageOrEstimate(info.body, parsed.usage, () => completionText(parsed.body));
  await record(deps, entryFor(info, planned.group, planned.deployment, attemptNo, 200, counted, now, now));
  const body = info.client.wholeBody(parsed.body);
  const headers = shepherdHeaders(info, planned, attemptNo);
  headers['content-type'] = 'application/json';
  headers['content-length'] = String(Buffer.byteLength(body));
  res.writeHead(200, headers);
  res.end(body);
  return { kind: 'answered' };
}

async function relayStream(ctx: Relay): Promise<AttemptResult> {
  const { adapter, upstream, fail, succeed } = ctx;
  const { deps, res, info, planned, attemptNo, signal } = ctx.input;
  const translator = adapter.streamTranslator({ clientWantsUsage: info.body.stream_options?.include_usage === true });
  const encoder = info.client.streamEncoder();
  // The text the client was sent, kept only to count tokens if the upstream reports none.
  const sent = new StreamedText();
  let pending = '';
  const parser = createParser({
    onEvent: (event) => {
      for (const frame of translator.push({ event: event.event, data: event.data })) pending += frame;
    },
  });
  let firstByteAt: number | undefined;
  const startClientStream = () => {
    firstByteAt = performance.now();
    const headers = shepherdHeaders(info, planned, attemptNo);
    headers['content-type'] = 'text/event-stream; charset=utf-8';
    headers['cache-control'] = 'no-cache';
    headers.connection = 'keep-alive';
    res.writeHead(200, headers);
    // No flushHeaders(): the headers leave with the first frame, in one packet rather than two.
  };

  try {
    // A streaming decoder keeps a multi-byte character split across chunks intact.
    const decoder = new TextDecoder();
    for await (const chunk of upstream.body as AsyncIterable<Uint8Array>) {
      parser.feed(decoder.decode(chunk, { stream: true }));
      if (pending === '') continue;
      if (firstByteAt === undefined) startClientStream();
      sent.add(pending);
      const out = encoder.push(pending);
      pending = '';
      if (!res.write(out)) await drained(res);
      if (signal.aborted) break;
    }
  } catch (err) {
    const failure = toUpstreamError(err, signal).failure;
    // Before the first byte the client has seen nothing: another deployment may still answer (or,
    // when cancelled, the client gets a plain error response).
    if (firstByteAt === undefined) return fail(failure);
    return endStreamWithError(ctx, encoder, usageOrEstimate(info.body, translator.usage(), () => sent.text()), firstByteAt, failure);
  }
  if (signal.aborted) {
    if (firstByteAt === undefined) return fail(abortFailure(signal));
    return endStreamWithError(ctx, encoder, usageOrEstimate(info.body, translator.usage(), () => sent.text()), firstByteAt, abortFailure(signal));
  }
  if (firstByteAt === undefined && !translator.done()) {
    // Not one event (an upstream that ignored `stream` and sent JSON, say): not an answer, so try elsewhere.
    return fail({ kind: 'protocol', status: 502, retryable: true, message: 'upstream ended the stream without sending any event', type: 'upstream_error' });
  }
  if (firstByteAt === undefined) startClientStream();
  const now = performance.now();
  succeed(translator.usage());
  const last = pending + translator.end().join('');
  sent.add(last);
  const counted = usageOrEstimate(info.body, translator.usage(), () => sent.text());
  await record(deps, entryFor(info, planned.group, planned.deployment, attemptNo, 200, counted, now, firstByteAt ?? now));
  res.end(encoder.end(last));
  return { kind: 'answered' };
}

/** After bytes reached the client a stream cannot fail over: close it with an error event and [DONE]. */
async function endStreamWithError(
  ctx: Relay,
  encoder: ClientStreamEncoder,
  counted: CountedUsage,
  firstByteAt: number,
  raw: UpstreamFailure,
): Promise<AttemptResult> {
  const { deps, res, info, planned, attemptNo, signal } = ctx.input;
  const { failure } = ctx.fail(raw);
  const now = performance.now();
  const status = signal.aborted ? abortFailure(signal).status : failure.status;
  await record(deps, { ...entryFor(info, planned.group, planned.deployment, attemptNo, status, counted, now, firstByteAt), ok: false, error: failure.message });
  if (!res.destroyed) res.end(encoder.error(`stream interrupted: ${failure.message}`, failure.type, failure.code ?? null));
  return { kind: 'answered' };
}

export function shepherdHeaders(info: RequestInfo, planned: PlannedAttempt, attemptNo: number): Record<string, string> {
  const headers: Record<string, string> = {
    'x-request-id': info.id,
    'x-shepherd-model': planned.group,
    'x-shepherd-deployment': planned.deployment.id,
    'x-shepherd-attempts': String(attemptNo),
    'x-shepherd-strategy': info.plan.strategy,
    'x-shepherd-route': headerSafe(planned.reason),
  };
  if (info.plan.auto) headers['x-shepherd-tier'] = info.plan.auto.tier;
  if (planned.deployment.sandbox) headers['x-shepherd-sandbox'] = 'true';
  return headers;
}

/** Header values must be printable ASCII on one line. */
export function headerSafe(text: string): string {
  const clipped = text.length > 200 ? text.slice(0, 200) : text;
  return UNSAFE_HEADER_CHAR.test(clipped) ? clipped.replace(UNSAFE_HEADER_CHARS, '?') : clipped;
}
const UNSAFE_HEADER_CHAR = /[^\x20-\x7e]/;
const UNSAFE_HEADER_CHARS = /[^\x20-\x7e]/g;

function timeoutsFor(deps: PipelineDeps, deployment: Deployment, info: RequestInfo): UpstreamTimeouts {
  const d = deps.current().config.upstream;
  const p = deployment.provider.timeouts;
  let firstByteMs = p?.firstByteMs ?? d.firstByteMs;
  if (info.body.stream !== true) {
    // Without streaming the whole answer is generated before the headers: allow for its size.
    const max = info.body.max_completion_tokens ?? info.body.max_tokens;
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

/** Waits until the client can take more, or has gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
