// The sandbox upstream: OpenAI wire shapes, deterministic text, timing and every scripted fault, as a
// client (undici) sees them; plus the pure fault selection and text generation.
import assert from 'node:assert/strict';
import { request } from 'undici';
import { FaultBook, parseFaultsBody, parseRules } from '../../daemon/sandbox/faults';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../daemon/sandbox/server';
import { SANDBOX_LABEL, planReply } from '../../daemon/sandbox/text';

const messages = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Tell me about the flock today please' },
];

interface Completion {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: {
    index: number;
    message: { role: string; content: string | null; refusal: null; tool_calls?: { id: string; type: string; function: { name: string; arguments: string } }[] };
    finish_reason: string;
    logprobs: null;
  }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

interface Chunk {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: {
    index: number;
    delta: { role?: string; content?: string | null; tool_calls?: { index: number; id?: string; type?: string; function: { name?: string; arguments: string } }[] };
    finish_reason: string | null;
  }[];
  usage?: Completion['usage'] | null;
}

interface ErrorBody {
  error: { message: string; type: string; code: string | null };
}

let sandbox: Sandbox;
async function start(options: SandboxOptions = {}): Promise<Sandbox> {
  sandbox = await startSandbox(options);
  return sandbox;
}

function post(path: string, body: unknown, signal?: AbortSignal) {
  return request(`${sandbox.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal,
  });
}

async function complete(body: Record<string, unknown>): Promise<{ status: number; headers: Record<string, unknown>; json: unknown }> {
  const res = await post('/chat/completions', { model: 'sandbox-model', messages, ...body });
  return { status: res.statusCode, headers: res.headers, json: await res.body.json() };
}

/** A whole stream: the JSON of each data frame, and whether [DONE] came last. */
async function stream(body: Record<string, unknown>): Promise<{ chunks: Chunk[]; done: boolean; contentType: unknown }> {
  const res = await post('/chat/completions', { model: 'sandbox-model', messages, stream: true, ...body });
  assert.equal(res.statusCode, 200);
  const payloads = (await res.body.text())
    .split('\n\n')
    .filter((frame) => frame !== '')
    .map((frame) => {
      assert.match(frame, /^data: /);
      return frame.slice('data: '.length);
    });
  const done = payloads.at(-1) === '[DONE]';
  const chunks = payloads.filter((p) => p !== '[DONE]').map((p) => JSON.parse(p) as Chunk);
  return { chunks, done, contentType: res.headers['content-type'] };
}

const textOf = (chunks: Chunk[]) => chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');

/** Rejects with the low-level error a client would see (socket reset, refused...). */
async function socketError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return String((err as { code?: unknown }).code);
  }
  assert.fail('expected a socket-level error');
}

async function eventually<T>(probe: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('sandbox: OpenAI chat completions', () => {
  before(() => start({ name: 'sbx-a', models: ['alpha', 'beta'] }));
  after(() => sandbox.close());

  it('answers non-streaming requests in the OpenAI shape with usage', async () => {
    const { status, headers, json } = await complete({ model: 'whatever-model' });
    assert.equal(status, 200);
    assert.equal(headers['content-type'], 'application/json');
    assert.equal(headers['x-sandbox'], 'sbx-a');
    const c = json as Completion;
    assert.match(c.id, /^chatcmpl-sbx-\d+$/);
    assert.equal(c.object, 'chat.completion');
    assert.equal(c.model, 'whatever-model');
    assert.ok(Math.abs(c.created - Date.now() / 1000) < 60);
    assert.equal(c.choices.length, 1);
    assert.equal(c.choices[0].message.role, 'assistant');
    assert.equal(c.choices[0].message.refusal, null);
    assert.equal(c.choices[0].finish_reason, 'stop');
    assert.ok(c.choices[0].message.content?.startsWith(`${SANDBOX_LABEL} `));
    // Default length: 24 tokens, one per word, the label counting as the first.
    assert.equal(c.choices[0].message.content?.split(' ').length, 24);
    assert.deepEqual(c.usage, {
      prompt_tokens: Math.ceil(JSON.stringify(messages).length / 4),
      completion_tokens: 24,
      total_tokens: Math.ceil(JSON.stringify(messages).length / 4) + 24,
    });
  });

  it('streams role chunk, one chunk per word, finish chunk and [DONE], without usage unless asked', async () => {
    const whole = (await complete({})).json as Completion;
    const { chunks, done, contentType } = await stream({});
    assert.equal(contentType, 'text/event-stream');
    assert.equal(done, true);
    assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '' });
    const content = chunks.slice(1, -1);
    assert.equal(content.length, 24);
    for (const c of content) assert.match(c.choices[0].delta.content ?? '', /^(\[sandbox\]| [a-z]+)$/);
    assert.equal(textOf(chunks), whole.choices[0].message.content);
    const last = chunks.at(-1);
    assert.deepEqual(last?.choices[0].delta, {});
    assert.equal(last?.choices[0].finish_reason, 'stop');
    for (const c of chunks) {
      assert.equal(c.object, 'chat.completion.chunk');
      assert.equal('usage' in c, false, 'no usage key without include_usage');
      assert.equal(c.id, chunks[0].id);
      assert.equal(c.created, chunks[0].created);
      assert.equal(c.model, 'sandbox-model');
    }
  });

  it('adds a usage chunk (choices: []) before [DONE] when include_usage is set, and usage: null elsewhere', async () => {
    const { chunks, done } = await stream({ stream_options: { include_usage: true } });
    assert.equal(done, true);
    const usageChunk = chunks.at(-1);
    assert.deepEqual(usageChunk?.choices, []);
    assert.deepEqual(usageChunk?.usage, {
      prompt_tokens: Math.ceil(JSON.stringify(messages).length / 4),
      completion_tokens: 24,
      total_tokens: Math.ceil(JSON.stringify(messages).length / 4) + 24,
    });
    for (const c of chunks.slice(0, -1)) assert.equal(c.usage, null);
    assert.equal(chunks.at(-2)?.choices[0].finish_reason, 'stop');
  });

  it('gives the same text for the same messages and different text for different ones', async () => {
    const a = (await complete({})).json as Completion;
    const b = (await complete({ model: 'another', temperature: 1.5 })).json as Completion;
    const other = (await complete({ messages: [{ role: 'user', content: 'Something else entirely' }] })).json as Completion;
    assert.equal(a.choices[0].message.content, b.choices[0].message.content);
    assert.notEqual(a.choices[0].message.content, other.choices[0].message.content);
    assert.ok(other.choices[0].message.content?.startsWith(SANDBOX_LABEL));
  });

  it('truncates at max_tokens / max_completion_tokens with finish_reason length', async () => {
    for (const body of [{ max_tokens: 5 }, { max_completion_tokens: 5 }, { max_tokens: 50, max_completion_tokens: 5 }]) {
      const c = (await complete(body)).json as Completion;
      assert.equal(c.choices[0].finish_reason, 'length', JSON.stringify(body));
      assert.equal(c.usage.completion_tokens, 5);
      assert.equal(c.choices[0].message.content?.split(' ').length, 5);
    }
    const { chunks } = await stream({ max_tokens: 3 });
    assert.equal(chunks.length, 1 + 3 + 1);
    assert.equal(chunks.at(-1)?.choices[0].finish_reason, 'length');
    // A limit above the natural length changes nothing.
    const roomy = (await complete({ max_tokens: 100 })).json as Completion;
    assert.equal(roomy.choices[0].finish_reason, 'stop');
    assert.equal(roomy.usage.completion_tokens, 24);
  });

  it('calls the first tool with the start of the last user message as arguments', async () => {
    const tools = [
      { type: 'function', function: { name: 'search_docs', parameters: { type: 'object' } } },
      { type: 'function', function: { name: 'other' } },
    ];
    const c = (await complete({ tools })).json as Completion;
    assert.equal(c.choices[0].finish_reason, 'tool_calls');
    assert.equal(c.choices[0].message.content, null);
    const call = c.choices[0].message.tool_calls?.[0];
    assert.match(call?.id ?? '', /^call_sbx_\d+$/);
    assert.equal(call?.type, 'function');
    assert.equal(call?.function.name, 'search_docs');
    assert.deepEqual(JSON.parse(call?.function.arguments ?? ''), { query: 'Tell me about the flock today' });
    // After the tool answered, the model replies with text.
    const after = (await complete({
      tools,
      messages: [...messages, { role: 'assistant', tool_calls: [call] }, { role: 'tool', tool_call_id: call?.id, content: 'found' }],
    })).json as Completion;
    assert.equal(after.choices[0].finish_reason, 'stop');
    assert.ok(after.choices[0].message.content?.startsWith(SANDBOX_LABEL));
  });

  it('streams a tool call as OpenAI does: id, type and name first, then the arguments in pieces', async () => {
    const tools = [{ type: 'function', function: { name: 'search_docs' } }];
    const { chunks, done } = await stream({ tools });
    assert.equal(done, true);
    const first = chunks[0].choices[0].delta;
    assert.equal(first.role, 'assistant');
    assert.equal(first.tool_calls?.[0].index, 0);
    assert.match(first.tool_calls?.[0].id ?? '', /^call_sbx_\d+$/);
    assert.equal(first.tool_calls?.[0].type, 'function');
    assert.equal(first.tool_calls?.[0].function.name, 'search_docs');
    const pieces = chunks.slice(1, -1).map((c) => c.choices[0].delta.tool_calls?.[0].function.arguments ?? '');
    assert.ok(pieces.length > 1, 'arguments arrive in several pieces');
    assert.deepEqual(JSON.parse(pieces.join('')), { query: 'Tell me about the flock today' });
    assert.equal(chunks.at(-1)?.choices[0].finish_reason, 'tool_calls');
  });

  it('lists its models at GET /v1/models', async () => {
    const res = await request(`${sandbox.url}/models`);
    assert.equal(res.statusCode, 200);
    const body = (await res.body.json()) as { object: string; data: { id: string; object: string; owned_by: string; created: number }[] };
    assert.equal(body.object, 'list');
    assert.deepEqual(body.data.map((m) => m.id), ['alpha', 'beta']);
    for (const m of body.data) {
      assert.equal(m.object, 'model');
      assert.equal(m.owned_by, 'shepherd-sandbox');
      assert.equal(typeof m.created, 'number');
    }
  });

  it('answers bad input with OpenAI errors naming the problem, and keeps serving', async () => {
    const cases: [unknown, number, RegExp, string | null][] = [
      ['{not json', 400, /parse the JSON body/, 'invalid_json'],
      [{ messages }, 400, /model/, 'missing_required_parameter'],
      [{ model: 'm' }, 400, /messages/, 'missing_required_parameter'],
      [{ model: 'm', messages: [] }, 400, /messages/, 'missing_required_parameter'],
      [{ model: 'm', messages, max_tokens: 0 }, 400, /max_tokens/, 'invalid_value'],
      [{ model: 'm', messages, tools: [{ type: 'function' }] }, 400, /tools\[0\]\.function\.name/, 'missing_required_parameter'],
    ];
    for (const [body, status, message, code] of cases) {
      const res = await post('/chat/completions', body);
      assert.equal(res.statusCode, status, JSON.stringify(body));
      assert.equal(res.headers['x-sandbox'], 'sbx-a');
      const err = (await res.body.json()) as ErrorBody;
      assert.match(err.error.message, message);
      assert.equal(err.error.type, 'invalid_request_error');
      assert.equal(err.error.code, code);
    }
    const missing = await post('/nope', {});
    assert.equal(missing.statusCode, 404);
    assert.match(((await missing.body.json()) as ErrorBody).error.message, /POST \/v1\/nope/);
    assert.equal((await complete({})).status, 200);
  });

  it('records each request with headers and the body as sent, unknown parameters included', async () => {
    await complete({ stream_options: { include_usage: true }, custom_param: { deep: [1, 2] } });
    const last = sandbox.requests.at(-1);
    assert.equal(last?.method, 'POST');
    assert.equal(last?.path, '/v1/chat/completions');
    assert.equal(last?.headers.authorization, 'Bearer sk-test');
    const body = last?.body as Record<string, unknown>;
    assert.deepEqual(body.stream_options, { include_usage: true });
    assert.deepEqual(body.custom_param, { deep: [1, 2] });
    assert.ok(Math.abs((last?.time ?? 0) - Date.now()) < 10_000);
    // Even input it rejects is recorded (as text when it is not JSON).
    await post('/chat/completions', '{broken');
    assert.equal(sandbox.requests.at(-1)?.body, '{broken');
  });
});

describe('sandbox: faults', () => {
  beforeEach(() => start({ name: 'sbx-f' }));
  afterEach(() => sandbox.close());

  it('answers a status fault with the OpenAI error body and Retry-After / retry-after-ms headers', async () => {
    await sandbox.setFaults([{ fault: { type: 'status', status: 429, retryAfterSeconds: 7, retryAfterMs: 6500, message: 'slow down' } }]);
    const res = await post('/chat/completions', { model: 'm', messages });
    assert.equal(res.statusCode, 429);
    assert.equal(res.headers['retry-after'], '7');
    assert.equal(res.headers['retry-after-ms'], '6500');
    assert.equal(res.headers['x-sandbox'], 'sbx-f');
    const err = (await res.body.json()) as ErrorBody;
    assert.equal(err.error.message, 'slow down');
    assert.equal(err.error.type, 'rate_limit_error');
    assert.equal(typeof err.error.code, 'string');
    // Without a count the rule keeps applying; no Retry-After unless configured.
    await sandbox.setFaults([{ fault: { type: 'status', status: 503 } }]);
    for (let i = 0; i < 3; i++) {
      const again = await post('/chat/completions', { model: 'm', messages });
      assert.equal(again.statusCode, 503);
      assert.equal(again.headers['retry-after'], undefined);
      assert.match(((await again.body.json()) as ErrorBody).error.message, /sandbox/);
    }
  });

  it('applies a rule with count 2 twice, then answers normally', async () => {
    await sandbox.setFaults([{ fault: { type: 'status', status: 500 }, count: 2 }]);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await complete({})).status);
    assert.deepEqual(statuses, [500, 500, 200, 200]);
  });

  it('applies a model-specific rule only to that model, first matching rule first', async () => {
    await sandbox.setFaults([
      { fault: { type: 'status', status: 502 }, model: 'bad-model' },
      { fault: { type: 'status', status: 503 }, model: 'worse-model', count: 1 },
    ]);
    assert.equal((await complete({ model: 'good-model' })).status, 200);
    assert.equal((await complete({ model: 'bad-model' })).status, 502);
    assert.equal((await complete({ model: 'worse-model' })).status, 503);
    assert.equal((await complete({ model: 'worse-model' })).status, 200);
    assert.equal((await complete({ model: 'bad-model' })).status, 502);
    // GET /v1/models has no model, so only model-less rules reach it.
    assert.equal((await request(`${sandbox.url}/models`)).statusCode, 200);
  });

  it('hangs until the client gives up, and keeps serving others', async () => {
    await sandbox.setFaults([{ fault: { type: 'hang' }, count: 1 }]);
    const started = Date.now();
    await assert.rejects(post('/chat/completions', { model: 'm', messages }, AbortSignal.timeout(200)), (err: Error) => {
      assert.match(err.name, /AbortError|TimeoutError/);
      return true;
    });
    assert.ok(Date.now() - started >= 150, 'the request hung until the client aborted');
    assert.equal((await complete({})).status, 200);
  });

  it('resets the connection before any response byte', async () => {
    await sandbox.setFaults([{ fault: { type: 'reset' }, count: 1 }]);
    const code = await socketError(post('/chat/completions', { model: 'm', messages }));
    assert.ok(['ECONNRESET', 'UND_ERR_SOCKET'].includes(code), code);
    assert.equal(sandbox.requests.length, 1, 'the request was received (and recorded) before the reset');
    assert.equal((await complete({})).status, 200);
  });

  it('resets mid-stream after exactly N content chunks (and at once for a non-streaming request)', async () => {
    await sandbox.setFaults([{ fault: { type: 'reset-mid-stream', afterChunks: 3 }, count: 2 }]);
    const res = await post('/chat/completions', { model: 'm', messages, stream: true });
    assert.equal(res.statusCode, 200);
    let text = '';
    const code = await socketError(
      (async () => {
        for await (const piece of res.body) text += String(piece);
      })(),
    );
    assert.ok(['ECONNRESET', 'UND_ERR_SOCKET'].includes(code), code);
    const frames = text.split('\n\n').filter(Boolean);
    const contents = frames.map((f) => (JSON.parse(f.slice(6)) as Chunk).choices[0].delta.content).filter(Boolean);
    assert.equal(frames.length, 1 + 3, 'the role chunk and 3 content chunks');
    assert.equal(contents.length, 3);
    assert.ok(!text.includes('[DONE]'));
    const whole = await socketError(post('/chat/completions', { model: 'm', messages }));
    assert.ok(['ECONNRESET', 'UND_ERR_SOCKET'].includes(whole), whole);
    assert.equal((await complete({})).status, 200);
  });

  it('refuses connections (pooled ones included) until cleared, then listens again on the same port', async () => {
    const port = sandbox.port;
    assert.equal((await complete({})).status, 200); // leaves a keep-alive connection in the pool
    sandbox.setTiming({ ttftMs: 60_000 });
    const slow = await post('/chat/completions', { model: 'm', messages, stream: true });
    sandbox.setTiming({ ttftMs: 0 });
    const reading = slow.body.text().then(() => 'ended', (err: unknown) => err);
    await sandbox.setFaults([{ fault: { type: 'refuse' } }]);
    assert.ok((await reading) instanceof Error, 'a stream in flight is cut, as by a dead upstream');
    assert.equal(await socketError(complete({})), 'ECONNREFUSED');
    assert.equal(await socketError(request(`${sandbox.url}/models`)), 'ECONNREFUSED');
    await sandbox.clearFaults();
    assert.equal(sandbox.port, port);
    assert.equal((await complete({})).status, 200);
  });

  it('expires rules after durationMs, refusals included', async () => {
    await sandbox.setFaults([{ fault: { type: 'status', status: 503 }, durationMs: 150 }]);
    assert.equal((await complete({})).status, 503);
    await eventually(async () => ((await complete({})).status === 200 ? true : undefined), 5_000, 'the 503 rule to expire');

    const set = Date.now();
    await sandbox.setFaults([{ fault: { type: 'refuse' }, durationMs: 200 }]);
    assert.equal(await socketError(complete({})), 'ECONNREFUSED');
    await eventually(
      async () => {
        try {
          return (await complete({})).status === 200 ? true : undefined;
        } catch {
          return undefined;
        }
      },
      5_000,
      'the sandbox to listen again',
    );
    assert.ok(Date.now() - set >= 150, 'refused for about durationMs');
  });

  it('rejects invalid rules from setFaults and keeps the old ones', async () => {
    await sandbox.setFaults([{ fault: { type: 'status', status: 503 } }]);
    await assert.rejects(sandbox.setFaults([{ fault: { type: 'status', status: 200 } }]), /rules\.0\.fault\.status/);
    await assert.rejects(sandbox.setFaults([{ fault: { type: 'refuse' }, count: 1 }]), /refuse.*count/);
    assert.equal((await complete({})).status, 503);
  });

  it('is scripted over HTTP: PUT and DELETE /_sandbox/faults, GET /_sandbox/requests', async () => {
    const control = (method: 'PUT' | 'DELETE' | 'GET', path: string, body?: unknown) =>
      request(`http://127.0.0.1:${sandbox.port}/_sandbox/${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });

    const put = await control('PUT', 'faults', { rules: [{ fault: { type: 'status', status: 503, retryAfterSeconds: 2 }, count: 1 }] });
    assert.equal(put.statusCode, 200);
    await put.body.dump();
    const faulted = await complete({});
    assert.equal(faulted.status, 503);
    assert.equal(faulted.headers['retry-after'], '2');

    await (await control('PUT', 'faults', { rules: [{ fault: { type: 'status', status: 500 } }] })).body.dump();
    assert.equal((await complete({})).status, 500);
    const del = await control('DELETE', 'faults');
    assert.equal(del.statusCode, 200);
    await del.body.dump();
    assert.equal((await complete({})).status, 200);

    const bad: [unknown, RegExp][] = [
      [{ rules: [{ fault: { type: 'explode' } }] }, /rules\.0\.fault/],
      [{ rules: 'none' }, /rules/],
      [{ rules: [{ fault: { type: 'refuse' } }] }, /durationMs/],
    ];
    for (const [body, message] of bad) {
      const res = await control('PUT', 'faults', body);
      assert.equal(res.statusCode, 400, JSON.stringify(body));
      const err = (await res.body.json()) as ErrorBody;
      assert.equal(err.error.type, 'invalid_request_error');
      assert.match(err.error.message, message);
    }
    const malformed = await request(`http://127.0.0.1:${sandbox.port}/_sandbox/faults`, { method: 'PUT', body: '{' });
    assert.equal(malformed.statusCode, 400);
    await malformed.body.dump();
    assert.equal((await complete({})).status, 200, 'bad control input left no rule behind');

    // A refusal with a duration, set over HTTP: the answer arrives, then connections are refused.
    const refuse = await control('PUT', 'faults', { rules: [{ fault: { type: 'refuse' }, durationMs: 300 }] });
    assert.equal(refuse.statusCode, 200);
    await refuse.body.dump();
    assert.equal(await socketError(complete({})), 'ECONNREFUSED');
    await eventually(async () => ((await complete({}).catch(() => undefined))?.status === 200 ? true : undefined), 5_000, 'listening again');

    const listed = await control('GET', 'requests');
    const recorded = (await listed.body.json()) as { method: string; path: string; body: { model?: string } }[];
    assert.equal(recorded.length, sandbox.requests.length);
    assert.ok(recorded.every((r) => r.path === '/v1/chat/completions' && r.body.model === 'sandbox-model'), 'control requests are not recorded');
  });
});

describe('sandbox: timing and lifecycle', () => {
  afterEach(() => sandbox?.close());

  it('uses no timer at all when no delay is configured, and one when it is', async () => {
    const original = globalThis.setTimeout;
    const fromSandbox: string[] = [];
    const spy = ((...args: Parameters<typeof setTimeout>) => {
      const stack = new Error().stack ?? '';
      if (stack.includes('daemon/sandbox/')) fromSandbox.push(stack);
      return original(...args);
    }) as typeof setTimeout;
    await start();
    globalThis.setTimeout = spy;
    try {
      await complete({});
      await stream({ stream_options: { include_usage: true } });
      assert.deepEqual(fromSandbox, []);
      sandbox.setTiming({ latencyMs: 5 });
      await complete({});
      assert.equal(fromSandbox.length, 1, 'the spy sees sandbox timers');
    } finally {
      globalThis.setTimeout = original;
    }
  });

  it('waits latencyMs before headers, ttftMs before the first chunk, and paces by tokensPerSecond', async () => {
    await assert.rejects(startSandbox({ ttftMs: -1 }), /ttftMs/);
    await start({ latencyMs: 100 });
    assert.throws(() => sandbox.setTiming({ replyTokens: 0 }), /replyTokens/);
    let t = Date.now();
    assert.equal((await complete({})).status, 200);
    assert.ok(Date.now() - t >= 90, 'latency');

    sandbox.setTiming({ latencyMs: 0, ttftMs: 150 });
    const res = await post('/chat/completions', { model: 'm', messages, stream: true });
    t = Date.now(); // headers are in: the first chunk is still ttftMs away
    await res.body.text();
    assert.ok(Date.now() - t >= 140, 'ttft after the headers');

    sandbox.setTiming({ ttftMs: 0, tokensPerSecond: 100, replyTokens: 11 });
    t = Date.now();
    const { chunks } = await stream({});
    assert.equal(chunks.length, 1 + 11 + 1);
    assert.ok(Date.now() - t >= 90, '10 gaps of 10 ms');
  });

  it('close() ends requests in flight and stops listening', async () => {
    await start({ ttftMs: 60_000 });
    const res = await post('/chat/completions', { model: 'm', messages, stream: true });
    assert.equal(res.statusCode, 200);
    const settled = (p: Promise<unknown>) => p.then(() => 'answered', (err: unknown) => err);
    const reading = settled(res.body.text());
    await sandbox.setFaults([{ fault: { type: 'hang' } }]);
    const hung = settled(post('/chat/completions', { model: 'm', messages }));
    await eventually(async () => (sandbox.requests.length === 2 ? true : undefined), 2_000, 'both requests to arrive');
    const started = Date.now();
    await sandbox.close();
    assert.ok(Date.now() - started < 5_000);
    assert.ok((await reading) instanceof Error, 'the stream ended in an error');
    assert.ok((await hung) instanceof Error, 'the hanging request ended in an error');
    assert.equal(await socketError(request(`http://127.0.0.1:${sandbox.port}/v1/models`)), 'ECONNREFUSED');
  });

  it('keeps only the latest 1000 requests', async () => {
    await start();
    for (let batch = 0; batch < 21; batch++) {
      await Promise.all(Array.from({ length: 50 }, () => request(`${sandbox.url}/models`).then((r) => r.body.dump())));
    }
    await (await post('/chat/completions', { model: 'last', messages })).body.dump();
    assert.equal(sandbox.requests.length, 1000);
    assert.equal((sandbox.requests.at(-1)?.body as { model: string }).model, 'last');
  });
});

describe('sandbox: fault selection (pure)', () => {
  it('takes the first live matching rule, counts it down and expires it on the injected clock', () => {
    let now = 1_000;
    const book = new FaultBook(() => now);
    book.set([
      { fault: { type: 'status', status: 502 }, model: 'a', count: 1 },
      { fault: { type: 'reset' }, count: 2, durationMs: 500 },
      { fault: { type: 'hang' } },
    ]);
    assert.equal(book.take('b')?.type, 'reset');
    assert.equal(book.take('a')?.type, 'status');
    assert.equal(book.take('a')?.type, 'reset');
    assert.equal(book.take('a')?.type, 'hang');
    book.set([{ fault: { type: 'reset' }, durationMs: 500 }]);
    now += 499;
    assert.equal(book.take(undefined)?.type, 'reset');
    now += 1;
    assert.equal(book.take(undefined), undefined);
  });

  it('treats refuse as a listener state: until its expiry, never per request', () => {
    let now = 0;
    const book = new FaultBook(() => now);
    book.set([{ fault: { type: 'refuse' }, durationMs: 100 }, { fault: { type: 'refuse' }, durationMs: 300 }]);
    assert.equal(book.refusingUntil(), 300);
    assert.equal(book.take(undefined), undefined);
    now = 300;
    assert.equal(book.refusingUntil(), undefined);
    book.set([{ fault: { type: 'refuse' } }]);
    assert.equal(book.refusingUntil(), Infinity);
    book.clear();
    assert.equal(book.refusingUntil(), undefined);
  });

  it('validates rules, requiring a duration for refusals set over HTTP', () => {
    assert.equal(parseRules([{ fault: { type: 'refuse' } }]).ok, true);
    const bad = parseRules([{ fault: { type: 'reset-mid-stream' } }]);
    assert.ok(!bad.ok && /rules\.0\.fault\.afterChunks/.test(bad.message));
    const http = parseFaultsBody({ rules: [{ fault: { type: 'refuse' } }] });
    assert.ok(!http.ok && /durationMs/.test(http.message));
    assert.equal(parseFaultsBody({ rules: [{ fault: { type: 'refuse' }, durationMs: 50 }] }).ok, true);
  });
});

describe('sandbox: reply text (pure)', () => {
  it('is a pure function of the messages, labelled, one word per token', () => {
    const a = planReply({ messages }, 10);
    assert.deepEqual(planReply({ messages }, 10), a);
    assert.equal(a.reply.kind, 'text');
    if (a.reply.kind !== 'text') return;
    assert.equal(a.reply.pieces[0], SANDBOX_LABEL);
    assert.equal(a.reply.pieces.length, 10);
    assert.equal(a.completionTokens, 10);
    const b = planReply({ messages: [{ role: 'user', content: 'x' }] }, 10);
    assert.notDeepEqual(b.reply, a.reply);
    const cut = planReply({ messages, maxTokens: 4 }, 10);
    assert.equal(cut.reply.finishReason, 'length');
    assert.equal(cut.completionTokens, 4);
  });

  it('honours tool_choice: none gives text, a named function is called', () => {
    const tools = [{ type: 'function', function: { name: 'first' } }, { type: 'function', function: { name: 'second' } }];
    assert.equal(planReply({ messages, tools, toolChoice: 'none' }, 5).reply.kind, 'text');
    const named = planReply({ messages, tools, toolChoice: { type: 'function', function: { name: 'second' } } }, 5).reply;
    assert.equal(named.kind === 'tool_call' ? named.name : undefined, 'second');
  });
});
