// The daemon end to end with the official `openai` client: answers, streaming, usage and cost in the
// ledger, pass-through of parameters, and failover between deployments.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { configFor, eventually, startHarness, startSandboxes, type Harness } from '../support/harness';

const messages: OpenAI.ChatCompletionMessageParam[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Say something about sheep.' },
];

describe('gateway: answers through the openai client', function () {
  // A fresh daemon per test: health, circuit breakers and rate limits remember earlier failures.
  let h: Harness;
  beforeEach(async () => {
    const sandboxes = await startSandboxes(2);
    h = await startHarness(configFor(sandboxes), { sandboxes });
  });
  afterEach(() => h.close());

  it('answers a non-streaming request and says which deployment served it', async () => {
    const { data, response } = await h.client.chat.completions.create({ model: 'chat', messages }).withResponse();
    assert.match(data.choices[0].message.content ?? '', /^\[sandbox\]/);
    assert.equal(data.choices[0].finish_reason, 'stop');
    assert.ok(data.usage && data.usage.prompt_tokens > 0 && data.usage.completion_tokens > 0);
    assert.equal(response.headers.get('x-shepherd-model'), 'chat');
    assert.equal(response.headers.get('x-shepherd-deployment'), 'up0/upstream-model-0');
    assert.equal(response.headers.get('x-shepherd-attempts'), '1');
    assert.match(response.headers.get('x-request-id') ?? '', /^shep-/);
    // The upstream got its own model name, not the group's.
    const seen = h.sandboxes[0].requests.at(-1)?.body as { model: string };
    assert.equal(seen.model, 'upstream-model-0');
  });

  it('resolves an alias to its group', async () => {
    const { response } = await h.client.chat.completions.create({ model: 'chat-alias', messages }).withResponse();
    assert.equal(response.headers.get('x-shepherd-model'), 'chat');
  });

  it('streams chunk by chunk with the same text, and hides usage unless the client asks', async () => {
    const whole = await h.client.chat.completions.create({ model: 'chat', messages });
    const stream = await h.client.chat.completions.create({ model: 'chat', messages, stream: true });
    let text = '';
    let chunks = 0;
    let sawUsage = false;
    for await (const chunk of stream) {
      chunks++;
      if (chunk.usage) sawUsage = true;
      text += chunk.choices[0]?.delta?.content ?? '';
    }
    assert.equal(text, whole.choices[0].message.content);
    assert.ok(chunks > 3, `expected several chunks, got ${chunks}`);
    assert.equal(sawUsage, false);
    // ...while Shepherd itself asked the upstream for usage, to price the request.
    const upstreamBody = h.sandboxes[0].requests.at(-1)?.body as { stream_options?: { include_usage?: boolean } };
    assert.equal(upstreamBody.stream_options?.include_usage, true);
  });

  it('returns the usage chunk to a client that asks for it', async () => {
    const stream = await h.client.chat.completions.create({ model: 'chat', messages, stream: true, stream_options: { include_usage: true } });
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    assert.ok(usage && usage.completion_tokens > 0);
  });

  it('records usage and cost from the configured price in the ledger before the response ends', async () => {
    const { data, response } = await h.client.chat.completions.create({ model: 'chat', messages }).withResponse();
    const id = response.headers.get('x-request-id');
    // No waiting: the line must already be on disk when the client has the answer.
    const entry = (await h.ledgerEntries()).find((e) => e.id === id);
    assert.ok(entry, 'ledger line present when the response arrived');
    assert.equal(entry.ok, true);
    assert.equal(entry.status, 200);
    assert.equal(entry.model, 'chat');
    assert.equal(entry.requestedModel, 'chat');
    assert.equal(entry.deployment, 'up0/upstream-model-0');
    assert.equal(entry.servedModel, 'upstream-model-0');
    assert.equal(entry.promptTokens, data.usage!.prompt_tokens);
    assert.equal(entry.completionTokens, data.usage!.completion_tokens);
    assert.equal(entry.usageSource, 'upstream');
    const expected = (data.usage!.prompt_tokens * 2 + data.usage!.completion_tokens * 8) / 1e6;
    assert.ok(Math.abs(entry.costUsd - expected) < 1e-9, `cost ${entry.costUsd} vs ${expected}`);
    assert.ok(entry.latencyMs >= 0);
  });

  it('prices a streamed request from the usage the upstream reported in the stream', async () => {
    const stream = await h.client.chat.completions.create({ model: 'chat', messages, stream: true }).withResponse();
    for await (const _ of stream.data) void _;
    const id = stream.response.headers.get('x-request-id');
    const entry = (await h.ledgerEntries()).find((e) => e.id === id);
    assert.ok(entry && entry.stream && entry.completionTokens > 0 && entry.costUsd > 0);
    assert.ok(entry.ttftMs !== undefined && entry.ttftMs <= entry.latencyMs);
  });

  it('passes parameters it does not interpret through untouched, and relays tool calls', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'lookup', description: 'find', parameters: { type: 'object', properties: { query: { type: 'string' } } } } },
    ];
    const res = await h.client.chat.completions.create({
      model: 'chat',
      messages,
      tools,
      tool_choice: 'auto',
      response_format: { type: 'text' },
      seed: 42,
      user: 'tester',
      n: 1,
      logprobs: false,
      temperature: 0.3,
    });
    const seen = h.sandboxes[0].requests.at(-1)?.body as Record<string, unknown>;
    assert.deepEqual(seen.tools, tools);
    assert.equal(seen.tool_choice, 'auto');
    assert.deepEqual(seen.response_format, { type: 'text' });
    assert.equal(seen.seed, 42);
    assert.equal(seen.user, 'tester');
    assert.equal(seen.temperature, 0.3);
    assert.equal(res.choices[0].finish_reason, 'tool_calls');
    assert.equal(res.choices[0].message.tool_calls?.[0].type, 'function');
  });

  it('fails over to the second deployment when the first refuses connections', async () => {
    await h.sandboxes[0].setFaults([{ fault: { type: 'refuse' } }]);
    const { data, response } = await h.client.chat.completions.create({ model: 'chat', messages }).withResponse();
    assert.match(data.choices[0].message.content ?? '', /^\[sandbox\]/);
    assert.equal(response.headers.get('x-shepherd-deployment'), 'up1/upstream-model-1');
    assert.equal(response.headers.get('x-shepherd-attempts'), '2');
    const entry = (await h.ledgerEntries()).find((e) => e.id === response.headers.get('x-request-id'));
    assert.equal(entry?.attempts, 2);
    assert.equal(entry?.deployment, 'up1/upstream-model-1');
  });

  it('fails over when the first answers 503, streaming and not', async () => {
    await h.sandboxes[0].setFaults([{ fault: { type: 'status', status: 503, message: 'overloaded' } }]);
    const whole = await h.client.chat.completions.create({ model: 'chat', messages }).withResponse();
    assert.equal(whole.response.headers.get('x-shepherd-deployment'), 'up1/upstream-model-1');
    const stream = await h.client.chat.completions.create({ model: 'chat', messages, stream: true }).withResponse();
    let text = '';
    for await (const c of stream.data) text += c.choices[0]?.delta?.content ?? '';
    assert.equal(stream.response.headers.get('x-shepherd-deployment'), 'up1/upstream-model-1');
    assert.equal(text, whole.data.choices[0].message.content);
  });

  it('fails over when the connection resets before the first byte of a stream', async () => {
    await h.sandboxes[0].setFaults([{ fault: { type: 'reset' } }]);
    const stream = await h.client.chat.completions.create({ model: 'chat', messages, stream: true }).withResponse();
    let text = '';
    for await (const c of stream.data) text += c.choices[0]?.delta?.content ?? '';
    assert.match(text, /^\[sandbox\]/);
    assert.equal(stream.response.headers.get('x-shepherd-attempts'), '2');
  });

  it('does not fail over a request the upstream rejects as bad (400): the client gets that answer', async () => {
    await h.sandboxes[0].setFaults([{ fault: { type: 'status', status: 400, message: 'bad temperature' } }]);
    const before = h.sandboxes[1].requests.length;
    await assert.rejects(h.client.chat.completions.create({ model: 'chat', messages }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.BadRequestError);
      assert.match(err.message, /bad temperature/);
      return true;
    });
    assert.equal(h.sandboxes[1].requests.length, before, 'second deployment was not tried');
  });

  it('answers 503 naming every deployment tried when all fail, and records the failure', async () => {
    await h.sandboxes[0].setFaults([{ fault: { type: 'status', status: 502 } }]);
    await h.sandboxes[1].setFaults([{ fault: { type: 'refuse' } }]);
    const err = await h.client.chat.completions.create({ model: 'chat', messages }).then(
      () => assert.fail('expected an error'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof OpenAI.APIError);
    assert.equal(err.status, 503);
    assert.match(err.message, /all 2 deployments of "chat" failed: up0\/upstream-model-0 \(HTTP 502.*up1\/upstream-model-1 \(could not connect/);
    const last = (await h.ledgerEntries()).at(-1);
    assert.equal(last?.ok, false);
    assert.equal(last?.status, 503);
    assert.equal(last?.attempts, 2);
  });

  it('answers 429 with the shortest Retry-After when every deployment is rate limited', async () => {
    await h.sandboxes[0].setFaults([{ fault: { type: 'status', status: 429, retryAfterSeconds: 9 } }]);
    await h.sandboxes[1].setFaults([{ fault: { type: 'status', status: 429, retryAfterSeconds: 4 } }]);
    const res = await fetch(`${h.daemon.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'chat', messages }) });
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '4');
    const body = (await res.json()) as { error: { type: string; code: string } };
    assert.equal(body.error.type, 'rate_limit_error');
    assert.equal(body.error.code, 'all_deployments_failed');
  });

  it('passes a 429 with Retry-After through when the only deployment is rate limited', async () => {
    const [solo] = await startSandboxes(1);
    const single = await startHarness(configFor([solo]), { sandboxes: [solo] });
    try {
      await solo.setFaults([{ fault: { type: 'status', status: 429, retryAfterSeconds: 7 } }]);
      const res = await fetch(`${single.daemon.url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({ model: 'chat', messages }),
      });
      assert.equal(res.status, 429);
      assert.equal(res.headers.get('retry-after'), '7');
    } finally {
      await single.close();
    }
  });

  it('ends a stream that breaks mid-way with an error event, and the ledger says so', async () => {
    await h.sandboxes[0].setFaults([{ fault: { type: 'reset-mid-stream', afterChunks: 3 } }]);
    const stream = await h.client.chat.completions.create({ model: 'chat', messages, stream: true }).withResponse();
    let received = '';
    await assert.rejects(
      (async () => {
        for await (const c of stream.data) received += c.choices[0]?.delta?.content ?? '';
      })(),
      /stream interrupted/,
    );
    assert.ok(received.length > 0, 'some text arrived before the break');
    const entry = (await h.ledgerEntries()).find((e) => e.id === stream.response.headers.get('x-request-id'));
    assert.equal(entry?.ok, false);
    assert.match(entry?.error ?? '', /reset/);
  });

  it('cancels the upstream call when the client goes away, and records it', async () => {
    // The upstream would stay silent for 10 s. Only a relay that aborts its upstream call when the
    // client leaves can write the 499 line within the 3 s this test waits.
    h.sandboxes[0].setTiming({ ttftMs: 10_000 });
    try {
      const seen = h.sandboxes[0].requests.length;
      const controller = new AbortController();
      const pending = h.client.chat.completions.create({ model: 'chat', messages, stream: true }, { signal: controller.signal });
      await eventually(() => h.sandboxes[0].requests.length > seen, 2_000, 'this request to reach the upstream');
      controller.abort();
      await assert.rejects(pending);
      const entry = await eventually(async () => (await h.ledgerEntries()).find((e) => e.status === 499), 3_000, 'a 499 ledger line');
      assert.equal(entry.ok, false);
    } finally {
      h.sandboxes[0].setTiming({ ttftMs: 0 });
    }
  });

  it('masks a provider key that an upstream error echoes, and never logs or records keys', async () => {
    // Its own daemon: a rejected key keeps a deployment out of plans for minutes.
    const pair = await startSandboxes(2);
    const own = await startHarness(configFor(pair), { sandboxes: pair });
    try {
      for (const [i, s] of pair.entries()) {
        await s.setFaults([{ fault: { type: 'status', status: 401, message: `Incorrect API key provided: sk-test-${i}-secret` } }]);
      }
      await assert.rejects(own.client.chat.completions.create({ model: 'chat', messages }), (err: unknown) => {
        assert.ok(err instanceof OpenAI.AuthenticationError);
        assert.match(err.message, /Incorrect API key provided: \*\*\*/);
        assert.doesNotMatch(err.message, /sk-test-\d-secret/);
        return true;
      });
      const ledgerText = JSON.stringify(await own.ledgerEntries());
      assert.doesNotMatch(ledgerText, /sk-test-\d-secret/);
      assert.doesNotMatch(own.logs.join(''), /sk-test-\d-secret/);
      // The keys did reach the upstreams, as bearer tokens.
      assert.equal(pair[0].requests.at(-1)?.headers.authorization, 'Bearer sk-test-0-secret');
      assert.equal(pair[1].requests.at(-1)?.headers.authorization, 'Bearer sk-test-1-secret');
    } finally {
      await own.close();
    }
  });

  it('lists groups and aliases at /v1/models and deployment state at /v1/shepherd/status', async () => {
    await h.client.chat.completions.create({ model: 'chat', messages });
    const models = await h.client.models.list();
    const ids = models.data.map((m) => m.id);
    assert.deepEqual(ids.sort(), ['chat', 'chat-alias']);
    const status = (await (await fetch(`${h.daemon.url}/v1/shepherd/status`)).json()) as {
      version: string;
      uptimeSeconds: number;
      deployments: { id: string; state: string; requests: number }[];
    };
    assert.match(status.version, /^\d+\.\d+\.\d+/);
    assert.equal(status.deployments.length, 2);
    assert.ok(status.deployments.every((d) => ['healthy', 'degraded', 'unhealthy', 'unknown'].includes(d.state)));
    assert.ok(status.deployments[0].requests > 0);
    const health = await fetch(`${h.daemon.url}/healthz`);
    assert.equal(health.status, 200);
  });
});

describe('gateway: streaming is relayed, not buffered', function () {
  it('delivers chunks to the client as the upstream produces them', async () => {
    // The upstream paces 24 words at 10 per second; a relay that buffered would hand them over at once.
    const sandboxes = await startSandboxes(1, { tokensPerSecond: 10 });
    const h = await startHarness(configFor(sandboxes), { sandboxes });
    try {
      const stream = await h.client.chat.completions.create({ model: 'chat', messages, stream: true });
      const arrivals: number[] = [];
      for await (const c of stream) if (c.choices[0]?.delta?.content) arrivals.push(Date.now());
      assert.ok(arrivals.length >= 20, `content chunks: ${arrivals.length}`);
      const spread = arrivals[arrivals.length - 1] - arrivals[0];
      assert.ok(spread >= 1_000, `chunks arrived within ${spread} ms of each other`);
    } finally {
      await h.close();
    }
  });
});

describe('gateway: upstreams that misbehave', function () {
  it('fails over when an upstream answers a streaming request without any stream event', async () => {
    // An OpenAI-compatible server that ignores `stream` and answers with plain JSON.
    const odd = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end(JSON.stringify({ id: 'x', object: 'chat.completion', choices: [] })));
    });
    odd.listen(0, '127.0.0.1');
    await once(odd, 'listening');
    const [sandbox] = await startSandboxes(1);
    const config = configFor([sandbox]);
    config.providers = { odd: { baseUrl: `http://127.0.0.1:${(odd.address() as AddressInfo).port}/v1`, apiKey: 'k' }, ...config.providers };
    config.models!.chat.deployments.unshift({ provider: 'odd', model: 'odd-model' });
    const h = await startHarness(config, { sandboxes: [sandbox] });
    try {
      const stream = await h.client.chat.completions.create({ model: 'chat', messages, stream: true }).withResponse();
      let text = '';
      for await (const c of stream.data) text += c.choices[0]?.delta?.content ?? '';
      assert.match(text, /^\[sandbox\]/);
      assert.equal(stream.response.headers.get('x-shepherd-attempts'), '2');
    } finally {
      await h.close();
      odd.close();
    }
  });
});

describe('gateway: timeouts', function () {
  it('moves on when a deployment sends no response headers within firstByteMs', async () => {
    const sandboxes = await startSandboxes(2);
    const h = await startHarness(configFor(sandboxes, { upstream: { connectMs: 1_000, firstByteMs: 300, idleMs: 1_000 } }), { sandboxes });
    try {
      await sandboxes[0].setFaults([{ fault: { type: 'hang' } }]);
      const started = Date.now();
      const { response } = await h.client.chat.completions.create({ model: 'chat', messages }).withResponse();
      assert.equal(response.headers.get('x-shepherd-deployment'), 'up1/upstream-model-1');
      assert.ok(Date.now() - started >= 250, 'waited for the first-byte timeout');
      const status = (await (await fetch(`${h.daemon.url}/v1/shepherd/status`)).json()) as { deployments: { id: string; state: string; lastError: string | null }[] };
      const hung = status.deployments.find((d) => d.id === 'up0/upstream-model-0');
      assert.equal(hung?.state, 'degraded', 'one failure in its window: degraded, not yet ejected');
      assert.match(hung?.lastError ?? '', /no response headers in time/);
    } finally {
      await h.close();
    }
  });

  it('ends a stream that goes silent for longer than idleMs with an error event', async () => {
    // undici checks body idleness with ~1 s resolution, so the gap must be clearly longer than that.
    const sandboxes = await startSandboxes(1, { tokensPerSecond: 0.2 });
    const h = await startHarness(configFor(sandboxes, { upstream: { connectMs: 1_000, firstByteMs: 2_000, idleMs: 200 } }), { sandboxes });
    try {
      const stream = await h.client.chat.completions.create({ model: 'chat', messages, stream: true });
      await assert.rejects(
        (async () => {
          for await (const _ of stream) void _;
        })(),
        /went silent/,
      );
    } finally {
      await h.close();
    }
  });
});
