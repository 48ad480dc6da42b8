// Native providers end to end: the official `openai` client routed to Anthropic-format and
// Gemini-format sandboxes, the official `@anthropic-ai/sdk` routed through POST /v1/messages to an
// OpenAI-format one, and failover across providers of different wire formats in one group.
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { ShepherdConfigInput } from '../../shared/config';
import type { Sandbox } from '../../daemon/sandbox/server';
import { startHarness, startSandboxes, type Harness } from '../support/harness';

type Format = 'openai-compatible' | 'anthropic' | 'gemini';

/** Group "chat": one deployment per sandbox, each speaking the given wire format. */
function mixedConfig(sandboxes: Sandbox[], formats: Format[]): ShepherdConfigInput {
  const providers: NonNullable<ShepherdConfigInput['providers']> = {};
  sandboxes.forEach((s, i) => {
    const f = formats[i];
    const baseUrl = f === 'gemini' ? s.urls.gemini : f === 'anthropic' ? s.urls.anthropic : s.urls.openai;
    providers[`p${i}`] = { type: f, baseUrl, apiKey: `key-${i}-secret` };
  });
  return {
    sandbox: false,
    providers,
    models: {
      chat: {
        price: { input: 2, output: 8, cachedInput: 1 },
        deployments: sandboxes.map((_, i) => ({ provider: `p${i}`, model: `model-${i}` })),
      },
    },
    upstream: { connectMs: 2_000, firstByteMs: 5_000, idleMs: 5_000 },
    // No probes (they would interleave with the requests tests inspect), no second rounds and no
    // breaker ejections, so each test sees exactly the attempts it scripts.
    routing: { health: { probes: { enabled: false } }, retry: { rounds: 0 }, breaker: { failureThreshold: 1000, errorRate: 1 } },
  };
}

const messages: OpenAI.ChatCompletionMessageParam[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Tell me about the flock.' },
];
const tools: OpenAI.ChatCompletionTool[] = [
  { type: 'function', function: { name: 'lookup', description: 'find', parameters: { type: 'object', properties: { query: { type: 'string' } } } } },
];

async function collect(stream: AsyncIterable<OpenAI.ChatCompletionChunk>) {
  let text = '';
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | undefined;
  const calls: { id?: string; name?: string; arguments: string }[] = [];
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) continue;
    text += choice.delta.content ?? '';
    for (const c of choice.delta.tool_calls ?? []) {
      calls[c.index] ??= { arguments: '' };
      if (c.id) calls[c.index].id = c.id;
      if (c.function?.name) calls[c.index].name = c.function.name;
      calls[c.index].arguments += c.function?.arguments ?? '';
    }
    if (choice.finish_reason) finish = choice.finish_reason;
  }
  return { text, finish, usage, calls };
}

const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

/** Request shapes every translation must carry there and back. */
const openaiShapes: { name: string; params: Omit<OpenAI.ChatCompletionCreateParamsNonStreaming, 'model'> }[] = [
  { name: 'text', params: { messages: [{ role: 'user', content: 'Hi' }] } },
  { name: 'system', params: { messages } },
  {
    name: 'multi-turn',
    params: {
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello.' },
        { role: 'user', content: 'And now?' },
      ],
    },
  },
  {
    name: 'image',
    params: { messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: PNG } }] }] },
  },
  {
    name: 'parallel tool calls and their results',
    params: {
      tools,
      messages: [
        { role: 'user', content: 'Find two things.' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"query":"ram"}' } },
            { id: 'call_2', type: 'function', function: { name: 'lookup', arguments: '{"query":"ewe"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'by the gate' },
        { role: 'tool', tool_call_id: 'call_2', content: '{"where":"hill"}' },
      ],
    },
  },
  { name: 'stop sequences', params: { messages: [{ role: 'user', content: 'Hi' }], stop: ['never-in-a-reply'] } },
];

for (const format of ['anthropic', 'gemini'] as const) {
  describe(`providers: the openai client through a ${format}-format upstream`, function () {
    let h: Harness;
    before(async () => {
      const sandboxes = await startSandboxes(1);
      h = await startHarness(mixedConfig(sandboxes, [format]), { sandboxes });
    });
    after(() => h.close());
    afterEach(() => h.sandboxes[0].clearFaults());

    const upstream = () => h.sandboxes[0].requests.at(-1)!;

    it('answers text with finish reason and usage, and the ledger prices it', async () => {
      const { data, response } = await h.client.chat.completions.create({ model: 'chat', messages }).withResponse();
      assert.match(data.choices[0].message.content ?? '', /^\[sandbox\]( \w+)+$/);
      assert.equal(data.choices[0].finish_reason, 'stop');
      assert.ok(data.usage && data.usage.prompt_tokens > 0 && data.usage.completion_tokens > 0);
      const entry = (await h.ledgerEntries()).find((e) => e.id === response.headers.get('x-request-id'));
      assert.equal(entry?.promptTokens, data.usage.prompt_tokens);
      assert.equal(entry?.completionTokens, data.usage.completion_tokens);
      assert.ok(Math.abs((entry?.costUsd ?? 0) - (data.usage.prompt_tokens * 2 + data.usage.completion_tokens * 8) / 1e6) < 1e-12);
      // The upstream saw its own wire format and its own key header.
      const seen = upstream();
      if (format === 'anthropic') {
        assert.equal(seen.path, '/v1/messages');
        assert.equal(seen.headers['x-api-key'], 'key-0-secret');
        assert.deepEqual((seen.body as { system: unknown }).system, [{ type: 'text', text: 'You are terse.' }]);
      } else {
        assert.equal(seen.path, '/v1beta/models/model-0:generateContent');
        assert.equal(seen.headers['x-goog-api-key'], 'key-0-secret');
        assert.deepEqual((seen.body as { systemInstruction: unknown }).systemInstruction, { parts: [{ text: 'You are terse.' }] });
      }
      assert.equal(seen.headers.authorization, undefined);
    });

    it('streams the same text, and gives usage to a client that asks and prices the stream', async () => {
      const whole = await h.client.chat.completions.create({ model: 'chat', messages });
      const { data, response } = await h.client.chat.completions
        .create({ model: 'chat', messages, stream: true, stream_options: { include_usage: true } })
        .withResponse();
      const r = await collect(data);
      assert.equal(r.text, whole.choices[0].message.content);
      assert.equal(r.finish, 'stop');
      assert.deepEqual(
        [r.usage?.prompt_tokens, r.usage?.completion_tokens],
        [whole.usage?.prompt_tokens, whole.usage?.completion_tokens],
      );
      const entry = (await h.ledgerEntries()).find((e) => e.id === response.headers.get('x-request-id'));
      assert.equal(entry?.completionTokens, whole.usage?.completion_tokens);
      assert.ok((entry?.costUsd ?? 0) > 0);
      if (format === 'gemini') assert.match(upstream().path, /:streamGenerateContent\?alt=sse$/);
    });

    it('hides the usage chunk from a streaming client that did not ask for it', async () => {
      const stream = await h.client.chat.completions.create({ model: 'chat', messages, stream: true });
      assert.equal((await collect(stream)).usage, undefined);
    });

    for (const shape of openaiShapes) {
      it(`round-trips a request with ${shape.name}, whole and streamed`, async () => {
        const whole = await h.client.chat.completions.create({ model: 'chat', ...shape.params });
        assert.match(whole.choices[0].message.content ?? '', /^\[sandbox\]/);
        assert.equal(whole.choices[0].finish_reason, 'stop');
        assert.ok((whole.usage?.completion_tokens ?? 0) > 0);
        const streamed = await collect(await h.client.chat.completions.create({ model: 'chat', ...shape.params, stream: true }));
        assert.equal(streamed.text, whole.choices[0].message.content);
        assert.equal(streamed.finish, 'stop');
      });
    }

    it('returns tool calls, whole and streamed, and accepts the tool result in the next turn', async () => {
      const whole = await h.client.chat.completions.create({ model: 'chat', messages, tools });
      const call = whole.choices[0].message.tool_calls?.[0];
      assert.equal(whole.choices[0].finish_reason, 'tool_calls');
      assert.ok(call && call.type === 'function');
      assert.equal(call.function.name, 'lookup');
      assert.deepEqual(JSON.parse(call.function.arguments), { query: 'Tell me about the flock.' });
      const streamed = await collect(await h.client.chat.completions.create({ model: 'chat', messages, tools, stream: true }));
      assert.equal(streamed.finish, 'tool_calls');
      assert.equal(streamed.calls[0].name, 'lookup');
      assert.deepEqual(JSON.parse(streamed.calls[0].arguments), { query: 'Tell me about the flock.' });
      const next = await h.client.chat.completions.create({
        model: 'chat',
        tools,
        messages: [...messages, whole.choices[0].message, { role: 'tool', tool_call_id: call.id, content: '{"found":3}' }],
      });
      assert.equal(next.choices[0].finish_reason, 'stop');
      assert.match(next.choices[0].message.content ?? '', /^\[sandbox\]/);
    });

    it('cuts the answer at max_tokens with finish reason length', async () => {
      const res = await h.client.chat.completions.create({ model: 'chat', messages, max_tokens: 3 });
      assert.equal(res.choices[0].finish_reason, 'length');
      assert.equal(res.usage?.completion_tokens, 3);
    });

    it('passes a client error back as final, in the OpenAI shape', async () => {
      await h.sandboxes[0].setFaults([{ fault: { type: 'status', status: 400, message: 'bad field' }, count: 1 }]);
      await assert.rejects(h.client.chat.completions.create({ model: 'chat', messages }), (err: unknown) => {
        assert.ok(err instanceof OpenAI.BadRequestError);
        assert.match(err.message, /bad field/);
        return true;
      });
    });

    it('ends a stream that breaks mid-way with an error event', async () => {
      await h.sandboxes[0].setFaults([{ fault: { type: 'reset-mid-stream', afterChunks: 2 }, count: 1 }]);
      const stream = await h.client.chat.completions.create({ model: 'chat', messages, stream: true });
      await assert.rejects(collect(stream), /stream interrupted/);
    });
  });
}

describe('providers: Anthropic specifics end to end', function () {
  let h: Harness;
  before(async () => {
    const sandboxes = await startSandboxes(1);
    h = await startHarness(mixedConfig(sandboxes, ['anthropic']), { sandboxes });
  });
  after(() => h.close());

  it('makes max_tokens explicit and carries stop sequences, ending at the first one matched', async () => {
    const full = await h.client.chat.completions.create({ model: 'chat', messages });
    assert.equal((h.sandboxes[0].requests.at(-1)?.body as { max_tokens: number }).max_tokens, 4096);
    const words = (full.choices[0].message.content ?? '').split(' ');
    const stop = ` ${words[3]}`;
    const cut = await h.client.chat.completions.create({ model: 'chat', messages, stop: [stop] });
    const text = cut.choices[0].message.content ?? '';
    assert.equal(cut.choices[0].finish_reason, 'stop');
    assert.ok(!text.includes(stop) && full.choices[0].message.content?.startsWith(text), `"${text}" is a prefix cut before "${stop}"`);
    assert.deepEqual((h.sandboxes[0].requests.at(-1)?.body as { stop_sequences: string[] }).stop_sequences, [stop]);
  });
});

describe('providers: Anthropic prompt caching is priced', function () {
  let h: Harness;
  before(async () => {
    const sandboxes = await startSandboxes(1);
    h = await startHarness(mixedConfig(sandboxes, ['anthropic']), { sandboxes });
  });
  after(() => h.close());

  // cache_control is not in the openai client's types, but OpenAI-format clients send it on parts.
  const cached = [
    { role: 'user', content: [{ type: 'text', text: 'A long shared preamble about sheep.', cache_control: { type: 'ephemeral' } }] },
  ] as unknown as OpenAI.ChatCompletionMessageParam[];

  it('reports cache reads as cached tokens and bills them at the cached price, whole and streamed', async () => {
    const { data, response } = await h.client.chat.completions.create({ model: 'chat', messages: cached }).withResponse();
    const usage = data.usage!;
    const cachedTokens = usage.prompt_tokens_details?.cached_tokens ?? 0;
    assert.ok(cachedTokens > 0 && cachedTokens < usage.prompt_tokens, `cached ${cachedTokens} of ${usage.prompt_tokens}`);
    const entry = (await h.ledgerEntries()).find((e) => e.id === response.headers.get('x-request-id'));
    assert.equal(entry?.cachedTokens, cachedTokens);
    const expected = ((usage.prompt_tokens - cachedTokens) * 2 + cachedTokens * 1 + usage.completion_tokens * 8) / 1e6;
    assert.ok(Math.abs((entry?.costUsd ?? 0) - expected) < 1e-12, `cost ${entry?.costUsd} vs ${expected}`);
    const stream = await h.client.chat.completions.create({ model: 'chat', messages: cached, stream: true, stream_options: { include_usage: true } });
    const r = await collect(stream);
    assert.equal(r.usage?.prompt_tokens_details?.cached_tokens, cachedTokens);
  });
});

describe('providers: a Gemini safety block is an answer, not an outage', function () {
  let h: Harness;
  before(async () => {
    const sandboxes = await startSandboxes(2);
    h = await startHarness(mixedConfig(sandboxes, ['gemini', 'openai-compatible']), { sandboxes });
  });
  after(() => h.close());

  const blocked: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Something [sandbox:block] unsafe' }];

  it('answers content_filter with the reason, from the same deployment, whole and streamed', async () => {
    const before = h.sandboxes[1].requests.length;
    const { data, response } = await h.client.chat.completions.create({ model: 'chat', messages: blocked }).withResponse();
    assert.equal(data.choices[0].finish_reason, 'content_filter');
    assert.equal(data.choices[0].message.content, null);
    assert.match(data.choices[0].message.refusal ?? '', /blocked the prompt \(SAFETY\)/);
    assert.equal(response.headers.get('x-shepherd-deployment'), 'p0/model-0');
    assert.equal(response.headers.get('x-shepherd-attempts'), '1');
    const stream = await h.client.chat.completions.create({ model: 'chat', messages: blocked, stream: true });
    assert.equal((await collect(stream)).finish, 'content_filter');
    assert.equal(h.sandboxes[1].requests.length, before, 'no failover to the other provider');
    const status = (await (await fetch(`${h.daemon.url}/v1/shepherd/status`)).json()) as { deployments: { id: string; state: string }[] };
    assert.equal(status.deployments.find((d) => d.id === 'p0/model-0')?.state, 'healthy');
  });
});

describe('providers: failover across wire formats in one group', function () {
  let h: Harness;
  before(async () => {
    const sandboxes = await startSandboxes(3);
    h = await startHarness(mixedConfig(sandboxes, ['anthropic', 'gemini', 'openai-compatible']), { sandboxes });
  });
  after(() => h.close());
  afterEach(async () => {
    for (const s of h.sandboxes) await s.clearFaults();
  });

  it('moves from an overloaded Anthropic (529) to Gemini, whole and streamed', async () => {
    await h.sandboxes[0].setFaults([{ fault: { type: 'status', status: 529 } }]);
    const { data, response } = await h.client.chat.completions.create({ model: 'chat', messages }).withResponse();
    assert.equal(response.headers.get('x-shepherd-deployment'), 'p1/model-1');
    assert.match(data.choices[0].message.content ?? '', /^\[sandbox\]/);
    const stream = await h.client.chat.completions.create({ model: 'chat', messages, stream: true }).withResponse();
    const r = await collect(stream.data);
    assert.equal(stream.response.headers.get('x-shepherd-deployment'), 'p1/model-1');
    assert.equal(r.text, data.choices[0].message.content);
  });

  it('moves on from Gemini UNAVAILABLE (503) to the OpenAI-format upstream', async () => {
    await h.sandboxes[0].setFaults([{ fault: { type: 'refuse' } }]);
    await h.sandboxes[1].setFaults([{ fault: { type: 'status', status: 503 } }]);
    const { response } = await h.client.chat.completions.create({ model: 'chat', messages, tools }).withResponse();
    assert.equal(response.headers.get('x-shepherd-deployment'), 'p2/model-2');
    assert.equal(response.headers.get('x-shepherd-attempts'), '3');
  });

  it('names every deployment and its own error when all three formats fail', async () => {
    await h.sandboxes[0].setFaults([{ fault: { type: 'status', status: 529, message: 'Overloaded' } }]);
    await h.sandboxes[1].setFaults([{ fault: { type: 'status', status: 503, message: 'The model is overloaded.' } }]);
    await h.sandboxes[2].setFaults([{ fault: { type: 'status', status: 502 } }]);
    await assert.rejects(h.client.chat.completions.create({ model: 'chat', messages }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.APIError);
      assert.equal(err.status, 503);
      assert.match(err.message, /p0\/model-0 \(HTTP 503: Overloaded\).*p1\/model-1 \(HTTP 503: The model is overloaded\.\).*p2\/model-2 \(HTTP 502/);
      return true;
    });
  });
});

describe('providers: the official @anthropic-ai/sdk through POST /v1/messages', function () {
  let h: Harness;
  let claude: Anthropic;
  before(async () => {
    // An OpenAI-format upstream first; an Anthropic-format one for Anthropic in and out.
    const sandboxes = await startSandboxes(2);
    const config = mixedConfig(sandboxes, ['openai-compatible', 'anthropic']);
    config.models = {
      chat: { price: { input: 2, output: 8 }, deployments: [{ provider: 'p0', model: 'gpt-up' }] },
      claude: { deployments: [{ provider: 'p1', model: 'claude-up' }] },
    };
    h = await startHarness(config, { sandboxes });
    claude = new Anthropic({ baseURL: h.daemon.url, apiKey: 'unused-by-shepherd', maxRetries: 0, timeout: 15_000 });
  });
  after(() => h.close());
  afterEach(async () => {
    for (const s of h.sandboxes) await s.clearFaults();
  });

  const anthropicTools: Anthropic.Tool[] = [{ name: 'lookup', description: 'find', input_schema: { type: 'object', properties: { query: { type: 'string' } } } }];

  it('answers text with stop reason and usage, translated from an OpenAI-format upstream', async () => {
    const { data, response } = await claude.messages
      .create({ model: 'chat', max_tokens: 100, system: 'You are terse.', messages: [{ role: 'user', content: 'Tell me about the flock.' }] })
      .withResponse();
    assert.equal(data.type, 'message');
    assert.equal(data.role, 'assistant');
    assert.equal(data.content[0].type, 'text');
    assert.match(data.content[0].type === 'text' ? data.content[0].text : '', /^\[sandbox\]/);
    assert.equal(data.stop_reason, 'end_turn');
    assert.ok(data.usage.input_tokens > 0 && data.usage.output_tokens > 0);
    assert.equal(response.headers.get('x-shepherd-deployment'), 'p0/gpt-up');
    const seen = h.sandboxes[0].requests.at(-1)?.body as { messages: unknown[]; max_tokens: number };
    assert.deepEqual(seen.messages, [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Tell me about the flock.' },
    ]);
    assert.equal(seen.max_tokens, 100);
    const entry = (await h.ledgerEntries()).find((e) => e.id === response.headers.get('x-request-id'));
    assert.equal(entry?.completionTokens, data.usage.output_tokens);
  });

  it('streams with the SDK: the same text, stop reason and usage as the whole answer', async () => {
    const params = { model: 'chat', max_tokens: 100, messages: [{ role: 'user' as const, content: 'Tell me about the flock.' }] };
    const whole = await claude.messages.create(params);
    const stream = claude.messages.stream(params);
    let deltas = 0;
    stream.on('text', () => deltas++);
    const final = await stream.finalMessage();
    assert.deepEqual(final.content, whole.content);
    assert.equal(final.stop_reason, 'end_turn');
    assert.equal(final.usage.output_tokens, whole.usage.output_tokens);
    assert.equal(final.usage.input_tokens, whole.usage.input_tokens);
    assert.ok(deltas > 3, `text arrived in ${deltas} deltas`);
  });

  const anthropicShapes: { name: string; params: Omit<Anthropic.MessageCreateParamsNonStreaming, 'model' | 'max_tokens'> }[] = [
    { name: 'text', params: { messages: [{ role: 'user', content: 'Hi' }] } },
    { name: 'system', params: { system: [{ type: 'text', text: 'You are terse.' }], messages: [{ role: 'user', content: 'Hi' }] } },
    {
      name: 'multi-turn',
      params: {
        messages: [
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: [{ type: 'text', text: 'Hello.' }] },
          { role: 'user', content: 'And now?' },
        ],
      },
    },
    {
      name: 'image',
      params: {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is this?' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG.split(',')[1] } },
            ],
          },
        ],
      },
    },
    {
      name: 'parallel tool_use and tool_result blocks',
      params: {
        tools: anthropicTools,
        messages: [
          { role: 'user', content: 'Find two things.' },
          {
            role: 'assistant',
            content: [
              { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { query: 'ram' } },
              { type: 'tool_use', id: 'toolu_2', name: 'lookup', input: { query: 'ewe' } },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 'toolu_1', content: 'by the gate' },
              { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: 'on the hill' }] },
            ],
          },
        ],
      },
    },
    { name: 'stop sequences', params: { stop_sequences: ['never-in-a-reply'], messages: [{ role: 'user', content: 'Hi' }] } },
  ];
  for (const shape of anthropicShapes) {
    it(`round-trips a Messages request with ${shape.name}, whole and streamed`, async () => {
      const params = { model: 'chat', max_tokens: 100, ...shape.params };
      const whole = await claude.messages.create(params);
      assert.equal(whole.content[0]?.type, 'text');
      assert.match(whole.content[0]?.type === 'text' ? whole.content[0].text : '', /^\[sandbox\]/);
      assert.equal(whole.stop_reason, 'end_turn');
      const streamed = await claude.messages.stream(params).finalMessage();
      assert.deepEqual(streamed.content, whole.content);
      assert.deepEqual([streamed.stop_reason, streamed.usage.output_tokens], ['end_turn', whole.usage.output_tokens]);
    });
  }

  it('returns tool_use blocks, whole and streamed, and takes tool_result blocks back', async () => {
    const params = { model: 'chat', max_tokens: 100, tools: anthropicTools, messages: [{ role: 'user' as const, content: 'Find the ram.' }] };
    const whole = await claude.messages.create(params);
    assert.equal(whole.stop_reason, 'tool_use');
    const use = whole.content.find((b) => b.type === 'tool_use');
    assert.ok(use && use.type === 'tool_use');
    assert.equal(use.name, 'lookup');
    assert.deepEqual(use.input, { query: 'Find the ram.' });
    const streamed = await claude.messages.stream(params).finalMessage();
    assert.equal(streamed.stop_reason, 'tool_use');
    const streamedUse = streamed.content.find((b) => b.type === 'tool_use');
    assert.deepEqual(streamedUse && streamedUse.type === 'tool_use' ? streamedUse.input : undefined, { query: 'Find the ram.' });
    const next = await claude.messages.create({
      ...params,
      messages: [
        ...params.messages,
        { role: 'assistant', content: whole.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'a ram, by the gate' }] },
      ],
    });
    assert.equal(next.stop_reason, 'end_turn');
    // The upstream saw an OpenAI tool call and tool message.
    const seen = h.sandboxes[0].requests.at(-1)?.body as { messages: { role: string; tool_call_id?: string; tool_calls?: unknown[] }[] };
    assert.equal(seen.messages[1].role, 'assistant');
    assert.equal(seen.messages[1].tool_calls?.length, 1);
    assert.deepEqual(seen.messages[2], { role: 'tool', tool_call_id: use.id, content: 'a ram, by the gate' });
  });

  it('reports max_tokens as the stop reason when the answer was cut', async () => {
    const res = await claude.messages.create({ model: 'chat', max_tokens: 2, messages: [{ role: 'user', content: 'Talk.' }] });
    assert.equal(res.stop_reason, 'max_tokens');
    assert.equal(res.usage.output_tokens, 2);
  });

  it('works Anthropic in and Anthropic out, stop sequence and images included', async () => {
    const res = await claude.messages.create({
      model: 'claude',
      max_tokens: 50,
      stop_sequences: ['NEVER'],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in the picture?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
          ],
        },
      ],
    });
    assert.equal(res.stop_reason, 'end_turn');
    const seen = h.sandboxes[1].requests.at(-1)?.body as { messages: { content: unknown[] }[]; stop_sequences: string[]; model: string };
    assert.equal(seen.model, 'claude-up');
    assert.deepEqual(seen.stop_sequences, ['NEVER']);
    assert.deepEqual(seen.messages[0].content[1], { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } });
  });

  it('ends a broken stream with an Anthropic error event', async () => {
    await h.sandboxes[0].setFaults([{ fault: { type: 'reset-mid-stream', afterChunks: 3 } }]);
    const stream = claude.messages.stream({ model: 'chat', max_tokens: 100, messages: [{ role: 'user', content: 'Talk.' }] });
    await assert.rejects(stream.finalMessage(), /stream interrupted/);
  });

  it('answers errors in Anthropic\'s shape: unknown model, bad field, upstream failure', async () => {
    await assert.rejects(claude.messages.create({ model: 'nope', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }), (err: unknown) => {
      assert.ok(err instanceof Anthropic.NotFoundError);
      assert.equal((err.error as { type: string; error: { type: string } }).error.type, 'not_found_error');
      return true;
    });
    const res = await fetch(`${h.daemon.url}/v1/messages`, { method: 'POST', body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'x' }] }) });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { type: string; error: { type: string; message: string } };
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'invalid_request_error');
    assert.match(body.error.message, /^max_tokens: required/);
    await h.sandboxes[0].setFaults([{ fault: { type: 'status', status: 429, retryAfterSeconds: 2 } }]);
    await assert.rejects(claude.messages.create({ model: 'chat', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }), (err: unknown) => {
      // Last on purpose: the deployment then waits out its Retry-After, which would slow later tests.
      assert.ok(err instanceof Anthropic.RateLimitError);
      assert.equal(err.headers?.get('retry-after'), '2');
      return true;
    });
  });
});
