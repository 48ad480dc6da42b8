// Anthropic clients on Anthropic deployments: the request passes through unchanged apart from the
// model (cache_control, thinking, context_management, is_error, betas), the answer and its stream
// come back unchanged (thinking blocks with signatures, cache usage), count_tokens, and model names as
// Claude Code sends them. The same for OpenAI-format fields Shepherd does not know.
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import type { ShepherdConfigInput } from '../../shared/config';
import { startHarness, startSandboxes, type Harness } from '../support/harness';

describe('anthropic passthrough: an Anthropic client on an Anthropic deployment', function () {
  let h: Harness;
  let claude: Anthropic;
  before(async () => {
    const [s, o] = await startSandboxes(2);
    const config: ShepherdConfigInput = {
      sandbox: false,
      providers: {
        anth: { type: 'anthropic', baseUrl: s.urls.anthropic, apiKey: 'sk-ant-test-secret', headers: { 'anthropic-beta': 'provider-flag-1' } },
        oai: { baseUrl: o.urls.openai, apiKey: 'sk-test-secret' },
      },
      models: {
        'claude-sonnet-4.5': {
          aliases: ['sonnet', 'claude-sonnet-*'],
          price: { input: 3, cachedInput: 0.3, cacheWrite: 3.75, output: 15 },
          deployments: [{ provider: 'anth', model: 'claude-sonnet-4-5-upstream' }],
        },
        'gpt-4.1': { price: { input: 2, output: 8 }, deployments: [{ provider: 'oai', model: 'gpt-4.1-upstream' }] },
      },
      routing: { health: { probes: { enabled: false } }, retry: { rounds: 0 }, hedge: { enabled: false } },
    };
    h = await startHarness(config, { sandboxes: [s, o] });
    claude = new Anthropic({ baseURL: h.daemon.url, apiKey: 'unused', maxRetries: 0 });
  });
  after(() => h.close());

  // What Claude Code sends, in miniature: cache breakpoints, adaptive thinking, context management,
  // a failed tool result, metadata and a field Shepherd has never heard of.
  const body = {
    model: 'claude-sonnet-5-5',
    max_tokens: 2048,
    system: [
      { type: 'text', text: 'You are a careful agent.', cache_control: { type: 'ephemeral', ttl: '1h' } },
    ],
    messages: [
      { role: 'user', content: 'Use the lookup tool' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 'ram' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'no such ram', is_error: true, cache_control: { type: 'ephemeral' } }] },
    ],
    tools: [{ name: 'lookup', input_schema: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } }],
    thinking: { type: 'enabled', budget_tokens: 1024 },
    context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] },
    metadata: { user_id: 'someone' },
    some_future_field: { kept: true },
  };
  const beta = 'context-management-2025-06-27,interleaved-thinking-2025-05-14';

  async function post(path: string, payload: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${h.daemon.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'anthropic-beta': beta, 'x-api-key': 'unused', ...headers },
      body: JSON.stringify(payload),
    });
  }

  it('sends the body upstream unchanged apart from the model, with the client betas merged with the provider\'s', async () => {
    const res = await post('/v1/messages', body);
    assert.equal(res.status, 200);
    const sent = h.sandboxes[0].requests.at(-1)!;
    assert.deepEqual(sent.body, { ...body, model: 'claude-sonnet-4-5-upstream' });
    assert.equal(sent.headers['anthropic-beta'], `provider-flag-1,${beta}`);
    assert.equal(sent.headers['anthropic-version'], '2023-06-01');
    assert.equal(sent.headers['x-api-key'], 'sk-ant-test-secret', 'the provider key, never the client\'s');
    assert.equal(res.headers.get('x-shepherd-resolved'), 'pattern claude-sonnet-* -> claude-sonnet-4.5');
    const answer = (await res.json()) as { content: { type: string; signature?: string }[]; usage: Record<string, unknown> };
    assert.equal(answer.content[0].type, 'thinking');
    assert.match(answer.content[0].signature ?? '', /^sandbox-signature-/);
    assert.ok((answer.usage.cache_read_input_tokens as number) > 0);
    assert.equal((answer.usage.cache_creation as Record<string, number>).ephemeral_1h_input_tokens, answer.usage.cache_creation_input_tokens);
  });

  it('streams the upstream bytes unchanged, and the ledger has the usage with cache reads and writes priced', async () => {
    const direct = await fetch(`${h.sandboxes[0].urls.anthropic}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ ...body, model: 'claude-sonnet-4-5-upstream', stream: true }),
    });
    const expected = (await direct.text()).replace(/msg_sbx_\d+/g, 'msg').replace(/toolu_sbx_\d+/g, 'toolu');
    const res = await post('/v1/messages', { ...body, stream: true });
    const got = (await res.text()).replace(/msg_sbx_\d+/g, 'msg').replace(/toolu_sbx_\d+/g, 'toolu');
    assert.equal(got, expected);
    assert.match(got, /signature_delta/);
    const entry = (await h.ledgerEntries()).find((e) => e.id === res.headers.get('x-request-id'));
    assert.ok(entry && entry.cachedTokens! > 0 && entry.usageSource === 'upstream');
    const usage = JSON.parse(/"usage":(\{[^}]*\{[^}]*\}[^}]*\})/.exec(got)![1]) as Record<string, number>;
    const prompt = usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens;
    assert.equal(entry.promptTokens, prompt);
    // The ledger keeps the cache writes apart, so spend reports can show them and what caching saved.
    assert.equal(entry.cacheWriteTokens ?? 0, usage.cache_creation_input_tokens);
    const cost = (usage.input_tokens * 3 + usage.cache_read_input_tokens * 0.3 + usage.cache_creation_input_tokens * 3.75 + entry.completionTokens * 15) / 1e6;
    assert.ok(Math.abs(entry.costUsd - cost) < 1e-9, `cost ${entry.costUsd} vs ${cost}`);
  });

  it('works with the official SDK, whole and streamed, thinking blocks included', async () => {
    const params = { model: 'claude-sonnet-4-5-20250929', max_tokens: 512, thinking: { type: 'enabled' as const, budget_tokens: 256 }, messages: [{ role: 'user' as const, content: 'Hi' }] };
    const whole = await claude.messages.create(params);
    assert.deepEqual(whole.content.map((b) => b.type), ['thinking', 'text']);
    const streamed = await claude.messages.stream(params).finalMessage();
    assert.deepEqual(streamed.content, whole.content);
  });

  it('passes count_tokens through to an Anthropic deployment, and estimates locally otherwise', async () => {
    const counted = await claude.messages.countTokens({ model: 'sonnet', messages: [{ role: 'user', content: 'How many sheep?' }] });
    const last = h.sandboxes[0].requests.at(-1)!;
    assert.equal(last.path, '/v1/messages/count_tokens');
    assert.equal((last.body as { model: string }).model, 'claude-sonnet-4-5-upstream');
    assert.ok(counted.input_tokens > 0);
    const local = await post('/v1/messages/count_tokens', { model: 'gpt-4.1', messages: [{ role: 'user', content: 'How many sheep?' }] });
    assert.equal(local.status, 200);
    assert.equal(local.headers.get('x-shepherd-estimate'), 'true');
    assert.ok(((await local.json()) as { input_tokens: number }).input_tokens > 0);
    const unknown = await post('/v1/messages/count_tokens', { model: 'gpt-9', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { type: string }).type, 'error');
  });

  it('translates when the deployment speaks another format (no passthrough to an OpenAI upstream)', async () => {
    const res = await post('/v1/messages', { model: 'gpt-4.1', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }] });
    assert.equal(res.status, 200);
    assert.equal((h.sandboxes[1].requests.at(-1)!.body as { model: string }).model, 'gpt-4.1-upstream');
    assert.equal(((await res.json()) as { type: string }).type, 'message');
  });

  it('keeps OpenAI-format fields it does not know on the way to an OpenAI upstream', async () => {
    const extra = { prompt_cache_key: 'conv-1', reasoning_effort: 'low' as const, service_tier: 'flex' as const, metadata: { a: 'b' }, store: false };
    await h.client.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'Hi' }], ...extra });
    const sent = h.sandboxes[1].requests.at(-1)!.body as Record<string, unknown>;
    for (const [k, v] of Object.entries(extra)) assert.deepEqual(sent[k], v, k);
  });
});
