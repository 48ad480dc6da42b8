// Responses clients on a deployment whose provider serves the Responses API itself (`responsesApi`):
// the body passes through unchanged apart from the model, the upstream's answer and events come back
// byte for byte, and the ledger has the usage and cost the upstream reported. A provider without the
// option still gets the request translated to chat completions.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ShepherdConfigInput } from '../../shared/config';
import { startHarness, startSandboxes, type Harness } from '../support/harness';

interface Recorded {
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

const USAGE = { input_tokens: 1200, input_tokens_details: { cached_tokens: 1000 }, output_tokens: 300, output_tokens_details: { reasoning_tokens: 200 }, total_tokens: 1500 };
const RESPONSE = {
  id: 'resp_native_1',
  object: 'response',
  created_at: 1_760_000_000,
  status: 'completed',
  model: 'gpt-5-upstream-2025',
  output: [
    { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'opaque-reasoning-blob' },
    { type: 'web_search_call', id: 'ws_1', status: 'completed', action: { type: 'search', query: 'sheep' } },
    { type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Forty sheep.', annotations: [] }] },
  ],
  usage: USAGE,
  store: true,
  a_future_field: { kept: true },
};
// Events as OpenAI writes them, split across writes at awkward places (mid-event, mid-line).
const EVENTS = [
  { type: 'response.created', sequence_number: 0, response: { ...RESPONSE, status: 'in_progress', output: [], usage: null } },
  { type: 'response.output_item.added', sequence_number: 1, output_index: 0, item: RESPONSE.output[0] },
  { type: 'response.output_text.delta', sequence_number: 2, item_id: 'msg_1', output_index: 2, content_index: 0, delta: 'Forty ', obfuscation: 'abc' },
  { type: 'response.output_text.delta', sequence_number: 3, item_id: 'msg_1', output_index: 2, content_index: 0, delta: 'sheep.', obfuscation: 'de' },
  { type: 'response.completed', sequence_number: 4, response: RESPONSE },
];
const STREAM = EVENTS.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join('');
const FAILED = [
  `event: response.created\ndata: ${JSON.stringify(EVENTS[0])}\n\n`,
  `event: response.failed\ndata: ${JSON.stringify({ type: 'response.failed', sequence_number: 1, response: { ...RESPONSE, status: 'failed', output: [], usage: null, error: { code: 'server_error', message: 'The model had a bad day' } } })}\n\n`,
].join('');

/** A fake OpenAI on loopback that speaks /v1/responses and records what it received. */
async function startFakeOpenAI(): Promise<{ server: Server; url: string; requests: Recorded[] }> {
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
      requests.push({ path: req.url ?? '', headers: req.headers, body });
      if (req.method === 'GET') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"list","data":[]}');
      if (req.url !== '/v1/responses') return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"no such path","type":"invalid_request_error"}}');
      if (body.stream !== true) return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(RESPONSE));
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (body.input === 'fail please') {
        // The failure comes well after the first event, so it cannot fail over any more.
        const cut = FAILED.indexOf('event: response.failed');
        res.write(FAILED.slice(0, cut));
        return void setTimeout(() => res.end(FAILED.slice(cut)), 100);
      }
      const text = STREAM;
      const cuts = [7, 200, 201, 650, text.length - 20, text.length];
      let at = 0;
      const next = (): void => {
        const cut = cuts.shift();
        if (cut === undefined) return void res.end();
        res.write(text.slice(at, Math.min(cut, text.length)));
        at = Math.min(cut, text.length);
        setTimeout(next, 2);
      };
      next();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, requests };
}

describe('responses passthrough: a Responses client on a deployment that serves the Responses API', function () {
  let h: Harness;
  let fake: Awaited<ReturnType<typeof startFakeOpenAI>>;
  before(async () => {
    fake = await startFakeOpenAI();
    const [s] = await startSandboxes(1);
    const config: ShepherdConfigInput = {
      sandbox: false,
      providers: {
        openai: { baseUrl: fake.url, apiKey: 'sk-test-native', responsesApi: true },
        relay: { baseUrl: s.urls.openai, apiKey: 'sk-test-relay' },
      },
      models: {
        'gpt-5': { price: { input: 1.25, cachedInput: 0.125, output: 10 }, deployments: [{ provider: 'openai', model: 'gpt-5-upstream' }] },
        'gpt-relay': { price: { input: 2, output: 8 }, deployments: [{ provider: 'relay', model: 'relay-upstream' }] },
      },
      routing: { health: { probes: { enabled: false } }, retry: { rounds: 0 }, hedge: { enabled: false } },
    };
    h = await startHarness(config, { sandboxes: [s] });
  });
  after(async () => {
    await h.close();
    await new Promise((r) => fake.server.close(r));
  });

  // Fields a translation to chat would lose or refuse: built-in tools, reasoning, include, store.
  const body = {
    model: 'gpt-5',
    instructions: 'Count carefully.',
    input: [
      { role: 'user', content: [{ type: 'input_text', text: 'How many sheep?' }] },
      { type: 'reasoning', id: 'rs_0', summary: [], encrypted_content: 'earlier-blob' },
    ],
    tools: [{ type: 'web_search' }, { type: 'function', name: 'lookup', parameters: { type: 'object', properties: {} } }],
    reasoning: { effort: 'high', summary: 'auto' },
    include: ['reasoning.encrypted_content'],
    store: true,
    text: { verbosity: 'low' },
    some_future_field: { kept: true },
  };

  const post = (payload: unknown): Promise<Response> =>
    fetch(`${h.daemon.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer client-key' }, body: JSON.stringify(payload) });

  const entryFor = async (res: Response) => (await h.ledgerEntries()).find((e) => e.id === res.headers.get('x-request-id'));

  it('sends the body upstream unchanged apart from the model, with the provider key, and returns the Response unchanged', async () => {
    const res = await post(body);
    assert.equal(res.status, 200);
    const sent = fake.requests.at(-1)!;
    assert.equal(sent.path, '/v1/responses');
    assert.deepEqual(sent.body, { ...body, model: 'gpt-5-upstream' });
    assert.equal(sent.headers.authorization, 'Bearer sk-test-native', "the provider's key, never the client's");
    assert.equal(res.headers.get('x-shepherd-dropped-tools'), null, 'nothing was left out');
    assert.equal(await res.text(), JSON.stringify(RESPONSE));
    const entry = await entryFor(res);
    assert.ok(entry, 'a ledger line');
    assert.equal(entry.endpoint, 'responses');
    assert.equal(entry.usageSource, 'upstream');
    assert.equal(entry.promptTokens, 1200);
    assert.equal(entry.completionTokens, 300);
    assert.equal(entry.cachedTokens, 1000);
    const cost = (200 * 1.25 + 1000 * 0.125 + 300 * 10) / 1e6;
    assert.ok(Math.abs(entry.costUsd - cost) < 1e-12, `cost ${entry.costUsd} vs ${cost}`);
  });

  it('relays the stream byte for byte, and prices the usage of response.completed', async () => {
    const res = await post({ ...body, stream: true });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.equal(await res.text(), STREAM);
    assert.deepEqual(fake.requests.at(-1)!.body, { ...body, stream: true, model: 'gpt-5-upstream' });
    const entry = await entryFor(res);
    assert.ok(entry && entry.usageSource === 'upstream', 'usage from the upstream');
    assert.equal(entry.promptTokens, 1200);
    assert.equal(entry.completionTokens, 300);
    assert.equal(entry.status, 200);
  });

  it('works with the official SDK, whole and streamed', async () => {
    const whole = await h.client.responses.create({ model: 'gpt-5', input: 'How many sheep?' });
    assert.equal(whole.id, 'resp_native_1');
    assert.equal(whole.output_text, 'Forty sheep.');
    const stream = await h.client.responses.create({ model: 'gpt-5', input: 'How many sheep?', stream: true });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    assert.deepEqual(types, EVENTS.map((e) => e.type));
  });

  it('records a response.failed stream as an upstream failure, the events still relayed as sent', async () => {
    const res = await post({ model: 'gpt-5', input: 'fail please', stream: true });
    const text = await res.text();
    assert.equal(text, FAILED, 'the upstream events, its failure included, unchanged and nothing added');
    const entry = await entryFor(res);
    assert.ok(entry);
    assert.notEqual(entry.status, 200);
    assert.match(entry.error ?? '', /bad day/);
  });

  it('translates to chat completions for a provider without responsesApi', async () => {
    const res = await post({ model: 'gpt-relay', input: 'Hi', tools: [{ type: 'web_search' }] });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-shepherd-dropped-tools'), 'web_search');
    const sent = h.sandboxes[0].requests.at(-1)!;
    assert.equal(sent.path, '/v1/chat/completions');
    assert.equal(((await res.json()) as { object: string }).object, 'response');
  });
});
