// POST /v1/responses end to end with the official `openai` client: the Responses API translated to
// chat completions for every kind of deployment, whole and streamed (events in OpenAI's order, with
// sequence numbers), tools and their round trip, structured output, tools left out, the refused
// previous_response_id, a stream broken mid-way, failover, and the ledger's endpoint.
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { zodTextFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { configFor, startHarness, startSandboxes, type Harness } from '../support/harness';
import type { ShepherdConfigInput } from '../../shared/config';

const SHELL: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'shell',
  description: 'Runs a command',
  strict: false,
  parameters: {
    type: 'object',
    properties: { command: { type: 'array', items: { type: 'string' } }, workdir: { type: 'string' }, timeout_ms: { type: 'number' } },
    required: ['command'],
    additionalProperties: false,
  },
};

interface Event {
  type: string;
  sequence_number: number;
  [key: string]: unknown;
}

async function streamEvents(h: Harness, body: Record<string, unknown>): Promise<{ events: Event[]; headers: Headers }> {
  const res = await fetch(`${h.daemon.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, stream: true }) });
  assert.equal(res.status, 200, await res.clone().text());
  const text = await res.text();
  const events: Event[] = [];
  for (const frame of text.split('\n\n')) {
    if (frame.trim() === '') continue;
    const name = /^event: (.*)$/m.exec(frame)?.[1];
    const data = JSON.parse(/^data: (.*)$/m.exec(frame)?.[1] ?? 'null') as Event;
    assert.equal(name, data.type, 'each frame names its event');
    events.push(data);
  }
  return { events, headers: res.headers };
}

describe('/v1/responses through the openai client', function () {
  let h: Harness;
  beforeEach(async () => {
    const sandboxes = await startSandboxes(2);
    h = await startHarness(configFor(sandboxes), { sandboxes });
  });
  afterEach(() => h.close());

  it('answers a string input with instructions as a Response, and records the endpoint in the ledger', async () => {
    const { data, response } = await h.client.responses
      .create({ model: 'chat', instructions: 'Be terse.', input: 'Say something about sheep.', max_output_tokens: 100, metadata: { job: 'x' }, store: true, prompt_cache_key: 'k1', reasoning: { effort: 'low' } })
      .withResponse();
    assert.match(data.id, /^resp_[0-9a-f]{32}$/);
    assert.equal(data.object, 'response');
    assert.equal(data.status, 'completed');
    assert.match(data.output_text, /^\[sandbox\]/);
    assert.equal(data.output[0].type, 'message');
    assert.equal((data as unknown as { store: boolean }).store, false, 'Shepherd keeps no responses, and says so');
    assert.deepEqual(data.metadata, { job: 'x' });
    assert.ok(data.usage && data.usage.input_tokens > 0 && data.usage.output_tokens > 0);
    assert.equal(data.usage.total_tokens, data.usage.input_tokens + data.usage.output_tokens);
    assert.equal(response.headers.get('x-shepherd-model'), 'chat');
    const sent = h.sandboxes[0].requests.at(-1);
    assert.equal(sent?.path, '/v1/chat/completions');
    assert.deepEqual(sent?.body, {
      model: 'upstream-model-0',
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'user', content: 'Say something about sheep.' },
      ],
      max_completion_tokens: 100,
      reasoning_effort: 'low',
      prompt_cache_key: 'k1',
    });
    const [entry] = await h.ledgerEntries();
    assert.equal(entry.endpoint, 'responses');
    assert.ok(entry.costUsd > 0);
    await h.client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal((await h.ledgerEntries())[1].endpoint, undefined, 'chat is the default: no field');
  });

  it('streams the events OpenAI sends, in order, with consecutive sequence numbers and the same text', async () => {
    const whole = await h.client.responses.create({ model: 'chat', input: 'Tell me of the flock' });
    const { events } = await streamEvents(h, { model: 'chat', input: 'Tell me of the flock' });
    assert.deepEqual(events.map((e) => e.sequence_number), events.map((_, i) => i));
    const types = events.map((e) => e.type);
    const deltas = types.filter((t) => t === 'response.output_text.delta').length;
    assert.ok(deltas > 3);
    assert.deepEqual(types, [
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      ...Array<string>(deltas).fill('response.output_text.delta'),
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const done = events.find((e) => e.type === 'response.output_text.done');
    assert.equal(done?.text, whole.output_text);
    const completed = events.at(-1)?.response as OpenAI.Responses.Response;
    assert.equal(completed.status, 'completed');
    assert.ok(completed.usage && completed.usage.output_tokens > 0, 'usage in response.completed');
    assert.deepEqual(completed.usage?.input_tokens_details, { cached_tokens: 0 });
    // The SDK's own stream helper reads the same events.
    const stream = h.client.responses.stream({ model: 'chat', input: 'Tell me of the flock' });
    let text = '';
    stream.on('response.output_text.delta', (e) => (text += e.delta));
    const final = await stream.finalResponse();
    assert.equal(text, whole.output_text);
    assert.equal(final.output_text, whole.output_text);
  });

  it('calls a function tool with schema-valid arguments, streamed, and leaves out tools a chat deployment cannot run', async () => {
    const tools = [{ type: 'web_search' }, SHELL, { type: 'custom', name: 'apply_patch', description: 'patch' }];
    const { events, headers } = await streamEvents(h, { model: 'chat', input: 'list the files', tools, tool_choice: 'auto', parallel_tool_calls: false });
    assert.equal(headers.get('x-shepherd-dropped-tools'), 'web_search, custom:apply_patch');
    assert.ok(h.logs.some((l) => l.includes('left out what a chat deployment cannot run') && l.includes('custom:apply_patch')), 'and the log says so');
    const sent = h.sandboxes[0].requests.at(-1)?.body as { tools: unknown[]; parallel_tool_calls: boolean; tool_choice: string };
    assert.deepEqual(sent.tools, [{ type: 'function', function: { name: 'shell', description: 'Runs a command', parameters: SHELL.parameters, strict: false } }]);
    assert.equal(sent.parallel_tool_calls, false);
    const types = events.map((e) => e.type);
    const argDeltas = types.filter((t) => t === 'response.function_call_arguments.delta').length;
    assert.deepEqual(types, [
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      ...Array<string>(argDeltas).fill('response.function_call_arguments.delta'),
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const item = events.find((e) => e.type === 'response.output_item.done')?.item as OpenAI.Responses.ResponseFunctionToolCall;
    assert.equal(item.type, 'function_call');
    assert.equal(item.name, 'shell');
    assert.match(item.call_id, /^call_sbx_/);
    assert.deepEqual(JSON.parse(item.arguments), { command: ['bash', '-lc', 'ls'] });
    const completed = events.at(-1)?.response as OpenAI.Responses.Response;
    assert.deepEqual(completed.output, [item]);
    assert.deepEqual(completed.tools.map((t) => t.type), ['function'], 'the response lists the tools it could use');
  });

  it('completes a tool round trip: function_call and function_call_output items in, a text answer out', async () => {
    const first = await h.client.responses.create({ model: 'chat', input: 'list the files', tools: [SHELL] });
    const call = first.output.find((o): o is OpenAI.Responses.ResponseFunctionToolCall => o.type === 'function_call');
    assert.ok(call, 'a function call');
    const second = await h.client.responses.create({
      model: 'chat',
      tools: [SHELL],
      input: [
        { role: 'developer', content: 'You are a coding agent.' },
        { role: 'user', content: [{ type: 'input_text', text: 'list the files' }] },
        { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'opaque' },
        call,
        { type: 'function_call_output', call_id: call.call_id, output: 'README.md\nsrc' },
      ],
    });
    assert.equal(second.status, 'completed');
    assert.equal(second.output_text, '[sandbox] Done. The tool said: README.md src');
    const sent = h.sandboxes[0].requests.at(-1)?.body as { messages: unknown[] };
    assert.deepEqual(sent.messages, [
      { role: 'system', content: 'You are a coding agent.' },
      { role: 'user', content: 'list the files' },
      { role: 'assistant', content: null, tool_calls: [{ id: call.call_id, type: 'function', function: { name: 'shell', arguments: call.arguments } }] },
      { role: 'tool', tool_call_id: call.call_id, content: 'README.md\nsrc' },
    ]);
  });

  it('honours text.format with a JSON schema: responses.parse returns an object that matches it', async () => {
    const Plan = z.object({ title: z.string(), steps: z.array(z.object({ n: z.number().int(), done: z.boolean() })), kind: z.enum(['fix', 'feature']) });
    const parsed = await h.client.responses.parse({ model: 'chat', input: 'Plan the work', text: { format: zodTextFormat(Plan, 'plan') } });
    assert.ok(parsed.output_parsed, 'parsed output');
    assert.deepEqual(Plan.parse(parsed.output_parsed), parsed.output_parsed);
    assert.equal(parsed.output_parsed.kind, 'fix');
    const sent = h.sandboxes[0].requests.at(-1)?.body as { response_format: { type: string; json_schema: { name: string } } };
    assert.equal(sent.response_format.type, 'json_schema');
    assert.equal(sent.response_format.json_schema.name, 'plan');
    const loose = await h.client.responses.create({ model: 'chat', input: 'As JSON please', text: { format: { type: 'json_object' } } });
    assert.equal(typeof JSON.parse(loose.output_text), 'object');
  });

  it('says when max_output_tokens cut the answer: status incomplete, and response.incomplete when streamed', async () => {
    const cut = await h.client.responses.create({ model: 'chat', input: 'Talk at length', max_output_tokens: 3 });
    assert.equal(cut.status, 'incomplete');
    assert.deepEqual(cut.incomplete_details, { reason: 'max_output_tokens' });
    const { events } = await streamEvents(h, { model: 'chat', input: 'Talk at length', max_output_tokens: 3 });
    assert.equal(events.at(-1)?.type, 'response.incomplete');
  });

  it('refuses previous_response_id with a 400 that says to send the whole input, and names a bad field', async () => {
    await assert.rejects(h.client.responses.create({ model: 'chat', input: 'next', previous_response_id: 'resp_123' }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.BadRequestError);
      assert.equal(err.code, 'previous_response_not_supported');
      assert.equal(err.param, 'previous_response_id');
      assert.match(err.message, /whole conversation in `input`/);
      return true;
    });
    const res = await fetch(`${h.daemon.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'chat', input: [{ role: 'user', content: [{ type: 'input_audio' }] }] }) });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { message: string; param: string } };
    assert.equal(body.error.param, 'input[0].content[0].type');
    assert.equal((await h.ledgerEntries()).length, 0, 'a request refused before routing has no ledger line');
  });

  it('fails over before the first byte, as chat does', async () => {
    await h.sandboxes[0].setFaults([{ fault: { type: 'status', status: 503 }, count: 1 }]);
    const { events, headers } = await streamEvents(h, { model: 'chat', input: 'hello' });
    assert.equal(headers.get('x-shepherd-attempts'), '2');
    assert.equal(headers.get('x-shepherd-deployment'), 'up1/upstream-model-1');
    assert.equal(events.at(-1)?.type, 'response.completed');
  });
});

describe('/v1/responses: a stream broken mid-way', function () {
  it('ends with response.failed (the output so far marked incomplete), and the ledger records the failure', async () => {
    const sandboxes = await startSandboxes(1);
    const h = await startHarness(configFor(sandboxes), { sandboxes });
    try {
      await sandboxes[0].setFaults([{ fault: { type: 'reset-mid-stream', afterChunks: 3 } }]);
      const { events } = await streamEvents(h, { model: 'chat', input: 'hello' });
      const last = events.at(-1);
      assert.equal(last?.type, 'response.failed');
      const response = last?.response as OpenAI.Responses.Response;
      assert.equal(response.status, 'failed');
      assert.match(response.error?.message ?? '', /stream interrupted/);
      assert.equal((response.output[0] as { status: string }).status, 'incomplete');
      const [entry] = await h.ledgerEntries();
      assert.equal(entry.ok, false);
      assert.equal(entry.endpoint, 'responses');
    } finally {
      await h.close();
    }
  });
});

describe('/v1/responses on Anthropic and Gemini deployments', function () {
  it('translates for every provider type, whole and streamed, tool calls included', async () => {
    const [s] = await startSandboxes(1);
    const base = configFor([]);
    const config: ShepherdConfigInput = {
      ...base,
      providers: {
        an: { type: 'anthropic', baseUrl: s.urls.anthropic, apiKey: 'sk-an' },
        ge: { type: 'gemini', baseUrl: s.urls.gemini, apiKey: 'sk-ge' },
      },
      models: { an: { deployments: [{ provider: 'an', model: 'claude-x' }] }, ge: { deployments: [{ provider: 'ge', model: 'gemini-x' }] } },
    };
    const h = await startHarness(config, { sandboxes: [s] });
    try {
      for (const model of ['an', 'ge']) {
        const whole = await h.client.responses.create({ model, input: 'hello there', max_output_tokens: 50 });
        assert.match(whole.output_text, /^\[sandbox\]/, model);
        const { events } = await streamEvents(h, { model, input: 'hello there', max_output_tokens: 50 });
        const done = events.find((e) => e.type === 'response.output_text.done');
        assert.equal(done?.text, whole.output_text, `${model}: streamed text`);
        assert.equal(events.at(-1)?.type, 'response.completed');
        const called = await h.client.responses.create({ model, input: 'list the files', tools: [SHELL], max_output_tokens: 50 });
        const call = called.output.find((o) => o.type === 'function_call');
        assert.equal(call?.type === 'function_call' ? call.name : undefined, 'shell', `${model}: a tool call`);
        // The Gemini sandbox reads the declaration's schema (the Anthropic one's arguments are its own business).
        if (model === 'ge') assert.deepEqual(JSON.parse(call?.type === 'function_call' ? call.arguments : '{}'), { command: ['bash', '-lc', 'ls'] });
      }
    } finally {
      await h.close();
    }
  });
});
