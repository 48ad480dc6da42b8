import assert from 'node:assert/strict';
import { openaiCompatible } from '../../daemon/formats/openai/adapter';
import { isRetryableStatus, retryAfterMs } from '../../daemon/formats/http-status';
import type { UpstreamTarget } from '../../daemon/core/target';

const target: UpstreamTarget = {
  deploymentId: 'openai/gpt-4.1',
  providerName: 'openai',
  provider: { type: 'openai-compatible', baseUrl: 'https://api.openai.com/v1', headers: { 'x-extra': '1' } },
  upstreamModel: 'gpt-4.1-2025-04-14',
  apiKey: 'sk-secret',
};

describe('openai-compatible adapter: requests', () => {
  it('rewrites only the model and passes every other field through untouched', () => {
    const body = {
      model: 'gpt4',
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ type: 'function', function: { name: 'f', parameters: {} } }],
      tool_choice: 'auto',
      response_format: { type: 'json_object' },
      seed: 7,
      logprobs: true,
      n: 2,
      user: 'u1',
    };
    const req = openaiCompatible.chatRequest(target, body);
    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/chat/completions');
    assert.deepEqual(JSON.parse(req.body!), { ...body, model: 'gpt-4.1-2025-04-14' });
    assert.equal(req.headers.authorization, 'Bearer sk-secret');
    assert.equal(req.headers['x-extra'], '1');
  });

  it('asks the upstream for usage when streaming, keeping the client\'s other stream options', () => {
    const req = openaiCompatible.chatRequest(target, { model: 'm', messages: [], stream: true, stream_options: { extra: 1 } });
    assert.deepEqual(JSON.parse(req.body!).stream_options, { extra: 1, include_usage: true });
  });

  it('probes health with the model list, which costs no tokens', () => {
    const probe = openaiCompatible.probeRequest(target);
    assert.equal(probe.method, 'GET');
    assert.equal(probe.path, '/models');
    assert.equal(probe.body, undefined);
    assert.equal(probe.headers.authorization, 'Bearer sk-secret');
  });

  it('sends no authorization header for a keyless provider', () => {
    const req = openaiCompatible.chatRequest({ ...target, apiKey: undefined }, { model: 'm', messages: [] });
    assert.equal(req.headers.authorization, undefined);
  });
});

describe('openai-compatible adapter: answers', () => {
  it('returns a non-streaming answer verbatim and reads its usage, cached tokens included', () => {
    const text = JSON.stringify({
      id: 'x',
      choices: [],
      usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120, prompt_tokens_details: { cached_tokens: 40 } },
    });
    const out = openaiCompatible.parseChatResponse(text);
    assert.equal(out.body, text);
    assert.deepEqual(out.usage, { promptTokens: 100, completionTokens: 20, cachedTokens: 40 });
  });

  it('throws on a body that is not JSON so the router can treat it as a protocol failure', () => {
    assert.throws(() => openaiCompatible.parseChatResponse('<html>'), SyntaxError);
  });
});

describe('openai-compatible adapter: stream relay', () => {
  const chunk = (extra: Record<string, unknown>) => JSON.stringify({ id: 'c', object: 'chat.completion.chunk', ...extra });

  it('hides usage from a client that did not ask for it but still records it', () => {
    const relay = openaiCompatible.streamTranslator({ clientWantsUsage: false });
    const content = chunk({ choices: [{ index: 0, delta: { content: 'hi' } }], usage: null });
    const usageOnly = chunk({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 2 } });
    const out1 = relay.push({ data: content });
    assert.equal(out1.length, 1);
    assert.deepEqual(JSON.parse(out1[0].slice(6)), { id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'hi' } }] });
    assert.deepEqual(relay.push({ data: usageOnly }), []);
    assert.deepEqual(relay.push({ data: '[DONE]' }), []);
    assert.equal(relay.done(), true);
    assert.deepEqual(relay.end(), ['data: [DONE]\n\n']);
    assert.deepEqual(relay.usage(), { promptTokens: 5, completionTokens: 2 });
  });

  it('relays frames byte for byte to a client that asked for usage', () => {
    const relay = openaiCompatible.streamTranslator({ clientWantsUsage: true });
    const frames = [
      chunk({ choices: [{ index: 0, delta: { content: 'a' } }], usage: null }),
      chunk({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 1 } }),
    ];
    const out = frames.flatMap((data) => relay.push({ data }));
    assert.deepEqual(out, frames.map((f) => `data: ${f}\n\n`));
    assert.deepEqual(relay.usage(), { promptTokens: 3, completionTokens: 1 });
  });

  it('strips usage from a final chunk that carries both choices and usage', () => {
    const relay = openaiCompatible.streamTranslator({ clientWantsUsage: false });
    const out = relay.push({ data: chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1 } }) });
    assert.equal(JSON.parse(out[0].slice(6)).usage, undefined);
    assert.equal(JSON.parse(out[0].slice(6)).choices[0].finish_reason, 'stop');
  });

  it('removes a leading "usage":null key without breaking the JSON', () => {
    const relay = openaiCompatible.streamTranslator({ clientWantsUsage: false });
    const out = relay.push({ data: '{"usage":null,"id":"c","choices":[]}' });
    assert.deepEqual(JSON.parse(out[0].slice(6)), { id: 'c', choices: [] });
  });

  it('does not mistake the word usage inside content for the usage key', () => {
    const relay = openaiCompatible.streamTranslator({ clientWantsUsage: false });
    const data = chunk({ choices: [{ index: 0, delta: { content: 'the "usage":null field' } }] });
    assert.deepEqual(relay.push({ data }), [`data: ${data}\n\n`]);
  });
});

describe('openai-compatible adapter: error verdicts', () => {
  it('marks rate limits, timeouts, conflicts and server errors retryable, client errors final', () => {
    for (const s of [408, 409, 429, 500, 502, 503, 504, 529]) assert.equal(isRetryableStatus(s), true, String(s));
    for (const s of [400, 401, 403, 404, 422]) assert.equal(isRetryableStatus(s), false, String(s));
  });

  it('keeps the upstream error message and reads Retry-After', () => {
    const f = openaiCompatible.classifyStatus(429, { 'retry-after': '2' }, JSON.stringify({ error: { message: 'slow down', type: 'rate_limit_error', code: 'rate_limited' } }));
    assert.deepEqual(f, { kind: 'status', class: 'rate_limit', status: 429, retryable: true, retryAfterMs: 2000, message: 'slow down', type: 'rate_limit_error', code: 'rate_limited' });
  });

  it('describes a non-JSON error body by its text', () => {
    const f = openaiCompatible.classifyStatus(502, {}, 'Bad Gateway\n');
    assert.equal(f.message, 'Bad Gateway');
    assert.equal(f.type, 'api_error');
  });

  it('prefers retry-after-ms, accepts an HTTP date, ignores junk', () => {
    assert.equal(retryAfterMs({ 'retry-after-ms': '150', 'retry-after': '9' }), 150);
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(retryAfterMs({ 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }, now), 5000);
    assert.equal(retryAfterMs({ 'retry-after': 'soon' }), undefined);
    assert.equal(retryAfterMs({}), undefined);
  });
});
