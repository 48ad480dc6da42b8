// Building the upstream request from the client's body happens before any byte leaves for the
// upstream, and whatever goes wrong there comes from the request itself: a body nested too deeply to
// serialise, a shape an adapter cannot express. That is the client's error (400), final, and says
// nothing about the deployment's health.
import type { ChatBody, Operation } from '../core/chat';
import { UpstreamError, type UpstreamFailure } from '../core/failure';
import type { UpstreamTarget } from '../core/target';
import type { ProviderAdapter, UpstreamHttpRequest } from './types';

export type Built = { ok: true; request: UpstreamHttpRequest<string | Uint8Array> } | { ok: false; failure: UpstreamFailure };

export function buildChatRequest(adapter: ProviderAdapter, target: UpstreamTarget, body: ChatBody): Built {
  return build(adapter, () => adapter.chatRequest(target, body));
}

/** The upstream request for `operation`: chat from the body, embeddings and completions from the client's payload. */
export function buildRequestFor(adapter: ProviderAdapter, target: UpstreamTarget, operation: Operation, body: ChatBody, payload: Record<string, unknown> | undefined): Built {
  if (operation === 'chat') return buildChatRequest(adapter, target, body);
  const make = operation === 'embeddings' ? adapter.embeddingsRequest : adapter.completionsRequest;
  if (!make || !payload) {
    const message = `provider type ${adapter.type} cannot serve ${operation}`;
    return { ok: false, failure: { kind: 'status', class: 'client', status: 400, retryable: false, message, type: 'invalid_request_error', code: 'unsupported_operation' } };
  }
  return build(adapter, () => make.call(adapter, target, payload));
}

function build(adapter: ProviderAdapter, make: () => UpstreamHttpRequest): Built {
  try {
    return { ok: true, request: make() };
  } catch (err) {
    // An adapter's own verdict (an unsupported content part, say) keeps its words, as the client's error.
    if (err instanceof UpstreamError) return { ok: false, failure: { ...err.failure, class: 'client', retryable: false } };
    const detail = err instanceof Error ? err.message : String(err);
    return {
      ok: false,
      failure: {
        kind: 'status',
        class: 'client',
        status: 400,
        retryable: false,
        message: `the request could not be translated for the ${adapter.type} upstream (${detail}); simplify its structure`,
        type: 'invalid_request_error',
        code: 'request_not_translatable',
      },
    };
  }
}
