// Carries out a plan for one chat request: tries its deployments in order, moves on after a
// retryable failure as long as nothing has reached the client, relays the answer (streamed chunk by
// chunk or whole), and writes the ledger line before the response's last byte.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createParser } from 'eventsource-parser';
import type { LedgerEntry } from '../../shared/ledger';
import { adapterFor } from '../providers';
import type { ChatBody, ProviderAdapter, UpstreamFailure, UpstreamTarget, Usage } from '../providers/types';
import { toUpstreamError, type UpstreamResponse, type UpstreamTimeouts } from '../providers/upstream';
import type { Deployment } from '../routing/catalog';
import type { Plan } from '../routing/plan';
import { costUsd } from '../spend/cost';
import type { ClientFormat, ClientStreamEncoder } from './client-format';
import { HttpError, sendError } from './errors';
import type { GatewayDeps } from './gateway';

const MAX_ERROR_BODY = 64 * 1024;

/** The abort reason when the daemon itself ends requests because it is shutting down. */
export class ShutdownAbort extends Error {}

export interface RequestInfo {
  id: string;
  receivedAt: number; // performance.now() when the request arrived
  body: ChatBody;
  plan: Plan;
  /** The wire format the client speaks (OpenAI, or Anthropic on /v1/messages). */
  client: ClientFormat;
  /** Which local API key the client presented (a label, never the key), when keys are in use. */
  clientKeyId?: string;
}

type AttemptResult =
  | { kind: 'answered' }
  | { kind: 'failed'; failure: UpstreamFailure; deployment: Deployment };

export async function relayChat(
  deps: GatewayDeps,
  req: IncomingMessage,
  res: ServerResponse,
  info: RequestInfo,
  signal: AbortSignal,
): Promise<void> {
  const failures: { deployment: Deployment; failure: UpstreamFailure }[] = [];
  let attempts = 0;
  for (const { deployment } of info.plan.attempts) {
    if (signal.aborted) break;
    attempts++;
    const result = await attempt(deps, res, info, deployment, attempts, signal);
    if (result.kind === 'answered') return;
    failures.push({ deployment: result.deployment, failure: result.failure });
    deps.log.warn('upstream attempt failed', {
      request: info.id,
      deployment: deployment.id,
      status: result.failure.status,
      kind: result.failure.kind,
      error: result.failure.message,
    });
    if (!result.failure.retryable) break;
  }
  await finishWithFailure(deps, req, res, info, failures, attempts, signal);
}

async function attempt(
  deps: GatewayDeps,
  res: ServerResponse,
  info: RequestInfo,
  deployment: Deployment,
  attemptNo: number,
  signal: AbortSignal,
): Promise<AttemptResult> {
  const adapter = adapterFor(deployment.provider.type);
  const target: UpstreamTarget = {
    deploymentId: deployment.id,
    providerName: deployment.providerName,
    provider: deployment.provider,
    upstreamModel: deployment.upstreamModel,
    apiKey: deployment.apiKey,
  };
  const startedAt = performance.now();
  const fail = (failure: UpstreamFailure): AttemptResult => {
    const safe = redact(failure, deployment.apiKey);
    if (!signal.aborted) deps.status.recordFailure(deployment.id, safe.message, new Date());
    return { kind: 'failed', failure: safe, deployment };
  };

  let upstream: UpstreamResponse;
  try {
    upstream = await deps.upstreams.send(target, adapter.chatRequest(target, info.body), timeoutsFor(deps, deployment), signal);
  } catch (err) {
    return fail(toUpstreamError(err, signal).failure);
  }
  if (upstream.status < 200 || upstream.status >= 300) {
    const text = await readBounded(upstream, MAX_ERROR_BODY).catch(() => '');
    return fail(adapter.classifyStatus(upstream.status, upstream.headers, text));
  }
  const ctx: Attempt = { deps, res, info, deployment, adapter, upstream, attemptNo, startedAt, signal, fail };
  return info.body.stream === true ? relayStream(ctx) : relayWhole(ctx);
}

/** One attempt whose upstream answered 2xx: everything needed to relay its body. */
interface Attempt {
  deps: GatewayDeps;
  res: ServerResponse;
  info: RequestInfo;
  deployment: Deployment;
  adapter: ProviderAdapter;
  upstream: UpstreamResponse;
  attemptNo: number;
  startedAt: number;
  signal: AbortSignal;
  fail: (f: UpstreamFailure) => AttemptResult;
}

async function relayWhole(ctx: Attempt): Promise<AttemptResult> {
  const { deps, res, info, deployment, adapter, upstream, attemptNo, startedAt, signal, fail } = ctx;
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
  deps.status.recordSuccess(deployment.id, now - startedAt, new Date());
  await record(deps, entryFor(info, info.plan.group.name, deployment, attemptNo, 200, parsed.usage, now, now));
  const body = info.client.wholeBody(parsed.body);
  res.writeHead(200, { ...shepherdHeaders(info, deployment, attemptNo), 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
  return { kind: 'answered' };
}

async function relayStream(ctx: Attempt): Promise<AttemptResult> {
  const { deps, res, info, deployment, adapter, upstream, attemptNo, startedAt, signal, fail } = ctx;
  const translator = adapter.streamTranslator({ clientWantsUsage: info.body.stream_options?.include_usage === true });
  const encoder = info.client.streamEncoder();
  let pending = '';
  const parser = createParser({
    onEvent: (event) => {
      for (const frame of translator.push({ event: event.event, data: event.data })) pending += frame;
    },
  });
  let firstByteAt: number | undefined;
  const startClientStream = () => {
    firstByteAt = performance.now();
    res.writeHead(200, {
      ...shepherdHeaders(info, deployment, attemptNo),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    // No flushHeaders(): the headers leave with the first frame, in one packet rather than two.
  };

  try {
    // A streaming decoder keeps a multi-byte character split across chunks intact.
    const decoder = new TextDecoder();
    for await (const chunk of upstream.body as AsyncIterable<Uint8Array>) {
      parser.feed(decoder.decode(chunk, { stream: true }));
      if (pending === '') continue;
      if (firstByteAt === undefined) startClientStream();
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
    return endStreamWithError(ctx, encoder, translator.usage(), firstByteAt, redact(failure, deployment.apiKey));
  }
  if (signal.aborted) {
    if (firstByteAt === undefined) return fail(cancelledFailure(signal));
    return endStreamWithError(ctx, encoder, translator.usage(), firstByteAt, cancelledFailure(signal));
  }
  if (firstByteAt === undefined && !translator.done()) {
    // Not one event (an upstream that ignored `stream` and sent JSON, say): not an answer, so try elsewhere.
    return fail({ kind: 'protocol', status: 502, retryable: true, message: 'upstream ended the stream without sending any event', type: 'upstream_error' });
  }
  if (firstByteAt === undefined) startClientStream();
  const now = performance.now();
  deps.status.recordSuccess(deployment.id, now - startedAt, new Date());
  await record(deps, entryFor(info, info.plan.group.name, deployment, attemptNo, 200, translator.usage(), now, firstByteAt ?? now));
  res.end(encoder.end(pending + translator.end().join('')));
  return { kind: 'answered' };
}

/** After bytes reached the client a stream cannot fail over: close it with an error event and [DONE]. */
async function endStreamWithError(
  ctx: Attempt,
  encoder: ClientStreamEncoder,
  usage: Usage | undefined,
  firstByteAt: number | undefined,
  failure: UpstreamFailure,
): Promise<AttemptResult> {
  const { deps, res, info, deployment, attemptNo, signal } = ctx;
  if (!signal.aborted) {
    deps.status.recordFailure(deployment.id, failure.message, new Date());
  }
  const now = performance.now();
  const status = signal.aborted && !(signal.reason instanceof ShutdownAbort) ? 499 : failure.status;
  await record(deps, { ...entryFor(info, info.plan.group.name, deployment, attemptNo, status, usage, now, firstByteAt ?? now), ok: false, error: failure.message });
  if (!res.destroyed) {
    res.end(encoder.error(`stream interrupted: ${failure.message}`, failure.type, failure.code ?? null));
  }
  return { kind: 'answered' };
}

async function finishWithFailure(
  deps: GatewayDeps,
  req: IncomingMessage,
  res: ServerResponse,
  info: RequestInfo,
  failures: { deployment: Deployment; failure: UpstreamFailure }[],
  attempts: number,
  signal: AbortSignal,
): Promise<void> {
  const last = failures[failures.length - 1];
  const error = clientError(info, failures, signal);
  const now = performance.now();
  const entry: LedgerEntry = {
    ...entryFor(info, info.plan.group.name, last?.deployment ?? null, attempts, error.status, undefined, now, undefined),
    ok: false,
    error: error.message,
  };
  await record(deps, entry);
  if (req.destroyed && res.destroyed) return;
  sendError(
    res,
    error,
    {
      'x-request-id': info.id,
      'x-shepherd-model': info.plan.group.name,
      'x-shepherd-attempts': String(attempts),
      ...(last ? { 'x-shepherd-deployment': last.deployment.id } : {}),
    },
    info.client.errorBody(error),
  );
}

/** What the client hears when no deployment answered. */
function clientError(
  info: RequestInfo,
  failures: { deployment: Deployment; failure: UpstreamFailure }[],
  signal: AbortSignal,
): HttpError {
  if (signal.aborted) {
    return signal.reason instanceof ShutdownAbort
      ? new HttpError(503, 'Shepherd is shutting down; the request was not completed', 'api_error', 'shutting_down')
      : new HttpError(499, 'client closed the request', 'invalid_request_error', 'client_closed');
  }
  const last = failures[failures.length - 1];
  if (!last) return new HttpError(503, `no deployment of "${info.plan.group.name}" could be tried`, 'api_error', 'no_deployment');
  if (!last.failure.retryable || failures.length === 1) {
    // A final verdict (bad request, auth) or a single deployment: the client sees the upstream's own answer.
    const retry = last.failure.retryAfterMs;
    return new HttpError(
      last.failure.status,
      failures.length === 1 && last.failure.retryable
        ? `${last.deployment.id}: ${last.failure.message}`
        : last.failure.message,
      last.failure.type,
      last.failure.code ?? null,
      null,
      retry !== undefined ? { 'retry-after': String(Math.ceil(retry / 1000)) } : {},
    );
  }
  const tried = failures.map((f) => `${f.deployment.id} (${describe(f.failure)})`).join('; ');
  const allRateLimited = failures.every((f) => f.failure.status === 429);
  const waits = failures.map((f) => f.failure.retryAfterMs).filter((ms): ms is number => ms !== undefined);
  const headers: Record<string, string> = waits.length ? { 'retry-after': String(Math.ceil(Math.min(...waits) / 1000)) } : {};
  return new HttpError(
    allRateLimited ? 429 : 503,
    `all ${failures.length} deployments of "${info.plan.group.name}" failed: ${tried}`,
    allRateLimited ? 'rate_limit_error' : 'api_error',
    'all_deployments_failed',
    null,
    headers,
  );
}

function describe(f: UpstreamFailure): string {
  return f.kind === 'status' ? `HTTP ${f.status}: ${f.message}` : f.message;
}

function entryFor(
  info: Pick<RequestInfo, 'id' | 'receivedAt' | 'body' | 'clientKeyId'>,
  group: string | null,
  deployment: Deployment | null,
  attempts: number,
  status: number,
  usage: Usage | undefined,
  endedAt: number,
  firstTokenAt: number | undefined,
): LedgerEntry {
  return {
    id: info.id,
    time: new Date().toISOString(),
    requestedModel: info.body.model,
    model: group,
    servedModel: deployment?.upstreamModel ?? null,
    deployment: deployment?.id ?? null,
    provider: deployment?.providerName ?? null,
    attempts,
    status,
    ok: status >= 200 && status < 300,
    stream: info.body.stream === true,
    promptTokens: usage?.promptTokens ?? 0,
    completionTokens: usage?.completionTokens ?? 0,
    ...(usage?.cachedTokens ? { cachedTokens: usage.cachedTokens } : {}),
    usageSource: usage ? 'upstream' : 'none',
    costUsd: usage && deployment ? costUsd(usage, deployment.price) : 0,
    latencyMs: round1(endedAt - info.receivedAt),
    ...(firstTokenAt !== undefined ? { ttftMs: round1(firstTokenAt - info.receivedAt) } : {}),
    ...(deployment?.sandbox ? { sandbox: true } : {}),
    ...(info.clientKeyId ? { key: info.clientKeyId } : {}),
  };
}

/** A request refused before any attempt (unknown model, no usable deployment) is still a ledger line. */
export async function recordRefusal(
  deps: GatewayDeps,
  request: Pick<RequestInfo, 'id' | 'receivedAt' | 'body' | 'clientKeyId'>,
  group: string | null,
  error: HttpError,
): Promise<void> {
  await record(deps, { ...entryFor(request, group, null, 0, error.status, undefined, performance.now(), undefined), error: error.message });
}

/** The ledger line is awaited before the last byte; a failed write is logged, never thrown at the client. */
async function record(deps: GatewayDeps, entry: LedgerEntry): Promise<void> {
  try {
    await deps.ledger.append(entry);
  } catch (err) {
    deps.log.error('could not write the ledger line', { request: entry.id, error: err instanceof Error ? err.message : String(err) });
  }
  deps.events.emit('request.finished', entry);
}

function shepherdHeaders(info: RequestInfo, deployment: Deployment, attemptNo: number): Record<string, string> {
  const headers: Record<string, string> = {
    'x-request-id': info.id,
    'x-shepherd-model': info.plan.group.name,
    'x-shepherd-deployment': deployment.id,
    'x-shepherd-attempts': String(attemptNo),
  };
  if (deployment.sandbox) headers['x-shepherd-sandbox'] = 'true';
  return headers;
}

function timeoutsFor(deps: GatewayDeps, deployment: Deployment): UpstreamTimeouts {
  const d = deps.current().config.upstream;
  const p = deployment.provider.timeouts;
  return { connectMs: p?.connectMs ?? d.connectMs, firstByteMs: p?.firstByteMs ?? d.firstByteMs, idleMs: p?.idleMs ?? d.idleMs };
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

function cancelledFailure(signal: AbortSignal): UpstreamFailure {
  return signal.reason instanceof ShutdownAbort
    ? { kind: 'reset', status: 503, retryable: false, message: 'Shepherd is shutting down', type: 'api_error', code: 'shutting_down' }
    : { kind: 'reset', status: 499, retryable: false, message: 'client closed the request', type: 'cancelled', code: 'client_closed' };
}

/** Upstream messages sometimes echo the key they were sent; it never travels further. */
function redact(failure: UpstreamFailure, apiKey: string | undefined): UpstreamFailure {
  if (!apiKey || apiKey.length < 6 || !failure.message.includes(apiKey)) return failure;
  return { ...failure, message: failure.message.split(apiKey).join('***') };
}

function round1(ms: number): number {
  return Math.round(ms * 10) / 10;
}
