import assert from 'node:assert/strict';
import { UpstreamError } from '../../daemon/core/failure';
import type { UpstreamTarget } from '../../daemon/core/target';
import { responsesPassthrough } from '../../daemon/formats/openai/responses-passthrough';

const target = (responsesApi?: boolean): UpstreamTarget => ({
  deploymentId: 'openai/gpt-5',
  providerName: 'openai',
  provider: { type: 'openai-compatible', baseUrl: 'https://api.openai.com/v1', responsesApi },
  upstreamModel: 'gpt-5-2025',
  apiKey: 'sk-x',
});

const bytes = (text: string) => new TextEncoder().encode(text);

describe('responses passthrough (formats/openai)', () => {
  it('serves only providers that say they speak the Responses API', () => {
    assert.equal(responsesPassthrough.serves?.(target(true)), true);
    assert.equal(responsesPassthrough.serves?.(target(false)), false);
    assert.equal(responsesPassthrough.serves?.(target()), false);
  });

  it('sends the body as it came but for the model, to /responses with the provider key', () => {
    const body = { model: 'gpt-5', input: 'hi', tools: [{ type: 'web_search' }], stream: true };
    const req = responsesPassthrough.request(target(true), { format: 'responses', body, headers: {} });
    assert.equal(req.path, '/responses');
    assert.equal(req.headers.authorization, 'Bearer sk-x');
    assert.equal(req.headers.accept, 'text/event-stream');
    assert.deepEqual(JSON.parse(String(req.body)), { ...body, model: 'gpt-5-2025' });
  });

  it('reads a whole Response\'s usage, and refuses what is not a Response', () => {
    const usage = { input_tokens: 10, input_tokens_details: { cached_tokens: 4 }, output_tokens: 7, output_tokens_details: { reasoning_tokens: 3 } };
    assert.deepEqual(responsesPassthrough.wholeUsage(bytes(JSON.stringify({ object: 'response', usage }))), { promptTokens: 10, completionTokens: 7, cachedTokens: 4, reasoningTokens: 3 });
    assert.throws(() => responsesPassthrough.wholeUsage(bytes('{"object":"chat.completion"}')), SyntaxError);
  });

  it('reads usage and the end from the terminal event, with or without SSE event lines', () => {
    for (const named of [true, false]) {
      const reader = responsesPassthrough.streamReader();
      const push = (type: string, data: object) => reader.push({ ...(named ? { event: type } : {}), data: JSON.stringify({ type, ...data }) });
      push('response.created', { response: { usage: null } });
      push('response.output_text.delta', { delta: 'hi' });
      assert.equal(reader.done(), false);
      push('response.incomplete', { response: { usage: { input_tokens: 5, output_tokens: 2 } } });
      assert.equal(reader.done(), true);
      assert.deepEqual(reader.usage(), { promptTokens: 5, completionTokens: 2 });
    }
  });

  it('turns error and response.failed events into failures with their class', () => {
    const reader = responsesPassthrough.streamReader();
    assert.throws(
      () => reader.push({ event: 'error', data: JSON.stringify({ type: 'error', code: 'rate_limit_exceeded', message: 'slow down' }) }),
      (err: unknown) => err instanceof UpstreamError && err.failure.status === 429 && err.failure.class === 'rate_limit' && err.failure.message === 'slow down',
    );
    const failed = { type: 'response.failed', response: { status: 'failed', error: { code: 'server_error', message: 'bad day' } } };
    assert.throws(
      () => responsesPassthrough.streamReader().push({ event: 'response.failed', data: JSON.stringify(failed) }),
      (err: unknown) => err instanceof UpstreamError && err.failure.status === 500 && err.failure.retryable && err.failure.message === 'bad day',
    );
  });
});
