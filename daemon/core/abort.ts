// Why a request was aborted, and what each reason means for the client and the ledger.
import type { UpstreamFailure } from './failure';
import { secretMasker } from './redact';

/** The abort reason when the daemon itself ends requests because it is shutting down. */
export class ShutdownAbort extends Error {}

/** The abort reason when a request used up its total time (upstream.totalMs). */
export class DeadlineAbort extends Error {}

/** The abort reason of a hedged attempt when the other one answered first. */
export class HedgeLost {
  // Not an Error: it is never thrown, and capturing a stack trace would cost microseconds per hedge.
  constructor(readonly winner: string) {}

  get message(): string {
    return `cancelled: ${this.winner} answered first (hedged request)`;
  }
}

/** The failure an aborted attempt ends with: shutdown 503, deadline 504, client gone 499. */
export function abortFailure(signal: { readonly reason: unknown }): UpstreamFailure {
  if (signal.reason instanceof ShutdownAbort) {
    return { kind: 'reset', class: 'cancelled', status: 503, retryable: false, message: 'Shepherd is shutting down', type: 'api_error', code: 'shutting_down' };
  }
  if (signal.reason instanceof DeadlineAbort) {
    return { kind: 'timeout', class: 'outage', status: 504, retryable: false, message: signal.reason.message, type: 'api_error', code: 'deadline_exceeded' };
  }
  if (signal.reason instanceof HedgeLost) {
    return { kind: 'reset', status: 499, retryable: false, message: signal.reason.message, type: 'cancelled', code: 'hedge_lost', class: 'cancelled' };
  }
  return { kind: 'reset', status: 499, retryable: false, message: 'client closed the request', type: 'cancelled', code: 'client_closed', class: 'cancelled' };
}

/** Upstream messages sometimes echo the key they were sent; it never travels further. (The pipeline masks every provider header value and echoed prompt text too: pipeline/clean-failure.ts.) */
export function redact(failure: UpstreamFailure, apiKey: string | undefined): UpstreamFailure {
  const message = secretMasker([apiKey])(failure.message);
  return message === failure.message ? failure : { ...failure, message };
}
