// Adapter for Google's native Gemini API: POST {baseUrl}/models/{model}:generateContent, or
// :streamGenerateContent?alt=sse when streaming, with the key in x-goog-api-key (never in the URL,
// where it could end up in logs). baseUrl is e.g. https://generativelanguage.googleapis.com/v1beta.
import { fromGeminiEmbedResponse, toGeminiEmbedRequest } from './embeddings';
import { geminiFailure } from './errors';
import { toGeminiRequest } from './upstream-request';
import { fromGeminiResponse } from './upstream-response';
import { GeminiStreamTranslator } from './upstream-stream';
import type { ProviderAdapter, UpstreamHttpRequest } from '../types';
import type { UpstreamTarget } from '../../core/target';
import type { ChatBody } from '../../core/chat';

export const gemini: ProviderAdapter = {
  type: 'gemini',

  chatRequest(target: UpstreamTarget, body: ChatBody): UpstreamHttpRequest {
    const model = encodeURIComponent(target.upstreamModel.replace(/^models\//, ''));
    const stream = body.stream === true;
    return {
      method: 'POST',
      path: stream ? `/models/${model}:streamGenerateContent?alt=sse` : `/models/${model}:generateContent`,
      headers: headers(target, stream ? 'text/event-stream' : 'application/json'),
      body: JSON.stringify(toGeminiRequest(body, target.upstreamModel)),
    };
  },

  parseChatResponse(text: string) {
    return fromGeminiResponse(JSON.parse(text), Math.floor(Date.now() / 1000));
  },

  streamTranslator(options) {
    return new GeminiStreamTranslator(options.clientWantsUsage);
  },

  classifyStatus(status, responseHeaders, bodyText) {
    return geminiFailure(status, responseHeaders, bodyText);
  },

  probeRequest(target: UpstreamTarget): UpstreamHttpRequest {
    return { method: 'GET', path: '/models', headers: headers(target, 'application/json') };
  },

  embeddingsRequest(target, payload) {
    const model = encodeURIComponent(target.upstreamModel.replace(/^models\//, ''));
    return { method: 'POST', path: `/models/${model}:batchEmbedContents`, headers: headers(target, 'application/json'), body: JSON.stringify(toGeminiEmbedRequest(target.upstreamModel, payload)) };
  },

  parseEmbeddings(text, payload) {
    return fromGeminiEmbedResponse(JSON.parse(text), payload);
  },
};

function headers(target: UpstreamTarget, accept: string): Record<string, string> {
  const out: Record<string, string> = { 'content-type': 'application/json', accept, ...target.provider.headers };
  if (target.apiKey) out['x-goog-api-key'] = target.apiKey;
  return out;
}
