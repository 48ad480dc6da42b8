// The sandbox speaking Anthropic Messages and Gemini on loopback: answers, streams, model lists, the
// providers' own error shapes, and the same fault rules as the OpenAI format.
import assert from 'node:assert/strict';
import { anthropic } from '../../daemon/formats/anthropic/adapter';
import { gemini } from '../../daemon/formats/gemini/adapter';
import type { UpstreamTarget } from '../../daemon/core/target';
import { Upstreams } from '../../daemon/upstream/pool';
import { startSandbox, type Sandbox } from '../../daemon/sandbox/server';

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

const messagesBody = { model: 'claude-x', max_tokens: 50, messages: [{ role: 'user', content: 'Hello sheep' }] };
const geminiBody = { contents: [{ role: 'user', parts: [{ text: 'Hello sheep' }] }] };

/** `data:` payloads of an SSE body, with the event names when present. */
function sse(text: string): { event?: string; data: Record<string, unknown> }[] {
  return text
    .split(/\r?\n\r?\n/)
    .filter((f) => f.trim() !== '')
    .map((frame) => {
      const lines = frame.split(/\r?\n/);
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
      const data = JSON.parse(lines.find((l) => l.startsWith('data: '))!.slice(6)) as Record<string, unknown>;
      return { event, data };
    });
}

describe('sandbox: Anthropic Messages format', () => {
  let s: Sandbox;
  before(async () => {
    s = await startSandbox({ models: ['claude-x', 'claude-y'] });
  });
  after(() => s.close());
  afterEach(() => s.clearFaults());

  it('answers POST /v1/messages with a message, stop reason and usage', async () => {
    const res = await post(`${s.urls.anthropic}/messages`, messagesBody);
    assert.equal(res.status, 200);
    const m = (await res.json()) as { type: string; content: { type: string; text: string }[]; stop_reason: string; usage: { input_tokens: number; output_tokens: number } };
    assert.equal(m.type, 'message');
    assert.match(m.content[0].text, /^\[sandbox\]/);
    assert.equal(m.stop_reason, 'end_turn');
    assert.ok(m.usage.input_tokens > 0 && m.usage.output_tokens > 0);
  });

  it('streams the same text as Messages events, in order', async () => {
    const whole = (await (await post(`${s.urls.anthropic}/messages`, messagesBody)).json()) as { content: { text: string }[] };
    const res = await post(`${s.urls.anthropic}/messages`, { ...messagesBody, stream: true });
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const events = sse(await res.text());
    assert.equal(events[0].event, 'message_start');
    assert.equal(events.at(-1)?.event, 'message_stop');
    assert.ok(events.every((e) => e.event === e.data.type));
    const text = events
      .filter((e) => e.event === 'content_block_delta')
      .map((e) => (e.data.delta as { text: string }).text)
      .join('');
    assert.equal(text, whole.content[0].text);
  });

  it('requires max_tokens, as Anthropic does, and answers in Anthropic\'s error shape', async () => {
    const res = await post(`${s.urls.anthropic}/messages`, { model: 'claude-x', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required (an integer of at least 1)' } });
  });

  it('calls a tool with a tool_use block and answers the tool_result with text', async () => {
    const tools = [{ name: 'lookup', input_schema: { type: 'object' } }];
    const first = (await (await post(`${s.urls.anthropic}/messages`, { ...messagesBody, tools })).json()) as {
      content: { type: string; id: string; name: string; input: unknown }[];
      stop_reason: string;
    };
    assert.equal(first.stop_reason, 'tool_use');
    assert.deepEqual([first.content[0].type, first.content[0].name, first.content[0].input], ['tool_use', 'lookup', { query: 'Hello sheep' }]);
    const messages = [
      ...messagesBody.messages,
      { role: 'assistant', content: first.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: first.content[0].id, content: 'found' }] },
    ];
    const second = (await (await post(`${s.urls.anthropic}/messages`, { ...messagesBody, tools, messages })).json()) as { stop_reason: string };
    assert.equal(second.stop_reason, 'end_turn');
  });

  it('answers scripted status faults in Anthropic\'s shape, 529 overloaded included', async () => {
    await s.setFaults([{ fault: { type: 'status', status: 529, message: 'Overloaded' }, count: 1 }]);
    const res = await post(`${s.urls.anthropic}/messages`, messagesBody);
    assert.equal(res.status, 529);
    assert.deepEqual(await res.json(), { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
  });

  it('applies model-matched faults by the body\'s model, and resets mid-stream', async () => {
    await s.setFaults([{ fault: { type: 'reset-mid-stream', afterChunks: 2 }, model: 'claude-y' }]);
    const fine = await post(`${s.urls.anthropic}/messages`, { ...messagesBody, stream: true });
    assert.equal(sse(await fine.text()).at(-1)?.event, 'message_stop');
    const broken = await post(`${s.urls.anthropic}/messages`, { ...messagesBody, model: 'claude-y', stream: true });
    await assert.rejects(broken.text());
  });

  it('lists models in Anthropic\'s shape for the adapter\'s health probe', async () => {
    const upstreams = new Upstreams();
    try {
      const target: UpstreamTarget = { deploymentId: 'a', providerName: 'a', provider: { type: 'anthropic', baseUrl: s.urls.anthropic }, upstreamModel: 'claude-x', apiKey: 'k' };
      const res = await upstreams.send(target, anthropic.probeRequest(target), { connectMs: 1000, firstByteMs: 1000, idleMs: 1000 }, new AbortController().signal);
      assert.equal(res.status, 200);
      const list = (await res.body.json()) as { data: { type: string; id: string }[]; has_more: boolean };
      assert.deepEqual(list.data.map((m) => [m.type, m.id]), [['model', 'claude-x'], ['model', 'claude-y']]);
      assert.equal(list.has_more, false);
    } finally {
      await upstreams.close();
    }
    // Without anthropic-version the same path stays the OpenAI list.
    const openai = (await (await fetch(`${s.url}/models`)).json()) as { object: string };
    assert.equal(openai.object, 'list');
  });
});

describe('sandbox: Gemini format', () => {
  let s: Sandbox;
  before(async () => {
    s = await startSandbox({ models: ['gemini-a', 'gemini-b'] });
  });
  after(() => s.close());
  afterEach(() => s.clearFaults());

  it('answers generateContent with a candidate, finish reason and usage metadata', async () => {
    const res = await post(`${s.urls.gemini}/models/gemini-a:generateContent`, geminiBody);
    assert.equal(res.status, 200);
    const r = (await res.json()) as {
      candidates: { content: { role: string; parts: { text: string }[] }; finishReason: string }[];
      usageMetadata: { promptTokenCount: number; candidatesTokenCount: number };
      modelVersion: string;
    };
    assert.equal(r.candidates[0].content.role, 'model');
    assert.match(r.candidates[0].content.parts[0].text, /^\[sandbox\]/);
    assert.equal(r.candidates[0].finishReason, 'STOP');
    assert.ok(r.usageMetadata.promptTokenCount > 0 && r.usageMetadata.candidatesTokenCount > 0);
    assert.equal(r.modelVersion, 'gemini-a');
  });

  it('streams the same text over SSE with alt=sse, the finish on the last event', async () => {
    const whole = (await (await post(`${s.urls.gemini}/models/gemini-a:generateContent`, geminiBody)).json()) as { candidates: { content: { parts: { text: string }[] } }[] };
    const res = await post(`${s.urls.gemini}/models/gemini-a:streamGenerateContent?alt=sse`, geminiBody);
    const events = sse(await res.text());
    const candidates = events.map((e) => (e.data.candidates as { content: { parts: { text: string }[] }; finishReason?: string }[])[0]);
    assert.equal(candidates.map((c) => c.content.parts[0].text).join(''), whole.candidates[0].content.parts[0].text);
    assert.equal(candidates.at(-1)?.finishReason, 'STOP');
    assert.ok(candidates.slice(0, -1).every((c) => c.finishReason === undefined));
  });

  it('calls a declared function, and answers its functionResponse with text', async () => {
    const tools = [{ functionDeclarations: [{ name: 'lookup' }] }];
    const first = (await (await post(`${s.urls.gemini}/models/gemini-a:generateContent`, { ...geminiBody, tools })).json()) as {
      candidates: { content: { parts: { functionCall: { name: string; args: unknown } }[] } }[];
    };
    assert.deepEqual(first.candidates[0].content.parts[0].functionCall, { name: 'lookup', args: { query: 'Hello sheep' } });
    const contents = [
      ...geminiBody.contents,
      { role: 'model', parts: first.candidates[0].content.parts },
      { role: 'user', parts: [{ functionResponse: { name: 'lookup', response: { found: 1 } } }] },
    ];
    const second = (await (await post(`${s.urls.gemini}/models/gemini-a:generateContent`, { contents, tools })).json()) as {
      candidates: { content: { parts: { text?: string }[] } }[];
    };
    assert.match(second.candidates[0].content.parts[0].text ?? '', /^\[sandbox\]/);
  });

  it('answers bad requests and scripted faults in Google\'s error shape, matching faults by the model in the path', async () => {
    const bad = await post(`${s.urls.gemini}/models/gemini-a:generateContent`, { contents: [] });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { status: string } }).error.status, 'INVALID_ARGUMENT');
    await s.setFaults([{ fault: { type: 'status', status: 503, message: 'The model is overloaded.' }, model: 'gemini-b' }]);
    const fine = await post(`${s.urls.gemini}/models/gemini-a:generateContent`, geminiBody);
    assert.equal(fine.status, 200);
    const faulted = await post(`${s.urls.gemini}/models/gemini-b:generateContent`, geminiBody);
    assert.equal(faulted.status, 503);
    assert.deepEqual(await faulted.json(), { error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } });
  });

  it('resets a stream mid-way and refuses connections like the OpenAI format', async () => {
    await s.setFaults([{ fault: { type: 'reset-mid-stream', afterChunks: 1 }, count: 1 }]);
    const res = await post(`${s.urls.gemini}/models/gemini-a:streamGenerateContent?alt=sse`, geminiBody);
    await assert.rejects(res.text());
    await s.setFaults([{ fault: { type: 'refuse' } }]);
    await assert.rejects(post(`${s.urls.gemini}/models/gemini-a:generateContent`, geminiBody));
  });

  it('lists models in Google\'s shape for the adapter\'s health probe', async () => {
    const upstreams = new Upstreams();
    try {
      const target: UpstreamTarget = { deploymentId: 'g', providerName: 'g', provider: { type: 'gemini', baseUrl: s.urls.gemini }, upstreamModel: 'gemini-a', apiKey: 'k' };
      const res = await upstreams.send(target, gemini.probeRequest(target), { connectMs: 1000, firstByteMs: 1000, idleMs: 1000 }, new AbortController().signal);
      const list = (await res.body.json()) as { models: { name: string }[] };
      assert.deepEqual(list.models.map((m) => m.name), ['models/gemini-a', 'models/gemini-b']);
    } finally {
      await upstreams.close();
    }
  });
});
