// Gemini errors ({"error":{"code","message","status","details"}}) -> the router's failure verdict in
// OpenAI terms. UNAVAILABLE, RESOURCE_EXHAUSTED, INTERNAL and DEADLINE_EXCEEDED may pass elsewhere;
// Gemini answers a bad API key with 400 INVALID_ARGUMENT, which OpenAI clients know as 401.
import { isRecord } from '../../../shared/is-record';
import { isRetryableStatus, retryAfterMs } from '../http-status';
import { classForStatus, type UpstreamFailure } from '../../core/failure';

const STATUS_FOR_CODE: Record<string, number> = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  OUT_OF_RANGE: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ABORTED: 409,
  RESOURCE_EXHAUSTED: 429,
  CANCELLED: 499,
  INTERNAL: 500,
  UNKNOWN: 500,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
};

/** `status` 0: an error object inside a 200 stream; its own code decides. */
export function geminiFailure(status: number, headers: Record<string, string | string[] | undefined>, bodyText: string): UpstreamFailure {
  const err = readError(bodyText);
  const effective = status || (err.code && STATUS_FOR_CODE[err.code]) || err.httpCode || 500;
  const badKey = err.reasons.includes('API_KEY_INVALID') || /api key not valid/i.test(err.message ?? '');
  const clientStatus = badKey ? 401 : effective;
  return {
    kind: 'status',
    class: badKey ? 'key' : classForStatus(effective),
    status: clientStatus,
    retryable: !badKey && isRetryableStatus(effective),
    retryAfterMs: retryAfterMs(headers) ?? err.retryDelayMs,
    message: err.message ?? `upstream answered HTTP ${effective}`,
    type: typeFor(clientStatus),
    ...(err.code ? { code: err.code.toLowerCase() } : {}),
  };
}

function typeFor(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  return status >= 500 ? 'api_error' : 'invalid_request_error';
}

interface GeminiError {
  message?: string;
  code?: string;
  httpCode?: number;
  reasons: string[];
  retryDelayMs?: number;
}

function readError(text: string): GeminiError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const trimmed = text.trim().slice(0, 200);
    return { reasons: [], ...(trimmed ? { message: trimmed } : {}) };
  }
  // Some Google front ends wrap the error in a one-element array.
  const root = Array.isArray(parsed) ? parsed[0] : parsed;
  const err = isRecord(root) && isRecord(root.error) ? root.error : undefined;
  if (!err) return { reasons: [] };
  const details = Array.isArray(err.details) ? err.details.filter(isRecord) : [];
  const reasons = details.map((d) => d.reason).filter((r): r is string => typeof r === 'string');
  // google.rpc.RetryInfo: {"retryDelay":"37s"}
  const delay = details.map((d) => d.retryDelay).find((d): d is string => typeof d === 'string');
  const seconds = delay ? Number.parseFloat(delay) : NaN;
  return {
    message: typeof err.message === 'string' ? err.message : undefined,
    code: typeof err.status === 'string' ? err.status : undefined,
    httpCode: typeof err.code === 'number' ? err.code : undefined,
    reasons,
    ...(Number.isFinite(seconds) && seconds >= 0 ? { retryDelayMs: Math.round(seconds * 1000) } : {}),
  };
}
