// Responses -> Responses: on a deployment whose provider says it serves the Responses API natively
// (`responsesApi`, OpenAI itself), the client's POST /v1/responses body goes upstream unchanged apart
// from `model`, and the answer comes back byte for byte: reasoning items, built-in tools, stored
// responses and whatever OpenAI adds next. Shepherd only reads what it needs: usage (the Response's
// own, or response.completed's), errors (`error` and `response.failed` events), the stream's end.
import { isRecord } from '../../../shared/is-record';
import type { NativeRequest } from '../../core/native';
import type { UpstreamTarget } from '../../core/target';
import type { Usage } from '../../core/usage';
import { classForStatus, UpstreamError, type UpstreamFailure } from '../../core/failure';
import { isRetryableStatus } from '../http-status';
import { nativeBody } from '../native-body';
import type { NativeStreamReader, Passthrough, UpstreamHttpRequest } from '../types';

export const responsesPassthrough: Passthrough = {
  format: 'responses',

  serves: (target) => target.provider.responsesApi === true,

  request(target: UpstreamTarget, native: NativeRequest, path = '/responses'): UpstreamHttpRequest<string | Uint8Array> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: native.body.stream === true ? 'text/event-stream' : 'application/json' };
    if (target.provider.headers) Object.assign(headers, target.provider.headers);
    if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;
    return { method: 'POST', path, headers, body: nativeBody(native, target.upstreamModel) };
  },

  wholeUsage(bytes: Uint8Array): Usage | undefined {
    const response: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (!isRecord(response) || response.object !== 'response') throw new SyntaxError('not a Responses API response');
    return responseUsage(response.usage);
  },

  streamReader(): NativeStreamReader {
    return new ResponsesStreamReader();
  },
};

/** The Responses API's usage object (input/output tokens and their details) as Shepherd's Usage. */
export function responseUsage(u: unknown): Usage | undefined {
  if (!isRecord(u)) return undefined;
  const promptTokens = count(u.input_tokens);
  const completionTokens = count(u.output_tokens);
  if (promptTokens === undefined && completionTokens === undefined) return undefined;
  const cachedTokens = isRecord(u.input_tokens_details) ? count(u.input_tokens_details.cached_tokens) : undefined;
  const reasoningTokens = isRecord(u.output_tokens_details) ? count(u.output_tokens_details.reasoning_tokens) : undefined;
  return {
    promptTokens: promptTokens ?? 0,
    completionTokens: completionTokens ?? 0,
    ...(cachedTokens ? { cachedTokens } : {}),
    ...(reasoningTokens ? { reasoningTokens } : {}),
  };
}

const TERMINAL = new Set(['response.completed', 'response.incomplete', 'response.failed']);

/** Reads usage, the end and errors from Responses SSE events without producing anything. */
class ResponsesStreamReader implements NativeStreamReader {
  private read: Usage | undefined;
  private finished = false;

  // OpenAI names every event twice (the SSE event line and data.type); the event line is read first
  // so deltas pass undecoded, data.type for an upstream that omits event lines.
  wants(named: string | undefined): boolean {
    return named === undefined || named === 'message' || named === 'error' || TERMINAL.has(named);
  }

  push(event: { event?: string; data: string }): void {
    const named = event.event;
    if (!this.wants(named)) return;
    const data = parse(event.data);
    const type = typeof data?.type === 'string' ? data.type : named;
    if (type === 'error') throw new UpstreamError(failureFrom(data ?? {}, 500));
    if (type === undefined || !TERMINAL.has(type)) return;
    const response = isRecord(data?.response) ? data.response : undefined;
    this.read = responseUsage(response?.usage) ?? this.read;
    this.finished = true;
    if (type === 'response.failed') throw new UpstreamError(failureFrom(isRecord(response?.error) ? response.error : {}, 500));
  }

  usage(): Usage | undefined {
    return this.read;
  }

  done(): boolean {
    return this.finished;
  }
}

/** An `error` event's or a failed response's error ({code, message}) as a failure with its class. */
function failureFrom(err: Record<string, unknown>, fallback: number): UpstreamFailure {
  const code = typeof err.code === 'string' ? err.code : undefined;
  const status = code ? (STATUS_FOR_CODE[code] ?? fallback) : fallback;
  return {
    kind: 'status',
    class: classForStatus(status),
    status,
    retryable: isRetryableStatus(status),
    message: typeof err.message === 'string' ? err.message : `upstream stream failed${code ? ` (${code})` : ''}`,
    type: status === 429 ? 'rate_limit_error' : status >= 500 ? 'api_error' : 'invalid_request_error',
    ...(code ? { code } : {}),
  };
}

// Error codes OpenAI sends in Responses stream errors and failed responses, by the status they mean.
const STATUS_FOR_CODE: Record<string, number> = {
  server_error: 500,
  rate_limit_exceeded: 429,
  insufficient_quota: 429,
  invalid_prompt: 400,
  invalid_request_error: 400,
  context_length_exceeded: 400,
  vector_store_timeout: 504,
  invalid_api_key: 401,
};

function parse(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return isRecord(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function count(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.round(v) : undefined;
}
