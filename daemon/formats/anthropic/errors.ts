// Anthropic errors ({"type":"error","error":{"type","message"}}) -> the router's failure verdict in
// OpenAI terms. Overload (529) is an outage worth another deployment; it reaches OpenAI clients as 503.
import { isRecord } from '../../../shared/is-record';
import { isRetryableStatus, retryAfterMs } from '../http-status';
import { classForStatus, type UpstreamFailure } from '../../core/failure';

/** Anthropic error type -> the status an OpenAI client should see (used when the HTTP status is unhelpful). */
const STATUS_FOR_TYPE: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/** HTTP status -> the error type Anthropic answers with, for the statuses it documents. */
const TYPE_FOR_STATUS: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

/** The Anthropic error type for an error answered with `status` (what the sandbox and /v1/messages send). */
export function anthropicErrorType(status: number): string {
  return TYPE_FOR_STATUS[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

export function anthropicFailure(
  status: number,
  headers: Record<string, string | string[] | undefined>,
  bodyText: string,
): UpstreamFailure {
  const { type, message } = readError(bodyText);
  const overloaded = status === 529 || type === 'overloaded_error';
  const clientStatus = overloaded ? 503 : status;
  return {
    kind: 'status',
    class: overloaded ? 'outage' : classForStatus(status),
    status: clientStatus,
    retryable: overloaded || isRetryableStatus(status),
    retryAfterMs: retryAfterMs(headers),
    message: message ?? `upstream answered HTTP ${status}`,
    type: openaiType(type, clientStatus),
    ...(type ? { code: type } : {}),
  };
}

/** An `error` event inside a 200 stream (overload mid-answer, say): judged as its HTTP twin would be. */
export function streamErrorFailure(data: string): UpstreamFailure {
  const { type } = readError(data);
  const status = (type && STATUS_FOR_TYPE[type]) || 500;
  return anthropicFailure(status, {}, data);
}

function openaiType(anthropicType: string | undefined, status: number): string {
  if (anthropicType === 'request_too_large' || anthropicType === 'billing_error') return 'invalid_request_error';
  if (anthropicType === 'overloaded_error' || anthropicType === 'timeout_error') return 'api_error';
  if (anthropicType && anthropicType in STATUS_FOR_TYPE) return anthropicType; // the rest share OpenAI's names
  return status >= 500 ? 'api_error' : status === 429 ? 'rate_limit_error' : 'invalid_request_error';
}

function readError(text: string): { type?: string; message?: string } {
  try {
    const parsed: unknown = JSON.parse(text);
    const err = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : undefined;
    if (!err) return {};
    return {
      type: typeof err.type === 'string' ? err.type : undefined,
      message: typeof err.message === 'string' ? err.message : undefined,
    };
  } catch {
    const trimmed = text.trim().slice(0, 200);
    return trimmed ? { message: trimmed } : {};
  }
}
