// The Anthropic Messages adapter against Anthropic's wire shapes: OpenAI requests out, messages,
// stream events and errors back in OpenAI terms.
import assert from 'node:assert/strict';
import { anthropic } from '../../daemon/formats/anthropic/adapter';
import type { UpstreamTarget } from '../../daemon/core/target';
import type { ChatBody } from '../../daemon/core/chat';
import { UpstreamError } from '../../daemon/core/failure';

const target: UpstreamTarget = {
  deploymentId: 'anthropic/claude',
  providerName: 'anthropic',
  provider: { type: 'anthropic', baseUrl: 'https://api.anthropic.com/v1', headers: { 'x-extra': '1' } },
  upstreamModel: 'claude-sonnet-4-5',
  apiKey: 'sk-ant-secret',
};

/** A request body without the model, which the adapter replaces anyway. */
type Req = Omit<ChatBody, 'model' | 'messages'> & { messages: unknown[] };

const out = (body: Req, t: UpstreamTarget = target) =>
  JSON.parse(anthropic.chatRequest(t, { model: 'group', ...body }).body ?? '') as Record<string, unknown>;

const user = (content: unknown) => ({ role: 'user', content });
const text = (t: string) => ({ type: 'text', text: t });

describe('anthropic adapter: requests', () => {
  it('sends POST /messages with x-api-key, anthropic-version and the provider headers, never a bearer token', () => {
    const req = anthropic.chatRequest(target, { model: 'group', messages: [user('hi')] });
    assert.equal(req.method, 'POST');
    assert.equal(req.path, '/messages');
    assert.equal(req.headers['x-api-key'], 'sk-ant-secret');
    assert.equal(req.headers['anthropic-version'], '2023-06-01');
    assert.equal(req.headers['x-extra'], '1');
    assert.equal(req.headers.authorization, undefined);
    const pinned = anthropic.chatRequest({ ...target, provider: { ...target.provider, anthropicVersion: '2099-01-01' } }, { model: 'm', messages: [user('x')] });
    assert.equal(pinned.headers['anthropic-version'], '2099-01-01');
  });

  const table: { name: string; body: Req; expect: Record<string, unknown> }[] = [
    {
      name: 'text: the upstream model, and max_tokens made explicit (documented default 4096)',
      body: { messages: [user('Hello')] },
      expect: { model: 'claude-sonnet-4-5', max_tokens: 4096, messages: [{ role: 'user', content: [text('Hello')] }] },
    },
    {
      name: 'system and developer messages move to the top-level system',
      body: { messages: [{ role: 'system', content: 'Be terse.' }, { role: 'developer', content: [text('No emoji.')] }, user('Hi')], max_tokens: 50 },
      expect: { system: [text('Be terse.'), text('No emoji.')], max_tokens: 50, messages: [{ role: 'user', content: [text('Hi')] }] },
    },
    {
      name: 'multi-turn keeps the order; same-role neighbours merge so turns alternate',
      body: { messages: [user('a'), user('b'), { role: 'assistant', content: 'c' }, user('d')], max_completion_tokens: 9, max_tokens: 99 },
      expect: {
        max_tokens: 9,
        messages: [
          { role: 'user', content: [text('a'), text('b')] },
          { role: 'assistant', content: [text('c')] },
          { role: 'user', content: [text('d')] },
        ],
      },
    },
    {
      name: 'images: data URLs become base64 sources, http URLs url sources',
      body: {
        messages: [
          user([text('What is this?'), { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }, { type: 'image_url', image_url: { url: 'https://x.test/a.jpg' } }]),
        ],
      },
      expect: {
        messages: [
          {
            role: 'user',
            content: [
              text('What is this?'),
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
              { type: 'image', source: { type: 'url', url: 'https://x.test/a.jpg' } },
            ],
          },
        ],
      },
    },
    {
      name: 'parallel tool calls and their results: tool_use blocks, then one user turn of tool_result blocks before the next text',
      body: {
        messages: [
          user('Weather in Oslo and Rome?'),
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
              { id: 'call_2', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'call_1', content: '3C' },
          { role: 'tool', tool_call_id: 'call_2', content: [text('21C')] },
          user('Thanks'),
        ],
        tools: [{ type: 'function', function: { name: 'weather', description: 'forecast', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
        tool_choice: 'required',
        parallel_tool_calls: false,
      },
      expect: {
        messages: [
          { role: 'user', content: [text('Weather in Oslo and Rome?')] },
          {
            role: 'assistant',
            content: [
              { type: 'tool_use', id: 'call_1', name: 'weather', input: { city: 'Oslo' } },
              { type: 'tool_use', id: 'call_2', name: 'weather', input: { city: 'Rome' } },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 'call_1', content: '3C' },
              { type: 'tool_result', tool_use_id: 'call_2', content: [text('21C')] },
              text('Thanks'),
            ],
          },
        ],
        tools: [{ name: 'weather', description: 'forecast', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
        tool_choice: { type: 'any', disable_parallel_tool_use: true },
      },
    },
    {
      name: 'stop sequences, sampling, user and stream',
      body: { messages: [user('x')], stop: ['END', 'STOP'], temperature: 1.7, top_p: 0.9, user: 'u-1', stream: true },
      expect: { stop_sequences: ['END', 'STOP'], temperature: 1, top_p: 0.9, metadata: { user_id: 'u-1' }, stream: true },
    },
    {
      name: 'a single stop string and a named tool choice',
      body: {
        messages: [user('x')],
        stop: 'END',
        tools: [{ type: 'function', function: { name: 'f' } }],
        tool_choice: { type: 'function', function: { name: 'f' } },
      },
      expect: { stop_sequences: ['END'], tools: [{ name: 'f', input_schema: { type: 'object', properties: {} } }], tool_choice: { type: 'tool', name: 'f' } },
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      const body = out(row.body);
      for (const [key, value] of Object.entries(row.expect)) assert.deepEqual(body[key], value, key);
    });
  }

  it('uses the provider\'s defaultMaxTokens when the client set none', () => {
    assert.equal(out({ messages: [user('x')] }, { ...target, provider: { ...target.provider, defaultMaxTokens: 1234 } }).max_tokens, 1234);
  });

  it('refuses what Anthropic cannot carry with a final 400 that names the field', () => {
    const attempt = (body: Req) => () => anthropic.chatRequest(target, { model: 'm', ...body });
    const final = (pattern: RegExp) => (err: unknown) => {
      assert.ok(err instanceof UpstreamError);
      assert.equal(err.failure.status, 400);
      assert.equal(err.failure.retryable, false);
      assert.match(err.failure.message, pattern);
      return true;
    };
    assert.throws(attempt({ messages: [user([{ type: 'input_audio', input_audio: {} }])] }), final(/messages\[0\]\.content\[0\].*input_audio/));
    assert.throws(
      attempt({ messages: [{ role: 'assistant', tool_calls: [{ id: 'c', function: { name: 'f', arguments: '{broken' } }] }] }),
      final(/messages\[0\]\.tool_calls\[0\]\.function\.arguments/),
    );
    assert.throws(attempt({ messages: [user('x')], n: 2 }), final(/n > 1/));
  });

  it('probes health with the model list', () => {
    const probe = anthropic.probeRequest(target);
    assert.deepEqual([probe.method, probe.path, probe.body], ['GET', '/models', undefined]);
    assert.equal(probe.headers['x-api-key'], 'sk-ant-secret');
  });
});

describe('anthropic adapter: whole answers', () => {
  it('turns text and parallel tool_use blocks into one OpenAI message with tool_calls', () => {
    const message = {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [
        { type: 'thinking', thinking: 'hmm', signature: 's' },
        { type: 'text', text: 'Checking both.' },
        { type: 'tool_use', id: 'toolu_a', name: 'weather', input: { city: 'Oslo' } },
        { type: 'tool_use', id: 'toolu_b', name: 'weather', input: { city: 'Rome' } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 10, output_tokens: 30, cache_read_input_tokens: 100, cache_creation_input_tokens: 5 },
    };
    const { body, usage } = anthropic.parseChatResponse(JSON.stringify(message));
    const completion = JSON.parse(body);
    assert.equal(completion.object, 'chat.completion');
    assert.equal(completion.id, 'msg_1');
    assert.equal(completion.choices[0].message.content, 'Checking both.');
    assert.equal(completion.choices[0].message.reasoning_content, 'hmm', 'the thinking text comes back as reasoning_content');
    assert.deepEqual(completion.choices[0].message.tool_calls, [
      { id: 'toolu_a', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
      { id: 'toolu_b', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
    ]);
    assert.equal(completion.choices[0].finish_reason, 'tool_calls');
    // OpenAI's prompt count includes cache reads and writes; the cached part is the reads.
    assert.equal(completion.usage.prompt_tokens, 115);
    assert.equal(completion.usage.completion_tokens, 30);
    assert.equal(completion.usage.prompt_tokens_details.cached_tokens, 100);
    assert.deepEqual(usage, { promptTokens: 115, completionTokens: 30, cachedTokens: 100, cacheWriteTokens: 5 });
  });

  for (const [stop, finish] of [
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
  ]) {
    it(`maps stop_reason ${stop} to finish_reason ${finish}`, () => {
      const message = { id: 'm', model: 'c', content: [{ type: 'text', text: 'x' }], stop_reason: stop, usage: { input_tokens: 1, output_tokens: 1 } };
      assert.equal(JSON.parse(anthropic.parseChatResponse(JSON.stringify(message)).body).choices[0].finish_reason, finish);
    });
  }

  it('throws on a body that is not a message, so the router treats it as a protocol failure', () => {
    assert.throws(() => anthropic.parseChatResponse('<html>'), SyntaxError);
    assert.throws(() => anthropic.parseChatResponse('{"type":"error"}'), SyntaxError);
  });
});

/** Feeds Anthropic events through a translator and reassembles what an OpenAI client would see. */
function runStream(events: { type: string; [k: string]: unknown }[], clientWantsUsage = false) {
  const t = anthropic.streamTranslator({ clientWantsUsage });
  const frames = events.flatMap((e) => t.push({ event: e.type, data: JSON.stringify(e) }));
  const done = t.done();
  frames.push(...t.end());
  const chunks = frames.filter((f) => f !== 'data: [DONE]\n\n').map((f) => JSON.parse(f.slice(6)));
  let content = '';
  const calls: { id?: string; name?: string; arguments: string }[] = [];
  let finish: string | null = null;
  let usageChunk: Record<string, number> | undefined;
  for (const c of chunks) {
    if (c.usage) usageChunk = c.usage;
    const choice = c.choices[0];
    if (!choice) continue;
    content += choice.delta.content ?? '';
    for (const call of choice.delta.tool_calls ?? []) {
      calls[call.index] ??= { arguments: '' };
      if (call.id) calls[call.index].id = call.id;
      if (call.function?.name) calls[call.index].name = call.function.name;
      calls[call.index].arguments += call.function?.arguments ?? '';
    }
    if (choice.finish_reason) finish = choice.finish_reason;
  }
  return { frames, chunks, content, calls, finish, usageChunk, usage: t.usage(), done };
}

const start = (usage: Record<string, number>) => ({
  type: 'message_start',
  message: { id: 'msg_s', type: 'message', role: 'assistant', model: 'claude-x', content: [], stop_reason: null, usage },
});

describe('anthropic adapter: stream translation', () => {
  it('turns text deltas into content chunks, with the finish reason and usage from message_delta', () => {
    const r = runStream([
      start({ input_tokens: 12, output_tokens: 1, cache_read_input_tokens: 8, cache_creation_input_tokens: 0 }),
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'ping' },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: ' world' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'message_delta', delta: { stop_reason: 'max_tokens', stop_sequence: null }, usage: { output_tokens: 7 } },
      { type: 'message_stop' },
    ]);
    assert.equal(r.content, 'Hello world');
    assert.equal(r.finish, 'length');
    assert.equal(r.done, true);
    assert.equal(r.chunks[0].choices[0].delta.role, 'assistant');
    assert.ok(r.chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === 'msg_s' && c.model === 'claude-x'));
    assert.deepEqual(r.usage, { promptTokens: 20, completionTokens: 7, cachedTokens: 8 });
    assert.equal(r.usageChunk, undefined, 'no usage chunk for a client that did not ask');
    assert.equal(r.frames.at(-1), 'data: [DONE]\n\n');
  });

  it('streams parallel tool_use blocks as tool_calls with their input JSON deltas', () => {
    const r = runStream(
      [
        start({ input_tokens: 50, output_tokens: 1 }),
        { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
        { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Let me check.' } },
        { type: 'content_block_stop', index: 0 },
        { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: 'weather', input: {} } },
        { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '' } },
        { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"city":' } },
        { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '"Oslo"}' } },
        { type: 'content_block_stop', index: 1 },
        { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'toolu_2', name: 'time', input: {} } },
        { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{"tz":"CET"}' } },
        { type: 'content_block_stop', index: 2 },
        { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 40 } },
        { type: 'message_stop' },
      ],
      true,
    );
    assert.equal(r.content, 'Let me check.');
    assert.deepEqual(r.calls, [
      { id: 'toolu_1', name: 'weather', arguments: '{"city":"Oslo"}' },
      { id: 'toolu_2', name: 'time', arguments: '{"tz":"CET"}' },
    ]);
    assert.equal(r.finish, 'tool_calls');
    assert.equal(r.usageChunk?.prompt_tokens, 50);
    assert.equal(r.usageChunk?.completion_tokens, 40);
    assert.equal(r.chunks.at(-1).choices.length, 0, 'the usage chunk has no choices, as OpenAI sends it');
  });

  it('takes input and cache counts from message_delta when the upstream reports them there', () => {
    const r = runStream([
      start({ input_tokens: 0, output_tokens: 0 }),
      { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { input_tokens: 30, output_tokens: 4, cache_creation_input_tokens: 10 } },
      { type: 'message_stop' },
    ]);
    assert.deepEqual(r.usage, { promptTokens: 40, completionTokens: 4, cacheWriteTokens: 10 });
  });

  it('throws an overloaded error event as a retryable failure, and a bad request as final', () => {
    const t = anthropic.streamTranslator({ clientWantsUsage: false });
    t.push({ data: JSON.stringify(start({ input_tokens: 1, output_tokens: 1 })) });
    const overloaded = JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    assert.throws(
      () => t.push({ event: 'error', data: overloaded }),
      (err: unknown) => err instanceof UpstreamError && err.failure.retryable && err.failure.status === 503 && err.failure.message === 'Overloaded',
    );
    const bad = JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: 'nope' } });
    assert.throws(
      () => anthropic.streamTranslator({ clientWantsUsage: false }).push({ event: 'error', data: bad }),
      (err: unknown) => err instanceof UpstreamError && !err.failure.retryable && err.failure.status === 400,
    );
  });

  it('is not done until message_stop', () => {
    const t = anthropic.streamTranslator({ clientWantsUsage: false });
    t.push({ data: JSON.stringify(start({ input_tokens: 1, output_tokens: 1 })) });
    assert.equal(t.done(), false);
  });
});

describe('anthropic adapter: error verdicts', () => {
  const body = (type: string, message: string) => JSON.stringify({ type: 'error', error: { type, message } });

  it('treats 529 overloaded as a retryable outage, shown to OpenAI clients as 503', () => {
    const f = anthropic.classifyStatus(529, {}, body('overloaded_error', 'Overloaded'));
    assert.deepEqual(
      { status: f.status, retryable: f.retryable, message: f.message, type: f.type, code: f.code },
      { status: 503, retryable: true, message: 'Overloaded', type: 'api_error', code: 'overloaded_error' },
    );
  });

  it('keeps rate limits retryable with Retry-After, and bad requests, auth and not-found final', () => {
    const limited = anthropic.classifyStatus(429, { 'retry-after': '3' }, body('rate_limit_error', 'slow down'));
    assert.deepEqual([limited.status, limited.retryable, limited.retryAfterMs, limited.type], [429, true, 3000, 'rate_limit_error']);
    for (const [status, type] of [
      [400, 'invalid_request_error'],
      [401, 'authentication_error'],
      [403, 'permission_error'],
      [404, 'not_found_error'],
    ] as const) {
      const f = anthropic.classifyStatus(status, {}, body(type, 'x'));
      assert.deepEqual([f.status, f.retryable, f.type], [status, false, type], type);
    }
    const big = anthropic.classifyStatus(413, {}, body('request_too_large', 'too big'));
    assert.deepEqual([big.status, big.retryable, big.type], [413, false, 'invalid_request_error']);
  });

  it('describes a non-JSON error page by its text', () => {
    const f = anthropic.classifyStatus(502, {}, '<html>Bad gateway</html>');
    assert.equal(f.retryable, true);
    assert.equal(f.message, '<html>Bad gateway</html>');
  });
});
