// Cache affinity end to end (issue 17, item 4): with round robin over two deployments, consecutive
// requests of one conversation stay on the deployment that served it first, different conversations
// still spread, and the plan endpoint says why.
import assert from 'node:assert/strict';
import type OpenAI from 'openai';
import { configFor, startHarness, startSandboxes, type Harness } from '../support/harness';

const system = 'You are a careful coding agent. Read the files before editing them. '.repeat(80);

describe('cache affinity: round robin keeps a conversation on one deployment', function () {
  this.timeout(20_000);
  let h: Harness;

  before(async () => {
    const sandboxes = await startSandboxes(2);
    const config = configFor(sandboxes);
    config.models!.chat.strategy = 'round-robin';
    h = await startHarness(config, { sandboxes });
  });
  after(() => h.close());

  const ask = async (messages: OpenAI.ChatCompletionMessageParam[], extra: Record<string, unknown> = {}) => {
    const { response } = await h.client.chat.completions.create({ model: 'chat', messages, ...extra }).withResponse();
    return { deployment: response.headers.get('x-shepherd-deployment'), route: response.headers.get('x-shepherd-route') };
  };

  it('sends every turn of a conversation where its first was served; other conversations spread', async () => {
    const turns: OpenAI.ChatCompletionMessageParam[] = [{ role: 'system', content: system }, { role: 'user', content: 'Task A: fix the parser.' }];
    const first = await ask(turns);
    const served: (string | null)[] = [];
    for (let i = 0; i < 5; i++) {
      turns.push({ role: 'assistant', content: `step ${i} done` }, { role: 'user', content: `next step ${i}` });
      const r = await ask(turns);
      served.push(r.deployment);
      assert.equal(r.route, 'cache affinity: served this conversation last');
    }
    assert.deepEqual(served, Array(5).fill(first.deployment));
    // Distinct conversations still go round: with round robin, a run of them lands on both deployments.
    const others = new Set<string | null>();
    for (let i = 0; i < 6; i++) others.add((await ask([{ role: 'system', content: system }, { role: 'user', content: `Task ${i + 100}` }])).deployment);
    assert.equal(others.size, 2, `spread over ${[...others].join(', ')}`);
    // Short prompts (nothing to cache) are not pinned: the same "hi" goes round.
    const short = new Set<string | null>();
    for (let i = 0; i < 4; i++) short.add((await ask([{ role: 'user', content: 'hi' }])).deployment);
    assert.equal(short.size, 2);
  });

  it('keys on prompt_cache_key, and the plan endpoint shows the affinity in its reasons', async () => {
    const first = await ask([{ role: 'user', content: 'one' }], { prompt_cache_key: 'session-42' });
    for (let i = 0; i < 3; i++) assert.equal((await ask([{ role: 'user', content: `turn ${i}` }], { prompt_cache_key: 'session-42' })).deployment, first.deployment);
    const res = await fetch(`${h.daemon.url}/v1/shepherd/plan`, {
      method: 'POST',
      body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'x' }], prompt_cache_key: 'session-42' }),
    });
    const plan = (await res.json()) as { attempts: { deployment: string; reason: string }[] };
    assert.equal(plan.attempts[0].deployment, first.deployment);
    assert.equal(plan.attempts[0].reason, 'cache affinity: served this conversation last');
  });

  it('is switched off by routing.cacheAffinity.enabled = false', async () => {
    const config = configFor(h.sandboxes, { routing: { health: { probes: { enabled: false } }, retry: { rounds: 0 }, cacheAffinity: { enabled: false } } });
    config.models!.chat.strategy = 'round-robin';
    await h.writeConfig(config);
    await h.daemon.reload();
    const seen = new Set<string | null>();
    for (let i = 0; i < 4; i++) seen.add((await ask([{ role: 'user', content: 'one' }], { prompt_cache_key: 'session-7' })).deployment);
    assert.equal(seen.size, 2);
  });
});

describe('cache affinity: an Anthropic client (cache_control breakpoints) over two Anthropic deployments', function () {
  this.timeout(20_000);
  let h: Harness;
  before(async () => {
    const sandboxes = await startSandboxes(2);
    h = await startHarness(
      {
        sandbox: false,
        providers: {
          a0: { type: 'anthropic', baseUrl: sandboxes[0].urls.anthropic, apiKey: 'sk-ant-0' },
          a1: { type: 'anthropic', baseUrl: sandboxes[1].urls.anthropic, apiKey: 'sk-ant-1' },
        },
        models: { claude: { strategy: 'round-robin', deployments: [{ provider: 'a0', model: 'c0' }, { provider: 'a1', model: 'c1' }] } },
        routing: { health: { probes: { enabled: false } }, retry: { rounds: 0 }, hedge: { enabled: false } },
      },
      { sandboxes },
    );
  });
  after(() => h.close());

  const send = async (messages: unknown[]) => {
    const res = await fetch(`${h.daemon.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'unused' },
      body: JSON.stringify({ model: 'claude', max_tokens: 64, system: [{ type: 'text', text: system, cache_control: { type: 'ephemeral' } }], messages }),
    });
    assert.equal(res.status, 200);
    await res.text();
    return res.headers.get('x-shepherd-deployment');
  };

  it('keeps a Claude Code-style conversation on one deployment; a new one may go elsewhere', async () => {
    const turns: unknown[] = [{ role: 'user', content: 'Task: rename the module.' }];
    const first = await send(turns);
    for (let i = 0; i < 4; i++) {
      turns.push({ role: 'assistant', content: `ok ${i}` }, { role: 'user', content: `continue ${i}` });
      assert.equal(await send(turns), first);
    }
    // A different system prompt is a different cache: round robin moves it on.
    const res = await fetch(`${h.daemon.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'unused' },
      body: JSON.stringify({ model: 'claude', max_tokens: 64, system: [{ type: 'text', text: `${system} Other agent.`, cache_control: { type: 'ephemeral' } }], messages: [{ role: 'user', content: 'hi' }] }),
    });
    await res.text();
    assert.notEqual(res.headers.get('x-shepherd-deployment'), first);
  });
});
