// An upstream failure, normalised by the wire format that read it, with the verdict the pipeline and
// health act on.

/** A normalised upstream failure with the verdict the router needs. */
export interface UpstreamFailure {
  /** What kind of failure: a network-level one, or an HTTP status from the upstream. */
  kind: 'connect' | 'timeout' | 'reset' | 'status' | 'protocol';
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

/**
 * The deployment's own provider key was refused (401, 403). It says nothing about the request: the
 * request may go to another deployment, and this one cannot serve anyone until its key changes.
 */
export function isKeyRejection(f: UpstreamFailure): boolean {
  return f.kind === 'status' && (f.status === 401 || f.status === 403);
}

/** Thrown for failures below HTTP (refused, reset, timed out) with the router's verdict attached. */
export class UpstreamError extends Error {
  constructor(readonly failure: UpstreamFailure) {
    super(failure.message);
    this.name = 'UpstreamError';
  }
}
