// Passthrough: when the deployment speaks the client's own wire format (an Anthropic client on an
// Anthropic deployment), the client's body goes upstream unchanged apart from `model`, and the answer
// comes back byte for byte, its stream chunk by chunk as it arrives. No translator, no encoder: the
// upstream's bytes are only read (usage, errors, the stream's end), never rewritten. Errors before the
// first byte still fail over like any attempt; after it, the stream ends with an error event.
import { abortFailure } from '../core/abort';
import type { NativeRequest } from '../core/native';
import type { UpstreamTarget } from '../core/target';
import type { Built } from '../formats/build-request';
import { SseScanner } from '../formats/sse-scan';
import type { Passthrough, ProviderAdapter } from '../formats/types';
import { toUpstreamError } from '../upstream/pool';
import type { AttemptResult } from './attempt';
import type { Exchange } from './exchange';
import { finish } from './finish';
import { drained, shepherdHeaders, type Relay } from './relay';
import type { UpstreamFailure } from '../core/failure';
import type { CountedUsage } from './usage-fallback';
import { usageOrEstimate } from './usage-fallback';

export interface NativeAttempt {
  passthrough: Passthrough;
  request: NativeRequest;
}

/** The passthrough to use for this deployment, when it speaks the client's own format. */
export function nativeFor(adapter: ProviderAdapter, x: Exchange, target: UpstreamTarget): NativeAttempt | undefined {
  const request = x.arrival.native;
  const passthrough = adapter.passthrough;
  if (!request || !passthrough || passthrough.format !== request.format) return undefined;
  return passthrough.serves === undefined || passthrough.serves(target) ? { passthrough, request } : undefined;
}

export function buildNativeRequest(native: NativeAttempt, target: UpstreamTarget): Built {
  try {
    return { ok: true, request: native.passthrough.request(target, native.request) };
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    return {
      ok: false,
      failure: { kind: 'status', class: 'client', status: 400, retryable: false, message: `the request could not be serialised (${detail})`, type: 'invalid_request_error', code: 'request_not_translatable' },
    };
  }
}

export async function relayNativeWhole(r: Relay, native: NativeAttempt): Promise<AttemptResult> {
  const { upstream, fail, succeed, x } = r;
  let bytes: Buffer;
  let usage;
  try {
    // Bytes in, the same bytes out: the answer is never decoded to text (unless usage must be estimated).
    bytes = Buffer.from(await upstream.body.arrayBuffer());
    usage = native.passthrough.wholeUsage(bytes);
  } catch (err) {
    if (err instanceof SyntaxError) {
      return fail({ kind: 'protocol', class: 'outage', status: 502, retryable: true, message: 'upstream answered with invalid JSON', type: 'upstream_error' });
    }
    return fail(toUpstreamError(err, r.signal).failure);
  }
  if (!r.claim()) return fail(abortFailure(r.signal));
  dropTranslationHeaders(r, native);
  const now = performance.now();
  succeed(usage);
  const counted = usageOrEstimate(x.arrival.body, usage, () => bytes.toString('utf8'));
  const facts = { group: r.planned.group, deployment: r.planned.deployment, attempts: r.attemptNo, status: 200, counted, endedAt: now, firstTokenAt: now };
  await finish(r.deps, x.id, x.arrival, facts, { kind: 'answer', body: bytes, headers: shepherdHeaders(r) });
  return { kind: 'answered' };
}

export async function relayNativeStream(r: Relay, native: NativeAttempt): Promise<AttemptResult> {
  const { upstream, fail, succeed, x } = r;
  const { body, res } = x.arrival;
  const signal = r.signal;
  const reader = native.passthrough.streamReader();
  const scanner = new SseScanner(reader);
  let firstByteAt: number | undefined;
  // Anthropic reports usage in message_start, Responses at its end; the estimate is for a stream that broke before it.
  const estimate = () => usageOrEstimate(body, reader.usage(), () => '');
  const held: Uint8Array[] = []; // bytes before the first complete event: kept until the stream is claimed
  // An error event after the first byte is the upstream's own, in the client's format: relayed as sent.
  let relayedError: unknown;
  try {
    for await (const chunk of upstream.body as AsyncIterable<Uint8Array>) {
      // Read before it is forwarded: an error event before the first byte may still fail over.
      try {
        scanner.feed(chunk);
      } catch (err) {
        if (firstByteAt === undefined) throw err;
        relayedError = err;
      }
      let ok: boolean;
      if (firstByteAt === undefined) {
        held.push(chunk);
        if (scanner.events === 0) continue;
        if (!r.claim()) break; // the other attempt of a hedged pair answered first: signal is aborted now
        firstByteAt = performance.now();
        dropTranslationHeaders(r, native);
        const headers = shepherdHeaders(r);
        headers['content-type'] = 'text/event-stream; charset=utf-8';
        headers['cache-control'] = 'no-cache';
        headers.connection = 'keep-alive';
        res.writeHead(200, headers);
        ok = true;
        res.cork(); // the headers and the first bytes in one write (see finish.ts)
        for (const c of held) ok = res.write(c);
        res.uncork();
        held.length = 0;
      } else ok = res.write(chunk);
      if (!ok) await drained(res);
      if (relayedError !== undefined || signal.aborted) break;
    }
  } catch (err) {
    const failure = toUpstreamError(err, signal).failure;
    if (firstByteAt === undefined) return fail(failure);
    return endWithError(r, estimate, firstByteAt, failure);
  }
  if (relayedError !== undefined && firstByteAt !== undefined && !signal.aborted) {
    return endWithError(r, estimate, firstByteAt, toUpstreamError(relayedError, signal).failure, false);
  }
  if (signal.aborted) {
    if (firstByteAt === undefined) return fail(abortFailure(signal));
    return endWithError(r, estimate, firstByteAt, abortFailure(signal));
  }
  if (firstByteAt === undefined) {
    return fail({ kind: 'protocol', class: 'outage', status: 502, retryable: true, message: 'upstream ended the stream without sending any event', type: 'upstream_error' });
  }
  const now = performance.now();
  succeed(reader.usage());
  const facts = { group: r.planned.group, deployment: r.planned.deployment, attempts: r.attemptNo, status: 200, counted: estimate(), endedAt: now, firstTokenAt: firstByteAt };
  await finish(r.deps, x.id, x.arrival, facts, { kind: 'stream', tail: '' });
  return { kind: 'answered' };
}

/** What the endpoint said about translating (tools left out) does not hold for a request passed through. */
function dropTranslationHeaders(r: Relay, native: NativeAttempt): void {
  const names = native.request.translationHeaders;
  if (names) for (const name of names) r.x.arrival.res.removeHeader(name);
}

/**
 * After bytes reached the client a stream cannot fail over: close it with the client format's error
 * event, unless the upstream's own error event (`relayed`) already went to the client.
 */
async function endWithError(r: Relay, counted: () => CountedUsage, firstByteAt: number, raw: UpstreamFailure, addTail = true): Promise<AttemptResult> {
  const { failure } = r.fail(raw);
  const status = r.signal.aborted ? abortFailure(r.signal).status : failure.status;
  const facts = { group: r.planned.group, deployment: r.planned.deployment, attempts: r.attemptNo, status, counted: counted(), endedAt: performance.now(), firstTokenAt: firstByteAt, error: failure.message };
  const tail = addTail ? r.x.arrival.client.streamEncoder().error(`stream interrupted: ${failure.message}`, failure.type, failure.code ?? null) : '';
  await finish(r.deps, r.x.id, r.x.arrival, facts, { kind: 'stream', tail });
  return { kind: 'answered' };
}
