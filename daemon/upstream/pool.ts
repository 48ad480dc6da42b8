// Sends adapter-built requests upstream over pooled keep-alive connections: one undici Pool per
// upstream origin (and connect timeout), reused across requests and config reloads.
import { Pool, errors as undiciErrors } from 'undici';
import type { Dispatcher } from 'undici';
import type { CancelSignal } from '../core/cancel';
import { abortFailure } from '../core/abort';
import { UpstreamError } from '../core/failure';
import type { UpstreamHttpRequest } from '../formats/types';
import type { UpstreamTarget } from '../core/target';
import type { UpstreamFailure } from '../core/failure';

export interface UpstreamTimeouts {
  connectMs: number;
  firstByteMs: number;
  idleMs: number;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

export class Upstreams {
  private readonly pools = new Map<string, Pool>();

  async send(
    target: UpstreamTarget,
    req: UpstreamHttpRequest<string | Uint8Array>,
    timeouts: UpstreamTimeouts,
    signal: CancelSignal,
  ): Promise<UpstreamResponse> {
    const base = new URL(target.provider.baseUrl);
    const pool = this.pool(base.origin, timeouts.connectMs);
    try {
      const res = await pool.request({
        method: req.method,
        path: joinPath(base, req.path),
        headers: req.headers,
        body: req.body,
        signal,
        headersTimeout: timeouts.firstByteMs,
        bodyTimeout: timeouts.idleMs,
      });
      return { status: res.statusCode, headers: res.headers, body: res.body };
    } catch (err) {
      throw toUpstreamError(err, signal);
    }
  }

  /** Drops pools whose origins no config references any more. */
  retain(origins: Set<string>): void {
    for (const [key, pool] of this.pools) {
      if (!origins.has(key.slice(0, key.lastIndexOf('|')))) {
        this.pools.delete(key);
        void pool.close().catch(() => undefined);
      }
    }
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.destroy().catch(() => undefined)));
  }

  private pool(origin: string, connectMs: number): Pool {
    const key = `${origin}|${connectMs}`;
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new Pool(origin, { connect: { timeout: connectMs }, keepAliveTimeout: 30_000, pipelining: 1 });
      this.pools.set(key, pool);
    }
    return pool;
  }
}

/** The request path under the base URL's path, keeping the base URL's own query (after the path's). */
export function joinPath(base: URL, path: string): string {
  const prefix = base.pathname.endsWith('/') ? base.pathname.slice(0, -1) : base.pathname;
  if (!base.search) return `${prefix}${path}`;
  return `${prefix}${path}${path.includes('?') ? `&${base.search.slice(1)}` : base.search}`;
}

/** Maps undici and socket errors to a failure verdict; all of these are worth another deployment. */
export function toUpstreamError(err: unknown, signal?: { readonly aborted: boolean; readonly reason: unknown }): UpstreamError {
  if (err instanceof UpstreamError) return err;
  // Cancelled by Shepherd or the client: why (shutdown, deadline, client gone, hedge lost) says what follows.
  if (signal?.aborted) return new UpstreamError(abortFailure(signal));
  const code = errorCode(err);
  const detail = err instanceof Error ? err.message : String(err);
  if (err instanceof undiciErrors.HeadersTimeoutError || code === 'UND_ERR_HEADERS_TIMEOUT') {
    return failure('timeout', 504, 'upstream sent no response headers in time', code);
  }
  if (err instanceof undiciErrors.BodyTimeoutError || code === 'UND_ERR_BODY_TIMEOUT') {
    return failure('timeout', 504, 'upstream went silent mid-response', code);
  }
  if (err instanceof undiciErrors.ConnectTimeoutError || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return failure('timeout', 504, 'connecting to the upstream timed out', code);
  }
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return failure('connect', 502, `could not connect to the upstream (${code})`, code);
  }
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED') {
    return failure('reset', 502, `upstream connection was reset (${code})`, code);
  }
  return failure('protocol', 502, `upstream request failed: ${detail}`, code);
}

function failure(kind: UpstreamFailure['kind'], status: number, message: string, code?: string): UpstreamError {
  return new UpstreamError({ kind, class: 'outage', status, retryable: true, message, type: 'upstream_error', code: code?.toLowerCase() });
}

function errorCode(err: unknown): string | undefined {
  // undici wraps the socket error; the useful code may sit on the cause.
  for (let e: unknown = err, depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_CONNECT' && code !== 'UND_ERR') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
