// Adapter for Anthropic's native Messages API (POST {baseUrl}/messages, x-api-key, anthropic-version).
// The translation itself lives in anthropic-request/-response/-stream/-errors.
import { anthropicFailure } from './errors';
import { ANTHROPIC_DEFAULT_MAX_TOKENS, toAnthropicRequest } from './upstream-request';
import { fromAnthropicMessage } from './upstream-response';
import { AnthropicStreamTranslator } from './upstream-stream';
import { anthropicPassthrough } from './passthrough';
import type { ProviderAdapter, UpstreamHttpRequest } from '../types';
import type { UpstreamTarget } from '../../core/target';
import type { ChatBody } from '../../core/chat';

export const ANTHROPIC_VERSION = '2023-06-01';

export const anthropic: ProviderAdapter = {
  type: 'anthropic',

  chatRequest(target: UpstreamTarget, body: ChatBody): UpstreamHttpRequest {
    const maxTokens = target.provider.defaultMaxTokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS;
    const out = toAnthropicRequest(body, target.upstreamModel, maxTokens, { autoCacheBreakpoints: target.autoCacheBreakpoints === true });
    return {
      method: 'POST',
      path: '/messages',
      headers: headers(target, body.stream === true ? 'text/event-stream' : 'application/json'),
      body: JSON.stringify(out),
    };
  },

  parseChatResponse(text: string) {
    return fromAnthropicMessage(JSON.parse(text), Math.floor(Date.now() / 1000));
  },

  streamTranslator(options) {
    return new AnthropicStreamTranslator(options.clientWantsUsage);
  },

  classifyStatus(status, responseHeaders, bodyText) {
    return anthropicFailure(status, responseHeaders, bodyText);
  },

  probeRequest(target: UpstreamTarget): UpstreamHttpRequest {
    return { method: 'GET', path: '/models', headers: headers(target, 'application/json') };
  },

  passthrough: anthropicPassthrough,
};

function headers(target: UpstreamTarget, accept: string): Record<string, string> {
  const out: Record<string, string> = {
    'content-type': 'application/json',
    accept,
    'anthropic-version': target.provider.anthropicVersion ?? ANTHROPIC_VERSION,
    ...target.provider.headers,
  };
  if (target.apiKey) out['x-api-key'] = target.apiKey;
  return out;
}
