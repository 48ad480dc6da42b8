// Relays a 2xx upstream answer to the client in its format: whole, or streamed frame by frame. Either
// way the request ends in finish(), which writes the ledger line before the last byte.
import type { ServerResponse } from 'node:http';
import { createParser } from 'eventsource-parser';
import { abortFailure } from '../core/abort';
import type { Cancel } from '../core/cancel';
import type { UpstreamFailure } from '../core/failure';
import type { Usage } from '../core/usage';
import type { ClientStreamEncoder } from '../formats/client-format';
import type { ProviderAdapter } from '../formats/types';
import type { Plan, PlannedAttempt } from '../routing/plan';
import { toUpstreamError, type UpstreamResponse } from '../upstream/pool';
import type { AttemptResult, Failed } from './attempt';
import type { PipelineDeps } from './deps';
import type { Exchange } from './exchange';
import { finish } from './finish';
import { completionText, StreamedText, usageOrEstimate, type CountedUsage } from './usage-fallback';

/** An attempt whose upstream answered 2xx: everything needed to relay its body. */
export interface Relay {
  deps: PipelineDeps;
  x: Exchange;
  plan: Plan;
  planned: PlannedAttempt;
  attemptNo: number;
  adapter: ProviderAdapter;
  upstream: UpstreamResponse;
  /** Reports the failure to health (once) and returns it, redacted and with the group's verdict. */
  fail: (f: UpstreamFailure) => Failed;
  succeed: (usage: Usage | undefined) => void;
  /** The attempt's own cancel (a child of the request's when hedged). */
  signal: Cancel;
  /** Before the first byte to the client: false when the other attempt of a hedged pair answered first. */
  claim(): boolean;
}

export async function relayWhole(r: Relay): Promise<AttemptResult> {
  const { adapter, upstream, fail, succeed, x } = r;
  let parsed: { body: string; usage: Usage | undefined };
  try {
    parsed = parseWhole(adapter, x, await upstream.body.text());
  } catch (err) {
    if (err instanceof SyntaxError) {
      return fail({ kind: 'protocol', class: 'outage', status: 502, retryable: true, message: 'upstream answered with invalid JSON', type: 'upstream_error' });
    }
    return fail(toUpstreamError(err, r.signal).failure);
  }
  if (!r.claim()) return fail(abortFailure(r.signal));
  const now = performance.now();
  succeed(parsed.usage);
  const counted = usageOrEstimate(x.arrival.body, parsed.usage, () => completionText(parsed.body));
  const facts = { group: r.planned.group, deployment: r.planned.deployment, attempts: r.attemptNo, status: 200, counted, endedAt: now, firstTokenAt: now };
  if (x.held) {
    x.held.answer({ kind: 'whole', text: parsed.body, facts, headers: shepherdHeaders(r) });
    return { kind: 'answered' };
  }
  await finish(r.deps, x.id, x.arrival, facts, { kind: 'answer', body: x.arrival.client.wholeBody(parsed.body), headers: shepherdHeaders(r) });
  return { kind: 'answered' };
}

export async function relayStream(r: Relay): Promise<AttemptResult> {
  const { adapter, upstream, fail, succeed, x } = r;
  const { body, res } = x.arrival;
  const signal = r.signal;
  const translator = adapter.streamTranslator({ clientWantsUsage: body.stream_options?.include_usage === true, operation: x.arrival.operation });
  const encoder = x.arrival.client.streamEncoder();
  const sent = new StreamedText();
  let pending = '';
  // A held cascade step keeps every frame until its checks have read the whole answer.
  let held = '';
  const parser = createParser({
    onEvent: (event) => {
      for (const frame of translator.push({ event: event.event, data: event.data })) pending += frame;
    },
  });
  let firstByteAt: number | undefined;
  const startClientStream = () => {
    firstByteAt = performance.now();
    const headers = shepherdHeaders(r);
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
      if (x.held) {
        // Claimed at the first frame, as a stream to the client would be: a held stream that is answering is not hedged.
        if (held === '' && !r.claim()) break;
        held += pending;
        pending = '';
        if (signal.aborted) break;
        continue;
      }
      if (firstByteAt === undefined) {
        if (!r.claim()) break; // the other attempt of a hedged pair answered first: signal is aborted now
        startClientStream();
      }
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
    return endStreamWithError(r, encoder, usageOrEstimate(body, translator.usage(), () => sent.text()), firstByteAt, failure);
  }
  if (signal.aborted) {
    if (firstByteAt === undefined) return fail(abortFailure(signal));
    return endStreamWithError(r, encoder, usageOrEstimate(body, translator.usage(), () => sent.text()), firstByteAt, abortFailure(signal));
  }
  if (firstByteAt === undefined && held === '' && !translator.done()) {
    // Not one event (an upstream that ignored `stream` and sent JSON, say): not an answer, so try elsewhere.
    return fail({ kind: 'protocol', class: 'outage', status: 502, retryable: true, message: 'upstream ended the stream without sending any event', type: 'upstream_error' });
  }
  if (x.held) {
    if (!r.claim()) return fail(abortFailure(signal));
    const now = performance.now();
    succeed(translator.usage());
    const all = held + pending + translator.end().join('');
    sent.add(all);
    const counted = usageOrEstimate(body, translator.usage(), () => sent.text());
    const facts = { group: r.planned.group, deployment: r.planned.deployment, attempts: r.attemptNo, status: 200, counted, endedAt: now, firstTokenAt: now };
    x.held.answer({ kind: 'stream', text: all, facts, headers: shepherdHeaders(r) });
    return { kind: 'answered' };
  }
  if (firstByteAt === undefined) {
    if (!r.claim()) return fail(abortFailure(signal));
    startClientStream();
  }
  const now = performance.now();
  succeed(translator.usage());
  const last = pending + translator.end().join('');
  sent.add(last);
  const counted = usageOrEstimate(body, translator.usage(), () => sent.text());
  const facts = { group: r.planned.group, deployment: r.planned.deployment, attempts: r.attemptNo, status: 200, counted, endedAt: now, firstTokenAt: firstByteAt ?? now };
  await finish(r.deps, x.id, x.arrival, facts, { kind: 'stream', tail: encoder.end(last) });
  return { kind: 'answered' };
}

/** A whole 2xx answer in the client's OpenAI shape, by what was asked of the upstream. */
function parseWhole(adapter: ProviderAdapter, x: Exchange, text: string): { body: string; usage: Usage | undefined } {
  switch (x.arrival.operation) {
    case 'embeddings':
      // attempt.ts built the request with embeddingsRequest, so the adapter has both halves.
      return adapter.parseEmbeddings ? adapter.parseEmbeddings(text, x.arrival.payload ?? {}) : adapter.parseChatResponse(text);
    case 'completions':
      return adapter.parseCompletions ? adapter.parseCompletions(text) : adapter.parseChatResponse(text);
    default:
      return adapter.parseChatResponse(text);
  }
}

/** After bytes reached the client a stream cannot fail over: close it with an error event and [DONE]. */
async function endStreamWithError(
  r: Relay,
  encoder: ClientStreamEncoder,
  counted: CountedUsage,
  firstByteAt: number,
  raw: UpstreamFailure,
): Promise<AttemptResult> {
  const { failure } = r.fail(raw);
  const status = r.signal.aborted ? abortFailure(r.signal).status : failure.status;
  const facts = { group: r.planned.group, deployment: r.planned.deployment, attempts: r.attemptNo, status, counted, endedAt: performance.now(), firstTokenAt: firstByteAt, error: failure.message };
  const tail = encoder.error(`stream interrupted: ${failure.message}`, failure.type, failure.code ?? null);
  await finish(r.deps, r.x.id, r.x.arrival, facts, { kind: 'stream', tail });
  return { kind: 'answered' };
}

export function shepherdHeaders(r: Relay): Record<string, string> {
  const { x, plan, planned } = r;
  const headers: Record<string, string> = {
    'x-request-id': x.id,
    'x-shepherd-model': planned.group,
    'x-shepherd-deployment': planned.deployment.id,
    'x-shepherd-attempts': String(r.attemptNo),
    'x-shepherd-strategy': plan.strategy,
    'x-shepherd-route': headerSafe(planned.reason),
    'x-shepherd-resolved': headerSafe(plan.resolved),
  };
  if (plan.auto) headers['x-shepherd-tier'] = plan.auto.tier;
  if (planned.deployment.sandbox) headers['x-shepherd-sandbox'] = 'true';
  if (x.extraHeaders) Object.assign(headers, x.extraHeaders);
  return headers;
}

/** Header values must be printable ASCII on one line. */
export function headerSafe(text: string): string {
  const clipped = text.length > 200 ? text.slice(0, 200) : text;
  return UNSAFE_HEADER_CHAR.test(clipped) ? clipped.replace(UNSAFE_HEADER_CHARS, '?') : clipped;
}
const UNSAFE_HEADER_CHAR = /[^\x20-\x7e]/;
const UNSAFE_HEADER_CHARS = /[^\x20-\x7e]/g;




/** Waits until the client can take more, or has gone. */
export function drained(res: ServerResponse): Promise<void> {
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
