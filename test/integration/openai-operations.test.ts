// The rest of OpenAI's API that developer tools call, with the official `openai` SDK (and Anthropic's
// for models.retrieve) against the daemon and its sandboxes: embeddings (float, base64, dimensions,
// failover, Gemini's native API), text completions with `suffix` (whole and streamed, cancelled),
// model retrieval, and the 400 that names the groups serving an operation.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { configFor, eventually, startHarness, startSandboxes, type Harness } from '../support/harness';
import type { ShepherdConfigInput } from '../../shared/config';
import type { LedgerEntry } from '../../shared/ledger';

function config(urls: string[], gemini: string, extra: Partial<ShepherdConfigInput> = {}): ShepherdConfigInput {
  const base = configFor([]);
  return {
    ...base,
    providers: {
      up0: { baseUrl: urls[0], apiKey: 'sk-0', completions: true },
      up1: { baseUrl: urls[1], apiKey: 'sk-1', completions: true },
      plainUp: { baseUrl: urls[0], apiKey: 'sk-2' },
      ge: { type: 'gemini', baseUrl: gemini, apiKey: 'sk-ge' },
      an: { type: 'anthropic', baseUrl: urls[0], apiKey: 'sk-an' },
    },
    models: {
      chat: { aliases: ['fim'], price: { input: 2, output: 8 }, deployments: [{ provider: 'up0', model: 'coder-0' }, { provider: 'up1', model: 'coder-1' }] },
      plain: { price: { input: 2, output: 8 }, deployments: [{ provider: 'plainUp', model: 'chat-only' }] },
      claude: { deployments: [{ provider: 'an', model: 'claude-x' }] },
      embed: {
        kind: 'embedding',
        aliases: ['text-embedding-3-small'],
        price: { input: 0.1, output: 0 },
        deployments: [{ provider: 'up0', model: 'emb-0' }, { provider: 'up1', model: 'emb-1' }],
      },
      gembed: { kind: 'embedding', price: { input: 0.15, output: 0 }, deployments: [{ provider: 'ge', model: 'gemini-embedding-001' }] },
    },
    ...extra,
  };
}

function norm(v: number[]): number {
  return Math.sqrt(v.reduce((s, x) => s + x * x, 0));
}

function decodeBase64(text: string): number[] {
  const buf = Buffer.from(text, 'base64');
  return Array.from({ length: buf.length / 4 }, (_, i) => buf.readFloatLE(i * 4));
}

async function lineFor(h: Harness, id: string | null | undefined): Promise<LedgerEntry> {
  return eventually(async () => (await h.ledgerEntries()).find((e) => e.id === id), 5_000, `ledger line ${id}`);
}

describe('OpenAI endpoints beyond chat (openai SDK against the sandbox)', function () {
  this.timeout(60_000);
  let h: Harness;
  before(async () => {
    const sandboxes = await startSandboxes(2);
    h = await startHarness(config(sandboxes.map((s) => s.url), sandboxes[0].urls.gemini), { sandboxes });
  });
  after(() => h.close());
  afterEach(() => Promise.all(h.sandboxes.map((s) => s.clearFaults())));

  describe('POST /v1/embeddings', () => {
    it('answers float vectors of the default size, unit length, with usage; the ledger has the tokens and their cost', async () => {
      const { data: res, response } = await h.client.embeddings.create({ model: 'embed', input: 'the flock crosses the river', encoding_format: 'float' }).withResponse();
      assert.equal(res.data.length, 1);
      assert.equal(res.data[0].embedding.length, 1536);
      assert.ok(Math.abs(norm(res.data[0].embedding) - 1) < 1e-4);
      assert.ok(res.usage.prompt_tokens > 0);
      const entry = await lineFor(h, response.headers.get('x-request-id'));
      assert.equal(entry.endpoint, 'embeddings');
      assert.equal(entry.model, 'embed');
      assert.equal(entry.promptTokens, res.usage.prompt_tokens);
      assert.equal(entry.completionTokens, 0);
      assert.equal(entry.usageSource, 'upstream');
      assert.ok(Math.abs(entry.costUsd - (res.usage.prompt_tokens * 0.1) / 1e6) < 1e-12);
      // The upstream got the deployment's model name and the client's fields.
      const sent = h.sandboxes[0].requests.at(-1);
      assert.equal(sent?.path, '/v1/embeddings');
      assert.deepEqual(sent?.body, { model: 'emb-0', input: 'the flock crosses the river', encoding_format: 'float' });
    });

    it('honours dimensions, and base64 decodes to the same numbers as float (the SDK asks base64 by default)', async () => {
      const input = ['first text', 'second text'];
      const float = await h.client.embeddings.create({ model: 'text-embedding-3-small', input, dimensions: 256, encoding_format: 'float' });
      const raw = await h.client.embeddings.create({ model: 'embed', input, dimensions: 256, encoding_format: 'base64' });
      const sdkDefault = await h.client.embeddings.create({ model: 'embed', input, dimensions: 256 });
      assert.equal(float.data.length, 2);
      assert.notDeepEqual(float.data[0].embedding, float.data[1].embedding);
      for (let i = 0; i < 2; i++) {
        assert.equal(float.data[i].embedding.length, 256);
        assert.equal(typeof raw.data[i].embedding, 'string');
        assert.deepEqual(decodeBase64(raw.data[i].embedding as unknown as string), float.data[i].embedding);
        assert.deepEqual(sdkDefault.data[i].embedding, float.data[i].embedding);
      }
    });

    it('fails over to the next deployment when the first answers 500', async () => {
      await h.sandboxes[0].setFaults([{ fault: { type: 'status', status: 500 }, count: 1 }]);
      const { data: res, response } = await h.client.embeddings.create({ model: 'embed', input: 'failover', encoding_format: 'float' }).withResponse();
      assert.equal(res.data[0].embedding.length, 1536);
      assert.equal(response.headers.get('x-shepherd-deployment'), 'up1/emb-1');
      const entry = await lineFor(h, response.headers.get('x-request-id'));
      assert.equal(entry.attempts, 2);
      assert.equal(entry.endpoint, 'embeddings');
    });

    it("goes through Gemini's native batchEmbedContents and answers OpenAI's shape (float and base64)", async () => {
      const res = await h.client.embeddings.create({ model: 'gembed', input: ['a', 'b', 'c'], dimensions: 64, encoding_format: 'float' });
      assert.deepEqual(res.data.map((d) => d.embedding.length), [64, 64, 64]);
      const sent = h.sandboxes[0].requests.at(-1);
      assert.equal(sent?.path, '/v1beta/models/gemini-embedding-001:batchEmbedContents');
      assert.equal((sent?.body as { requests: unknown[] }).requests.length, 3);
      const b64 = await h.client.embeddings.create({ model: 'gembed', input: ['a', 'b', 'c'], dimensions: 64 });
      assert.deepEqual(b64.data[2].embedding, res.data[2].embedding);
      // The same text gets the same vector from the OpenAI-format sandbox: one seed for both.
      const oa = await h.client.embeddings.create({ model: 'embed', input: 'c', dimensions: 64, encoding_format: 'float' });
      assert.deepEqual(oa.data[0].embedding, res.data[2].embedding);
    });

    it('a chat group asked for embeddings is a 400 that names the embedding groups, and the reverse', async () => {
      await assert.rejects(h.client.embeddings.create({ model: 'chat', input: 'x' }), (err: unknown) => {
        assert.ok(err instanceof OpenAI.BadRequestError);
        assert.match(err.message, /"chat" is a chat model group; groups that serve embeddings \(\/v1\/embeddings\): embed, gembed/);
        return true;
      });
      await assert.rejects(h.client.chat.completions.create({ model: 'embed', messages: [{ role: 'user', content: 'x' }] }), (err: unknown) => {
        assert.ok(err instanceof OpenAI.BadRequestError);
        assert.match(err.message, /"embed" is an embedding model group; groups that serve chat .*: chat, plain, claude/);
        return true;
      });
    });

    it('refuses a malformed body with a 400 naming the field', async () => {
      await assert.rejects(h.client.embeddings.create({ model: 'embed', input: 'x', dimensions: -3 }), /dimensions: must be a positive integer/);
      await assert.rejects(h.client.embeddings.create({ model: 'embed', input: [] as string[] }), /input: /);
    });
  });

  describe('POST /v1/completions', () => {
    const prompt = 'def add(a, b):\n    # ';
    const suffix = '\n    return a + b\n';

    it('fills in the middle: text that fits between prompt and suffix, with usage and a ledger line', async () => {
      const { data: res, response } = await h.client.completions.create({ model: 'fim', prompt, suffix, max_tokens: 8, temperature: 0 }).withResponse();
      assert.equal(res.object, 'text_completion');
      const text = res.choices[0].text;
      assert.match(text, /^\[sandbox\]( \w+){7}$/, text); // on the comment's line, no newline
      assert.equal(res.choices[0].finish_reason, 'length');
      assert.equal(res.usage?.completion_tokens, 8);
      const sent = h.sandboxes[0].requests.at(-1);
      assert.equal(sent?.path, '/v1/completions');
      assert.deepEqual(sent?.body, { model: 'coder-0', prompt, suffix, max_tokens: 8, temperature: 0 });
      const entry = await lineFor(h, response.headers.get('x-request-id'));
      assert.equal(entry.endpoint, 'completions');
      assert.equal(entry.completionTokens, 8);
      assert.ok(entry.costUsd > 0);
    });

    it('streams the same text in completion chunks, with usage when asked', async () => {
      const whole = await h.client.completions.create({ model: 'chat', prompt, suffix, max_tokens: 6 });
      const stream = await h.client.completions.create({ model: 'chat', prompt, suffix, max_tokens: 6, stream: true, stream_options: { include_usage: true } });
      let text = '';
      let usage: OpenAI.CompletionUsage | undefined;
      let chunks = 0;
      for await (const chunk of stream) {
        chunks++;
        assert.equal(chunk.object, 'text_completion');
        text += chunk.choices[0]?.text ?? '';
        if (chunk.usage) usage = chunk.usage;
      }
      assert.equal(text, whole.choices[0].text);
      assert.ok(chunks >= 6);
      assert.equal(usage?.completion_tokens, 6);
      // Without include_usage the client sees no usage chunk, and the ledger still has the count.
      const { data: bare, response } = await h.client.completions.create({ model: 'chat', prompt: 'x', max_tokens: 3, stream: true }).withResponse();
      const seen: unknown[] = [];
      for await (const chunk of bare) seen.push(chunk.usage);
      assert.ok(seen.every((u) => u === undefined || u === null));
      const entry = await lineFor(h, response.headers.get('x-request-id'));
      assert.equal(entry.completionTokens, 3);
      assert.equal(entry.usageSource, 'upstream');
      assert.equal(entry.stream, true);
    });

    it('a group whose deployments serve no completions is a 400 that names the groups that do', async () => {
      for (const model of ['plain', 'claude']) {
        await assert.rejects(h.client.completions.create({ model, prompt: 'x' }), (err: unknown) => {
          assert.ok(err instanceof OpenAI.BadRequestError);
          assert.match(err.message, /no deployment that serves text completions.*groups that serve text completions \(\/v1\/completions\): chat$/);
          return true;
        });
      }
    });
  });

  describe('GET /v1/models/{id}', () => {
    it("answers OpenAI's model shape for groups and aliases, and a 404 for unknown ids", async () => {
      const m = await h.client.models.retrieve('chat');
      assert.equal(m.id, 'chat');
      assert.equal(m.object, 'model');
      assert.equal(typeof m.created, 'number');
      const alias = await h.client.models.retrieve('text-embedding-3-small');
      assert.equal(alias.id, 'text-embedding-3-small');
      assert.equal((alias as unknown as { alias_of: string }).alias_of, 'embed');
      await assert.rejects(h.client.models.retrieve('nope'), (err: unknown) => {
        assert.ok(err instanceof OpenAI.NotFoundError);
        assert.equal(err.code, 'model_not_found');
        return true;
      });
    });

    it("answers Anthropic's shape to the Anthropic SDK, and its 404", async () => {
      const anthropic = new Anthropic({ baseURL: h.daemon.url, apiKey: 'unused', maxRetries: 0 });
      const m = await anthropic.models.retrieve('claude');
      assert.equal(m.type, 'model');
      assert.equal(m.id, 'claude');
      assert.ok(!Number.isNaN(Date.parse(m.created_at)));
      await assert.rejects(anthropic.models.retrieve('nope'), (err: unknown) => {
        assert.ok(err instanceof Anthropic.NotFoundError);
        assert.equal((err.error as { error: { type: string } }).error.type, 'not_found_error');
        return true;
      });
    });
  });
});

describe('cancelled autocomplete requests', function () {
  this.timeout(30_000);
  let upstream: Server;
  let closedAt: number[] = [];
  let h: Harness;
  before(async () => {
    // An upstream that sends one completions chunk and then holds the stream open, noting when its
    // request goes away.
    upstream = createServer((req, res) => {
      req.resume();
      res.once('close', () => closedAt.push(performance.now()));
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ id: 'c', object: 'text_completion', created: 1, model: 'm', choices: [{ text: 'first', index: 0, logprobs: null, finish_reason: null }] })}\n\n`);
    });
    upstream.listen(0, '127.0.0.1');
    await new Promise((r) => upstream.once('listening', r));
    const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
    h = await startHarness({ ...configFor([]), providers: { up: { baseUrl: url, apiKey: 'k', completions: true } }, models: { fim: { price: { input: 1, output: 1 }, deployments: [{ provider: 'up', model: 'm' }] } } });
  });
  after(async () => {
    await h.close();
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
  });

  it('reach the upstream at once, and each is a ledger line with status 499', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      closedAt = [];
      const controller = new AbortController();
      const { data: stream, response } = await h.client.completions.create({ model: 'fim', prompt: `p${i}`, suffix: 's', stream: true }, { signal: controller.signal }).withResponse();
      ids.push(response.headers.get('x-request-id') ?? '');
      const it = stream[Symbol.asyncIterator]();
      assert.equal((await it.next()).value?.choices[0].text, 'first');
      const abortedAt = performance.now();
      controller.abort();
      await eventually(() => closedAt.length > 0, 2_000, 'the upstream request to close');
      assert.ok(closedAt[0] - abortedAt < 500, `upstream closed ${closedAt[0] - abortedAt} ms after the client`);
    }
    for (const id of ids) {
      const entry = await lineFor(h, id);
      assert.equal(entry.status, 499);
      assert.equal(entry.endpoint, 'completions');
      assert.equal(entry.ok, false);
    }
  });
});
