// Embeddings and text completions, unit by unit: the client-side checks, each adapter's translation
// (OpenAI-compatible pass-through, Codestral's FIM path, Gemini's batchEmbedContents), the sandbox's
// deterministic answers, and the plan's verdict on a group of another kind.
import assert from 'node:assert/strict';
import { openaiCompatible } from '../../daemon/formats/openai/adapter';
import { gemini } from '../../daemon/formats/gemini/adapter';
import { float32Base64, parseCompletionsRequest, parseEmbeddingsRequest } from '../../daemon/formats/openai/operation-request';
import { HttpError } from '../../daemon/core/http-error';
import type { UpstreamTarget } from '../../daemon/core/target';
import { planRoute } from '../../daemon/routing/plan';
import { RoutingCursors } from '../../daemon/routing/strategies';
import { embeddingsJson, planInfill, sandboxVector } from '../../daemon/sandbox/operations-wire';
import { catalogOf, FakeHealth, LOCAL } from '../support/routing-fixtures';
import type { ProviderConfig } from '../../shared/config';

function target(provider: Partial<ProviderConfig> = {}, upstreamModel = 'up-model'): UpstreamTarget {
  return { deploymentId: 'p/m', providerName: 'p', provider: { type: 'openai-compatible', baseUrl: 'http://127.0.0.1:1/v1', ...provider }, upstreamModel, apiKey: 'sk-x' };
}

describe('operations: client requests', () => {
  it('embeddings: keeps the body as sent, and its view carries the input text for estimates', () => {
    const body = { model: 'e', input: ['a', 'b'], dimensions: 8, encoding_format: 'base64', user: 'u' };
    const { view, payload } = parseEmbeddingsRequest(body);
    assert.equal(payload, body);
    assert.deepEqual(view, { model: 'e', messages: [{ role: 'user', content: 'a\nb' }], stream: false });
  });

  it('embeddings and completions: a 400 that names the field', () => {
    const bad = (f: () => unknown, re: RegExp) => assert.throws(f, (err: unknown) => err instanceof HttpError && err.status === 400 && re.test(err.message));
    bad(() => parseEmbeddingsRequest({ model: 'e' }), /^input: required/);
    bad(() => parseEmbeddingsRequest({ model: 'e', input: 'x', encoding_format: 'hex' }), /^encoding_format: must be "float" or "base64"/);
    bad(() => parseEmbeddingsRequest({ model: 'e', input: 'x', dimensions: 1.5 }), /^dimensions: must be a positive integer/);
    bad(() => parseCompletionsRequest({ model: 'c', prompt: 'x', suffix: 3 }), /^suffix:/);
    bad(() => parseCompletionsRequest({ model: 'c' }), /^prompt: required/);
  });

  it('completions: the view streams as asked and counts prompt and suffix', () => {
    const { view } = parseCompletionsRequest({ model: 'c', prompt: 'def f(', suffix: '):', stream: true, max_tokens: 32, stream_options: { include_usage: true } });
    assert.deepEqual(view, { model: 'c', messages: [{ role: 'user', content: 'def f():' }], stream: true, stream_options: { include_usage: true }, max_tokens: 32 });
  });

  it('base64 is little-endian float32', () => {
    const buf = Buffer.from(float32Base64([1, -0.5]), 'base64');
    assert.deepEqual([buf.readFloatLE(0), buf.readFloatLE(4)], [1, -0.5]);
  });
});

describe('operations: openai-compatible adapter', () => {
  it('passes embeddings and completions through with the upstream model name, asking streams for usage', () => {
    const e = openaiCompatible.embeddingsRequest!(target(), { model: 'group', input: 'x', dimensions: 3 });
    assert.equal(e.path, '/embeddings');
    assert.deepEqual(JSON.parse(e.body!), { model: 'up-model', input: 'x', dimensions: 3 });
    const c = openaiCompatible.completionsRequest!(target(), { model: 'group', prompt: 'a', suffix: 'b', stream: true, echo: false });
    assert.equal(c.path, '/completions');
    assert.deepEqual(JSON.parse(c.body!), { model: 'up-model', prompt: 'a', suffix: 'b', stream: true, echo: false, stream_options: { include_usage: true } });
  });

  it("sends Codestral's FIM API only the fields it takes, at its own path", () => {
    const c = openaiCompatible.completionsRequest!(target({ completionsPath: '/fim/completions' }, 'codestral-latest'), {
      model: 'group', prompt: 'def f(', suffix: '):', max_tokens: 16, temperature: 0, stream: true, echo: false, logprobs: null, seed: 7, stream_options: { include_usage: true },
    });
    assert.equal(c.path, '/fim/completions');
    assert.deepEqual(JSON.parse(c.body!), { prompt: 'def f(', suffix: '):', max_tokens: 16, temperature: 0, stream: true, random_seed: 7, model: 'codestral-latest' });
  });

  it("turns a FIM API's chat-shaped answer and chunks into text completions; usage is read", () => {
    const answer = { id: 'x', object: 'chat.completion', model: 'codestral', created: 1, choices: [{ index: 0, message: { role: 'assistant', content: 'x, y' }, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } };
    const parsed = openaiCompatible.parseCompletions!(JSON.stringify(answer));
    const body = JSON.parse(parsed.body);
    assert.equal(body.object, 'text_completion');
    assert.deepEqual(body.choices, [{ text: 'x, y', index: 0, logprobs: null, finish_reason: 'stop' }]);
    assert.deepEqual(parsed.usage, { promptTokens: 5, completionTokens: 2 });
    // An OpenAI-shaped text completion passes through byte for byte.
    const text = JSON.stringify({ object: 'text_completion', choices: [{ text: 'z', index: 0, finish_reason: 'stop' }] });
    assert.equal(openaiCompatible.parseCompletions!(text).body, text);
    const relay = openaiCompatible.streamTranslator({ clientWantsUsage: false, operation: 'completions' });
    const [frame] = relay.push({ data: JSON.stringify({ id: 'x', choices: [{ index: 0, delta: { content: 'ab' }, finish_reason: null }] }) });
    assert.equal(JSON.parse(frame.slice(6)).choices[0].text, 'ab');
  });
});

describe('operations: gemini adapter embeddings', () => {
  it('asks batchEmbedContents with outputDimensionality, and answers OpenAI float or base64 vectors', () => {
    const payload = { model: 'gembed', input: ['a', 'bb'], dimensions: 2, encoding_format: 'base64' };
    const r = gemini.embeddingsRequest!(target({ type: 'gemini' }, 'gemini-embedding-001'), payload);
    assert.equal(r.path, '/models/gemini-embedding-001:batchEmbedContents');
    assert.deepEqual(JSON.parse(r.body!), {
      requests: [
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'a' }] }, outputDimensionality: 2 },
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'bb' }] }, outputDimensionality: 2 },
      ],
    });
    const upstream = JSON.stringify({ embeddings: [{ values: [0.5, -0.25] }, { values: [1, 0] }] });
    const b64 = JSON.parse(gemini.parseEmbeddings!(upstream, payload).body);
    assert.equal(b64.data[1].embedding, float32Base64([1, 0]));
    const float = gemini.parseEmbeddings!(upstream, { ...payload, encoding_format: 'float' });
    assert.deepEqual(JSON.parse(float.body).data[0], { object: 'embedding', index: 0, embedding: [0.5, -0.25] });
    assert.equal(float.usage, undefined, 'Gemini reports no usage: the ledger estimates');
  });

  it('refuses token arrays (Gemini embeds text) as the client’s error', () => {
    assert.throws(() => gemini.embeddingsRequest!(target({ type: 'gemini' }), { model: 'g', input: [1, 2, 3] }), /token arrays/);
  });
});

describe('operations: sandbox', () => {
  it('gives the same unit vector for the same text, different ones for different texts, at any size', () => {
    const a = sandboxVector('hello', 32);
    assert.deepEqual(a, sandboxVector('hello', 32));
    assert.notDeepEqual(a, sandboxVector('hello!', 32));
    assert.ok(Math.abs(Math.hypot(...a) - 1) < 1e-5);
    const body = JSON.parse(embeddingsJson({ model: 'text-embedding-3-large', input: 'x' }));
    assert.equal(body.data[0].embedding.length, 3072);
  });

  it('fills in the middle on the prompt’s line, spaced to fit, cut at max_tokens', () => {
    const p = planInfill('const x = ', ';', 3, 24);
    assert.equal(p.pieces.join('').includes('\n'), false);
    assert.match(p.pieces.join(''), /^\[sandbox\] \w+ \w+ $/);
    assert.equal(p.finishReason, 'length');
    assert.match(planInfill('word', '', 2, 2).pieces.join(''), /^ \[sandbox\] \w+$/);
    assert.equal(planInfill('word', '', 2, 2).finishReason, 'stop');
  });
});

describe('operations: plan', () => {
  const catalog = catalogOf({
    providers: { p: { ...LOCAL, completions: true }, q: LOCAL, a: { ...LOCAL, type: 'anthropic' } },
    models: {
      coder: { deployments: [{ provider: 'p', model: 'c' }, { provider: 'q', model: 'c' }] },
      chat: { deployments: [{ provider: 'q', model: 'x' }] },
      emb: { kind: 'embedding', deployments: [{ provider: 'a', model: 'e' }, { provider: 'q', model: 'e' }] },
    },
  });
  const ctx = { catalog, health: new FakeHealth(), cursors: new RoutingCursors(), distances: () => undefined, random: () => 0 };
  const body = { model: 'x', messages: [{ role: 'user', content: 'x' }] };

  it('keeps deployments that cannot serve the operation out of the plan, with the reason', () => {
    const r = planRoute(ctx, 'coder', body, 'completions');
    assert.ok(r.ok);
    assert.deepEqual(r.plan.attempts.map((a) => a.deployment.id), ['p/c']);
    assert.deepEqual(r.plan.skipped.map((s) => s.reason), ['does not serve completions']);
    const e = planRoute(ctx, 'emb', body, 'embeddings');
    assert.ok(e.ok);
    assert.deepEqual(e.plan.attempts.map((a) => a.deployment.id), ['q/e'], 'Anthropic has no embeddings');
  });

  it('refuses a group of another kind, naming the groups that serve the operation', () => {
    const r = planRoute(ctx, 'chat', body, 'completions');
    assert.ok(!r.ok && r.reason === 'wrong_operation');
    assert.match(r.message, /groups that serve text completions \(\/v1\/completions\): coder$/);
    const e = planRoute(ctx, 'emb', body, 'chat');
    assert.ok(!e.ok && e.reason === 'wrong_operation');
    assert.match(e.message, /"emb" is an embedding model group; groups that serve chat \(\/v1\/chat\/completions\): coder, chat$/);
  });
});
