// Facts every adapter shares: which statuses are worth another attempt, Retry-After, and the verdict
// on a request an adapter cannot translate.
import type { UpstreamFailure } from '../core/failure';

/** Timeouts, conflicts, rate limits, server errors and overload (Anthropic's 529) may pass. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || (status >= 500 && status <= 599);
}

/** Milliseconds to wait from `retry-after-ms` or `retry-after` (seconds or an HTTP date). */
export function retryAfterMs(
  headers: Record<string, string | string[] | undefined>,
  now: number = Date.now(),
): number | undefined {
  const ms = first(headers['retry-after-ms']);
  if (ms !== undefined && ms.trim() !== '') {
    const n = Number(ms);
    if (Number.isFinite(n) && n >= 0) return n;
  }
  const after = first(headers['retry-after']);
  if (after === undefined || after.trim() === '') return undefined;
  const seconds = Number(after);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * A request an adapter cannot express in its provider's wire format (an unsupported content part,
 * say). Final, not retryable as an outage: the same request would fail the same way again here.
 */
export function untranslatable(message: string): UpstreamFailure {
  return { kind: 'status', class: 'client', status: 400, retryable: false, message, type: 'invalid_request_error', code: 'unsupported_by_provider' };
}
