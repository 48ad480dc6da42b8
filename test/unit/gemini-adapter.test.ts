// The Gemini adapter against Gemini's wire shapes: OpenAI requests out, responses, SSE chunks, safety
// blocks and errors back in OpenAI terms.
import assert from 'node:assert/strict';
import { gemini } from '../../daemon/formats/gemini/adapter';
import type { UpstreamTarget } from '../../daemon/core/target';
import type { ChatBody } from '../../daemon/core/chat';
import { UpstreamError } from '../../daemon/core/failure';
import { parseMessagesRequest, toChatBody } from '../../daemon/formats/anthropic/client-request';

const target: UpstreamTarget = {
  deploymentId: 'gemini/flash',
  providerName: 'gemini',
  provider: { type: 'gemini', baseUrl: 'https://generativelanguage.googleapis.com/v1beta' },
  upstreamModel: 'gemini-2.5-flash',
  apiKey: 'AIza-secret',
};

type Req = Omit<ChatBody, 'model' | 'messages'> & { messages: unknown[] };
const out = (body: Req) => JSON.parse(gemini.chatRequest(target, { model: 'group', ...body }).body ?? '') as Record<string, unknown>;
const user = (content: unknown) => ({ role: 'user', content });

describe('gemini adapter: requests', () => {
  it('posts to models/{model}:generateContent, or :streamGenerateContent?alt=sse, with the key in a header, not the URL', () => {
    const whole = gemini.chatRequest(target, { model: 'g', messages: [user('hi')] });
    assert.equal(whole.path, '/models/gemini-2.5-flash:generateContent');
    assert.equal(whole.headers['x-goog-api-key'], 'AIza-secret');
    assert.doesNotMatch(whole.path, /key=/);
    const stream = gemini.chatRequest({ ...target, upstreamModel: 'models/gemini-2.5-pro' }, { model: 'g', messages: [user('hi')], stream: true });
    assert.equal(stream.path, '/models/gemini-2.5-pro:streamGenerateContent?alt=sse');
    assert.equal(JSON.parse(stream.body ?? '').stream, undefined, 'Gemini has no stream field');
  });

  const table: { name: string; body: Req; expect: Record<string, unknown> }[] = [
    {
      name: 'text',
      body: { messages: [user('Hello')] },
      expect: { contents: [{ role: 'user', parts: [{ text: 'Hello' }] }] },
    },
    {
      name: 'system messages become systemInstruction',
      body: { messages: [{ role: 'system', content: 'Be terse.' }, { role: 'developer', content: 'No emoji.' }, user('Hi')] },
      expect: { systemInstruction: { parts: [{ text: 'Be terse.' }, { text: 'No emoji.' }] }, contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] },
    },
    {
      name: 'multi-turn: assistant turns are role "model"; same-role neighbours merge',
      body: { messages: [user('a'), user('b'), { role: 'assistant', content: 'c' }, user('d')] },
      expect: {
        contents: [
          { role: 'user', parts: [{ text: 'a' }, { text: 'b' }] },
          { role: 'model', parts: [{ text: 'c' }] },
          { role: 'user', parts: [{ text: 'd' }] },
        ],
      },
    },
    {
      name: 'images travel inline',
      body: { messages: [user([{ type: 'text', text: 'What?' }, { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ' } }])] },
      expect: { contents: [{ role: 'user', parts: [{ text: 'What?' }, { inlineData: { mimeType: 'image/jpeg', data: '/9j/4AAQ' } }] }] },
    },
    {
      name: 'parallel tool calls and results: functionCall parts, then functionResponse parts found by the call id',
      body: {
        messages: [
          user('Weather?'),
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
              { id: 'c2', type: 'function', function: { name: 'time', arguments: '{}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'c1', content: '{"temp":3}' },
          { role: 'tool', tool_call_id: 'c2', content: 'noon' },
        ],
        tools: [
          { type: 'function', function: { name: 'weather', description: 'forecast', parameters: { type: 'object', properties: { city: { type: 'string' } }, additionalProperties: false } } },
          { type: 'function', function: { name: 'time' } },
        ],
        tool_choice: 'required',
      },
      expect: {
        contents: [
          { role: 'user', parts: [{ text: 'Weather?' }] },
          { role: 'model', parts: [{ functionCall: { name: 'weather', args: { city: 'Oslo' } } }, { functionCall: { name: 'time', args: {} } }] },
          { role: 'user', parts: [{ functionResponse: { name: 'weather', response: { temp: 3 } } }, { functionResponse: { name: 'time', response: { content: 'noon' } } }] },
        ],
        tools: [
          {
            functionDeclarations: [
              { name: 'weather', description: 'forecast', parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' } }, additionalProperties: false } },
              { name: 'time' },
            ],
          },
        ],
        toolConfig: { functionCallingConfig: { mode: 'ANY' } },
      },
    },
    {
      name: 'generation config: max tokens, sampling, stop sequences, JSON output',
      body: { messages: [user('x')], max_tokens: 64, temperature: 1.5, top_p: 0.8, stop: 'END', seed: 3, response_format: { type: 'json_object' } },
      expect: { generationConfig: { maxOutputTokens: 64, temperature: 1.5, topP: 0.8, stopSequences: ['END'], seed: 3, responseMimeType: 'application/json' } },
    },
    {
      name: 'a named tool choice restricts the allowed functions',
      body: { messages: [user('x')], tools: [{ type: 'function', function: { name: 'f' } }], tool_choice: { type: 'function', function: { name: 'f' } } },
      expect: { toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['f'] } } },
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      const body = out(row.body);
      for (const [key, value] of Object.entries(row.expect)) assert.deepEqual(body[key], value, key);
    });
  }

  it('refuses what it cannot translate with a final 400 naming the field', () => {
    const check = (body: Req, pattern: RegExp) =>
      assert.throws(
        () => gemini.chatRequest(target, { model: 'm', ...body }),
        (err: unknown) => err instanceof UpstreamError && err.failure.status === 400 && !err.failure.retryable && pattern.test(err.failure.message),
      );
    check({ messages: [user([{ type: 'image_url', image_url: { url: 'https://x.test/a.png' } }])] }, /messages\[0\]\.content\[0\]\.image_url\.url.*data: URL/);
    check({ messages: [{ role: 'tool', tool_call_id: 'unknown', content: 'x' }] }, /messages\[0\]\.tool_call_id/);
  });

  it('sends reasoning_effort as thinkingConfig: a level on Gemini 3, a token budget on Gemini 2.5, never both', () => {
    const think = (upstreamModel: string, reasoning_effort: string) => {
      const req = gemini.chatRequest({ ...target, upstreamModel }, { model: 'g', messages: [user('x')], reasoning_effort });
      return (JSON.parse(req.body ?? '') as { generationConfig?: { thinkingConfig?: unknown } }).generationConfig?.thinkingConfig;
    };
    assert.deepEqual(think('gemini-2.5-flash', 'high'), { thinkingBudget: 24_576 });
    assert.deepEqual(think('gemini-2.5-flash', 'low'), { thinkingBudget: 1024 });
    assert.deepEqual(think('gemini-2.5-flash', 'none'), { thinkingBudget: 0 }, 'thinking off where Gemini allows it');
    assert.deepEqual(think('models/gemini-2.5-pro', 'none'), { thinkingBudget: 128 }, 'Pro cannot switch thinking off: its least');
    assert.deepEqual(think('gemini-3-flash-preview', 'medium'), { thinkingLevel: 'medium' });
    assert.deepEqual(think('gemini-3.1-flash-lite', 'minimal'), { thinkingLevel: 'minimal' });
    assert.deepEqual(think('gemini-3-pro-preview', 'medium'), { thinkingLevel: 'high' }, 'Pro knows low and high only');
    assert.deepEqual(think('gemini-3-pro-preview', 'minimal'), { thinkingLevel: 'low' });
    assert.deepEqual(think('my-tuned-model', 'medium'), { thinkingBudget: 8192 }, 'a name Shepherd cannot place gets the budget, which every generation accepts');
    assert.equal(think('gemini-2.5-flash', 'extreme'), undefined);
    assert.equal(out({ messages: [user('x')] }).generationConfig, undefined, 'nothing without an effort');
  });

  it('gives an Anthropic client\'s thinking budget to Gemini through its reasoning_effort', () => {
    const body = toChatBody(parseMessagesRequest({ model: 'g', max_tokens: 32_000, thinking: { type: 'enabled', budget_tokens: 20_000 }, messages: [{ role: 'user', content: 'hi' }] }));
    const req = gemini.chatRequest({ ...target, upstreamModel: 'gemini-3-flash-preview' }, body);
    assert.deepEqual((JSON.parse(req.body ?? '') as { generationConfig: { thinkingConfig: unknown } }).generationConfig.thinkingConfig, { thinkingLevel: 'high' });
  });

  it('probes health with the model list', () => {
    const probe = gemini.probeRequest(target);
    assert.deepEqual([probe.method, probe.path], ['GET', '/models']);
    assert.equal(probe.headers['x-goog-api-key'], 'AIza-secret');
  });
});

describe('gemini adapter: whole answers', () => {
  it('turns text, parallel function calls and usage metadata into an OpenAI completion', () => {
    const response = {
      candidates: [
        {
          content: {
            role: 'model',
            parts: [
              { text: 'thinking...', thought: true },
              { text: 'Checking.' },
              { functionCall: { name: 'weather', args: { city: 'Oslo' } } },
              { functionCall: { name: 'time', args: {} } },
            ],
          },
          finishReason: 'STOP',
          index: 0,
        },
      ],
      usageMetadata: { promptTokenCount: 100, candidatesTokenCount: 20, thoughtsTokenCount: 5, cachedContentTokenCount: 60, totalTokenCount: 125 },
      modelVersion: 'gemini-2.5-flash',
      responseId: 'resp-1',
    };
    const { body, usage } = gemini.parseChatResponse(JSON.stringify(response));
    const c = JSON.parse(body);
    assert.equal(c.id, 'resp-1');
    assert.equal(c.model, 'gemini-2.5-flash');
    assert.equal(c.choices[0].message.content, 'Checking.');
    assert.equal(c.choices[0].finish_reason, 'tool_calls');
    const calls = c.choices[0].message.tool_calls;
    assert.deepEqual(
      calls.map((t: { function: unknown }) => t.function),
      [
        { name: 'weather', arguments: '{"city":"Oslo"}' },
        { name: 'time', arguments: '{}' },
      ],
    );
    assert.ok(calls[0].id && calls[0].id !== calls[1].id, 'each call gets its own id');
    assert.deepEqual(usage, { promptTokens: 100, completionTokens: 25, cachedTokens: 60 });
    assert.equal(c.usage.prompt_tokens_details.cached_tokens, 60);
  });

  for (const [reason, finish] of [
    ['STOP', 'stop'],
    ['MAX_TOKENS', 'length'],
    ['SAFETY', 'content_filter'],
    ['RECITATION', 'content_filter'],
    ['PROHIBITED_CONTENT', 'content_filter'],
  ]) {
    it(`maps finishReason ${reason} to ${finish}`, () => {
      const response = { candidates: [{ content: { role: 'model', parts: [{ text: 'x' }] }, finishReason: reason }] };
      assert.equal(JSON.parse(gemini.parseChatResponse(JSON.stringify(response)).body).choices[0].finish_reason, finish);
    });
  }

  it('answers a blocked prompt as a content_filter finish that says why, not as an error', () => {
    const blocked = { promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 9, totalTokenCount: 9 } };
    const { body, usage } = gemini.parseChatResponse(JSON.stringify(blocked));
    const choice = JSON.parse(body).choices[0];
    assert.equal(choice.finish_reason, 'content_filter');
    assert.equal(choice.message.content, null);
    assert.match(choice.message.refusal, /blocked the prompt \(SAFETY\)/);
    assert.deepEqual(usage, { promptTokens: 9, completionTokens: 0 });
  });
});

function runStream(events: unknown[], clientWantsUsage = false) {
  const t = gemini.streamTranslator({ clientWantsUsage });
  const frames = events.flatMap((e) => t.push({ data: JSON.stringify(e) }));
  const done = t.done();
  frames.push(...t.end());
  const chunks = frames.filter((f) => f !== 'data: [DONE]\n\n').map((f) => JSON.parse(f.slice(6)));
  let content = '';
  let finish: string | null = null;
  let refusal = '';
  const calls: { id?: string; name?: string; arguments: string }[] = [];
  let usageChunk: Record<string, number> | undefined;
  for (const c of chunks) {
    if (c.usage) usageChunk = c.usage;
    const choice = c.choices[0];
    if (!choice) continue;
    content += choice.delta.content ?? '';
    refusal += choice.delta.refusal ?? '';
    for (const call of choice.delta.tool_calls ?? []) {
      calls[call.index] ??= { arguments: '' };
      if (call.id) calls[call.index].id = call.id;
      if (call.function?.name) calls[call.index].name = call.function.name;
      calls[call.index].arguments += call.function?.arguments ?? '';
    }
    if (choice.finish_reason) finish = choice.finish_reason;
  }
  return { frames, content, finish, calls, refusal, usageChunk, usage: t.usage(), done };
}

const piece = (parts: unknown[], extra: Record<string, unknown> = {}, usage?: Record<string, number>) => ({
  candidates: [{ content: { role: 'model', parts }, index: 0, ...extra }],
  ...(usage ? { usageMetadata: usage } : {}),
  modelVersion: 'gemini-2.5-flash',
  responseId: 'r1',
});

describe('gemini adapter: stream translation', () => {
  it('streams text pieces, finishes on the last, and takes usage from the last metadata', () => {
    const r = runStream(
      [
        piece([{ text: 'Hel' }], {}, { promptTokenCount: 7, candidatesTokenCount: 1 }),
        piece([{ text: 'lo' }], {}, { promptTokenCount: 7, candidatesTokenCount: 2 }),
        piece([{ text: '!' }], { finishReason: 'STOP' }, { promptTokenCount: 7, candidatesTokenCount: 3, totalTokenCount: 10 }),
      ],
      true,
    );
    assert.equal(r.content, 'Hello!');
    assert.equal(r.finish, 'stop');
    assert.equal(r.done, true);
    assert.deepEqual(r.usage, { promptTokens: 7, completionTokens: 3 });
    assert.deepEqual([r.usageChunk?.prompt_tokens, r.usageChunk?.completion_tokens], [7, 3]);
    assert.equal(r.frames.at(-1), 'data: [DONE]\n\n');
  });

  it('streams whole function calls as tool_calls with distinct indexes and finishes with tool_calls', () => {
    const r = runStream([
      piece([{ functionCall: { name: 'weather', args: { city: 'Oslo' } } }]),
      piece([{ functionCall: { name: 'time', args: {} } }], { finishReason: 'STOP' }, { promptTokenCount: 5, candidatesTokenCount: 8 }),
    ]);
    assert.deepEqual(
      r.calls.map((c) => [c.name, c.arguments]),
      [
        ['weather', '{"city":"Oslo"}'],
        ['time', '{}'],
      ],
    );
    assert.ok(r.calls.every((c) => c.id));
    assert.equal(r.finish, 'tool_calls');
    assert.equal(r.usageChunk, undefined);
  });

  it('closes with content_filter and the reason when safety stops the answer mid-way', () => {
    const r = runStream([piece([{ text: 'Once' }]), piece([], { finishReason: 'SAFETY' })]);
    assert.equal(r.content, 'Once');
    assert.equal(r.finish, 'content_filter');
    assert.match(r.refusal, /SAFETY/);
  });

  it('answers a blocked prompt in a stream with a content_filter finish', () => {
    const r = runStream([{ promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, usageMetadata: { promptTokenCount: 4 } }]);
    assert.equal(r.finish, 'content_filter');
    assert.match(r.refusal, /PROHIBITED_CONTENT/);
    assert.equal(r.done, true);
  });

  it('throws an error object inside the stream as a failure with its verdict', () => {
    const t = gemini.streamTranslator({ clientWantsUsage: false });
    assert.throws(
      () => t.push({ data: JSON.stringify({ error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } }) }),
      (err: unknown) => err instanceof UpstreamError && err.failure.retryable && err.failure.status === 503,
    );
  });
});

describe('gemini adapter: error verdicts', () => {
  const body = (code: number, status: string, message: string, details: unknown[] = []) => JSON.stringify({ error: { code, message, status, details } });

  it('treats 503 UNAVAILABLE and 429 RESOURCE_EXHAUSTED as retryable, with RetryInfo as the wait', () => {
    const unavailable = gemini.classifyStatus(503, {}, body(503, 'UNAVAILABLE', 'The model is overloaded.'));
    assert.deepEqual([unavailable.status, unavailable.retryable, unavailable.type, unavailable.code], [503, true, 'api_error', 'unavailable']);
    const exhausted = gemini.classifyStatus(
      429,
      {},
      body(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded', [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '37s' }]),
    );
    assert.deepEqual([exhausted.status, exhausted.retryable, exhausted.retryAfterMs, exhausted.type], [429, true, 37_000, 'rate_limit_error']);
  });

  it('reports a bad API key (400 API_KEY_INVALID) as a final 401', () => {
    const f = gemini.classifyStatus(
      400,
      {},
      body(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' }]),
    );
    assert.deepEqual([f.status, f.retryable, f.type], [401, false, 'authentication_error']);
  });

  it('keeps other client errors final with the upstream message', () => {
    const f = gemini.classifyStatus(400, {}, body(400, 'INVALID_ARGUMENT', '* contents: must not be empty'));
    assert.deepEqual([f.status, f.retryable, f.message, f.type], [400, false, '* contents: must not be empty', 'invalid_request_error']);
    const missing = gemini.classifyStatus(404, {}, body(404, 'NOT_FOUND', 'models/x is not found'));
    assert.deepEqual([missing.status, missing.retryable, missing.type], [404, false, 'not_found_error']);
  });
});
