// An upstream failure, normalised by the wire format that read it, with the verdict the pipeline and
// health act on.

/**
 * Whose fault a failure is, which decides what health makes of it:
 * - `client`: the request itself (a 400, a body that cannot be translated); says nothing about the deployment;
 * - `key`: this deployment's credentials were refused (401, 403); it cannot serve anyone;
 * - `outage`: the upstream is down, slow or broken (network errors, timeouts, 5xx, overload);
 * - `rate_limit`: the upstream is busy for us (429); held back in the rate limiter, not ejected;
 * - `cancelled`: the client went away or Shepherd is stopping; no outcome at all.
 */
export type FailureClass = 'client' | 'key' | 'outage' | 'rate_limit' | 'cancelled';

/** A normalised upstream failure with the verdict the router needs. */
export interface UpstreamFailure {
  /** What kind of failure: a network-level one, or an HTTP status from the upstream. */
  kind: 'connect' | 'timeout' | 'reset' | 'status' | 'protocol';
  /** Whose fault it is (see FailureClass). */
  class: FailureClass;
  /** The HTTP status a client should see for this failure. */
  status: number;
  /** True when another attempt (here or elsewhere) may succeed. */
  retryable: boolean;
  /** From Retry-After / retry-after-ms, when the upstream sent one. */
  retryAfterMs?: number;
  message: string;
  type: string;
  code?: string;
}

/** The class of an upstream's HTTP error status (the status the upstream effectively meant). */
export function classForStatus(status: number): FailureClass {
  if (status === 429) return 'rate_limit';
  if (status === 401 || status === 403) return 'key';
  if (status === 499) return 'cancelled';
  if (status === 408 || status >= 500) return 'outage';
  return 'client';
}

/**
 * The deployment's own provider key was refused (401, 403). It says nothing about the request: the
 * request may go to another deployment, and this one cannot serve anyone until its key changes.
 */
export function isKeyRejection(f: UpstreamFailure): boolean {
  return f.class === 'key';
}

/** Thrown for failures below HTTP (refused, reset, timed out) with the router's verdict attached. */
export class UpstreamError extends Error {
  constructor(readonly failure: UpstreamFailure) {
    super(failure.message);
    this.name = 'UpstreamError';
  }
}
