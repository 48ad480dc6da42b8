// Errors to clients in the OpenAI shape, {"error":{"message","type","code","param"}}, with a status
// that matches, so SDKs raise the right exception class.
import type { ServerResponse } from 'node:http';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string = typeForStatus(status),
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export function typeForStatus(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'api_error';
  return 'invalid_request_error';
}

export function errorJson(message: string, type: string, code: string | null, param: string | null = null): string {
  return JSON.stringify({ error: { message, type, code, param } });
}

/** Sends `err` as the response; `body` lets a non-OpenAI endpoint use its own error shape. */
export function sendError(
  res: ServerResponse,
  err: HttpError,
  extraHeaders: Record<string, string> = {},
  body: string = errorJson(err.message, err.type, err.code, err.param),
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(err.status, {
    ...extraHeaders,
    ...err.headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
