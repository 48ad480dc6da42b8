// The control channel end to end: a real daemon, a real WebSocket client. Who may connect, what a
// connected client sees (snapshot, live events), and what it can do (chat, keys, strategy, reload).
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { CLOSE_AUTH, CLOSE_INVALID, DaemonStateSchema, SnapshotSchema } from '../../shared/protocol';
import { connectControl, hello, type TestControlClient } from '../support/control-client';
import { configFor, eventually, readLedger, startHarness, startSandboxes, type Harness } from '../support/harness';

const user = (content: string) => [{ role: 'user' as const, content }];

async function stateOf(h: Harness) {
  return DaemonStateSchema.parse(JSON.parse(await readFile(join(h.dir, 'daemon.json'), 'utf8')));
}

async function authed(h: Harness): Promise<TestControlClient> {
  const c = await connectControl(h.daemon.url);
  c.send(hello((await stateOf(h)).controlToken));
  await c.next('welcome');
  return c;
}

describe('control channel: who may connect', () => {
  let h: Harness;
  before(async () => {
    const sandboxes = await startSandboxes(1);
    // Not the real 3 s: the test of a client that never says hello waits this long.
    h = await startHarness(configFor(sandboxes), { sandboxes, start: { controlAuthTimeoutMs: 300 } });
  });
  after(() => h.close());

  it('puts a random control token in the owner-only state file', async () => {
    const state = await stateOf(h);
    assert.match(state.controlToken, /^[0-9a-f]{64}$/);
    assert.equal(state.port, h.daemon.port);
    assert.equal((await stat(join(h.dir, 'daemon.json'))).mode & 0o777, 0o600);
  });

  it('disconnects a client that never says hello', async () => {
    const c = await connectControl(h.daemon.url);
    const { code } = await c.closed;
    assert.equal(code, CLOSE_AUTH);
    assert.ok(!c.received.some((m) => m.type === 'snapshot'), 'no snapshot without authentication');
  });

  it('disconnects a client with a wrong token, sending it nothing about the daemon', async () => {
    const c = await connectControl(h.daemon.url);
    const right = (await stateOf(h)).controlToken;
    c.send(hello(right.slice(0, -1) + (right.endsWith('a') ? 'b' : 'a')));
    assert.equal((await c.closed).code, CLOSE_AUTH);
    assert.deepEqual(c.received.map((m) => m.type), ['error']);
  });

  it('disconnects a client that sends an invalid message, saying which field', async () => {
    const c = await authed(h);
    c.send({ type: 'budget.set', id: 'b1', budget: 'monthly', limitUsd: 'ten' });
    const err = await c.next('error');
    assert.match(err.message, /limitUsd/);
    assert.equal((await c.closed).code, CLOSE_INVALID);
  });

  it('refuses a browser: any Origin header is rejected before the upgrade', async () => {
    await assert.rejects(connectControl(h.daemon.url, { origin: 'https://evil.example' }), /HTTP 403/);
    const ws = new WebSocket(`${h.daemon.url.replace('http', 'ws')}/v1/other`);
    const status = await new Promise<number | undefined>((resolve) => ws.once('unexpected-response', (_req, res) => resolve(res.statusCode)));
    assert.equal(status, 404);
  });
});

describe('control channel: snapshot and live events', () => {
  let h: Harness;
  before(async () => {
    const sandboxes = await startSandboxes(2);
    h = await startHarness(configFor(sandboxes), { sandboxes });
  });
  after(() => h.close());

  it('sends the deployments, groups and spend right after the hello', async () => {
    const c = await authed(h);
    const { snapshot } = await c.next('snapshot');
    assert.ok(SnapshotSchema.safeParse(snapshot).success);
    assert.deepEqual(snapshot.deployments.map((d) => d.id).sort(), ['up0/upstream-model-0', 'up1/upstream-model-1']);
    assert.deepEqual(snapshot.groups.map((g) => g.name), ['chat']);
    assert.deepEqual(snapshot.groups[0].price, { input: 2, output: 8 });
    assert.equal(snapshot.spend.month.requests, 0);
    assert.deepEqual(snapshot.budgets, []);
    c.close();
  });

  it('tells a connected client about each finished request, and the next snapshot counts its cost', async () => {
    const c = await authed(h);
    await c.next('snapshot');
    const res = await h.client.chat.completions.create({ model: 'chat', messages: user('count me') }).withResponse();
    const id = res.response.headers.get('x-request-id');
    const { entry, deployments } = await c.next('request.finished', (m) => m.entry.id === id);
    assert.equal(entry.model, 'chat');
    assert.ok(entry.costUsd > 0);
    // The serving deployment's health comes along, latency included: the spend view's p50 keeps up.
    assert.equal(deployments?.length, 1);
    assert.equal(deployments?.[0].id, entry.deployment);
    assert.equal(typeof deployments?.[0].p50Ms, 'number');
    c.send({ type: 'snapshot.get' });
    const { snapshot } = await c.next('snapshot');
    assert.equal(snapshot.spend.today.requests, 1);
    assert.equal(snapshot.spend.month.costUsd, entry.costUsd);
    assert.equal(snapshot.spend.byGroup[0].group, 'chat');
    assert.equal(snapshot.recent.at(-1)?.id, id);
    c.close();
  });
});

describe('control channel: what caching saved, per request', () => {
  let h: Harness;
  before(async () => {
    const sandboxes = await startSandboxes(1);
    h = await startHarness(
      {
        sandbox: false,
        providers: { anth: { type: 'anthropic', baseUrl: sandboxes[0].urls.anthropic, apiKey: 'sk-ant-test' } },
        models: { claude: { price: { input: 3, cachedInput: 0.3, cacheWrite: 3.75, output: 15 }, deployments: [{ provider: 'anth', model: 'claude-upstream' }] } },
        routing: { health: { probes: { enabled: false } } },
      },
      { sandboxes },
    );
  });
  after(() => h.close());

  it('sends what caching saved on each finished request, the figure the next snapshot has', async () => {
    const c = await authed(h);
    await c.next('snapshot');
    const res = await fetch(`${h.daemon.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude', max_tokens: 64, system: [{ type: 'text', text: 'A long agent prompt. '.repeat(200), cache_control: { type: 'ephemeral' } }], messages: user('hi') }),
    });
    assert.equal(res.status, 200);
    const id = res.headers.get('x-request-id');
    const { entry, cacheSavedUsd } = await c.next('request.finished', (m) => m.entry.id === id);
    assert.ok((entry.cachedTokens ?? 0) > 0, 'the sandbox read from its cache');
    c.send({ type: 'snapshot.get' });
    const { snapshot } = await c.next('snapshot');
    assert.equal(typeof cacheSavedUsd, 'number');
    assert.equal(cacheSavedUsd, snapshot.spend.month.cacheSavedUsd);
    c.close();
  });
});

describe('control channel: chat', () => {
  let h: Harness;
  before(async () => {
    const sandboxes = await startSandboxes(1, { tokensPerSecond: 200 });
    h = await startHarness(configFor(sandboxes), { sandboxes });
  });
  after(() => h.close());

  it('streams an answer through the router and says who served it and what it cost', async () => {
    const c = await authed(h);
    c.send({ type: 'chat.start', id: 'c1', model: 'chat', messages: user('explain this code') });
    const done = await c.next('chat.done', (m) => m.id === 'c1');
    const deltas = c.received.filter((m) => m.type === 'chat.delta' && m.id === 'c1');
    assert.ok(deltas.length > 1, 'the answer arrives in pieces');
    const streamed = deltas.map((m) => (m.type === 'chat.delta' ? m.text : '')).join('');
    // The sandbox answers the same messages the same way: the relay lost and added nothing.
    const direct = await h.client.chat.completions.create({ model: 'chat', messages: user('explain this code') });
    assert.equal(streamed, direct.choices[0].message.content);
    assert.equal(done.model, 'chat');
    assert.equal(done.deployment, 'up0/upstream-model-0');
    assert.ok(done.costUsd > 0 && done.completionTokens > 0);
    const entries = await readLedger(h.dir);
    assert.ok(entries.some((e) => e.stream && e.costUsd === done.costUsd), 'the chat is in the ledger like any request');
    c.close();
  });

  it('cancels the upstream request when the client cancels', async () => {
    h.sandboxes[0].setTiming({ tokensPerSecond: 5, replyTokens: 200 });
    const c = await authed(h);
    c.send({ type: 'chat.start', id: 'slow', model: 'chat', messages: user('a long answer please') });
    await c.next('chat.delta', (m) => m.id === 'slow');
    c.send({ type: 'chat.cancel', id: 'slow' });
    const err = await c.next('chat.error', (m) => m.id === 'slow');
    assert.equal(err.cancelled, true);
    const entry = await eventually(async () => (await readLedger(h.dir)).find((e) => e.status === 499), 5_000, 'the cancelled request in the ledger');
    assert.equal(entry.ok, false);
    assert.ok(!c.received.some((m) => m.type === 'chat.done' && m.id === 'slow'));
    h.sandboxes[0].setTiming({ tokensPerSecond: 200, replyTokens: 24 });
    c.close();
  });

  it('reports an unknown model as a chat error, not a disconnect', async () => {
    const c = await authed(h);
    c.send({ type: 'chat.start', id: 'c2', model: 'no-such-model', messages: user('hi') });
    const err = await c.next('chat.error', (m) => m.id === 'c2');
    assert.match(err.message, /no-such-model/);
    assert.equal(c.ws.readyState, WebSocket.OPEN);
    c.close();
  });
});

describe('control channel: keys, strategy and reload', () => {
  let h: Harness;
  const secret = 'sk-from-vscode-0123456789';
  before(async () => {
    const sandboxes = await startSandboxes(1);
    const config = configFor(sandboxes);
    // The provider's key comes from an environment variable that is not set: unusable until a key is set.
    config.providers!.up0 = { baseUrl: sandboxes[0].url, apiKeyEnv: 'UP0_TEST_KEY' };
    // Laid out by hand (4 spaces), to show an edit changes only what it must.
    h = await startHarness(JSON.stringify(config, null, 4), { sandboxes });
  });
  after(() => h.close());

  it('uses a key handed over the channel, keeping it in memory only', async () => {
    const before = await fetch(`${h.daemon.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'chat', messages: user('x') }) });
    assert.equal(before.status, 503);
    await before.body?.cancel();
    const c = await authed(h);
    c.send({ type: 'key.set', id: 'k1', provider: 'up0', key: secret });
    const result = await c.next('result', (m) => m.id === 'k1');
    assert.equal(result.ok, true, result.message);
    const res = await h.client.chat.completions.create({ model: 'chat', messages: user('now with a key') });
    assert.match(res.choices[0].message.content ?? '', /^\[sandbox\]/);
    assert.equal(h.sandboxes[0].requests.at(-1)?.headers.authorization, `Bearer ${secret}`);
    for (const file of ['config.json', 'daemon.json']) assert.ok(!(await readFile(join(h.dir, file), 'utf8')).includes(secret), file);
    assert.ok(!h.logs.join('').includes(secret), 'the key is not in the log');
    c.send({ type: 'key.set', id: 'k2', provider: 'nope', key: secret });
    assert.match((await c.next('result', (m) => m.id === 'k2')).message ?? '', /unknown provider "nope"/);
    c.close();
  });

  it('sets a group strategy in the config file, changing nothing else, and the daemon reloads it', async () => {
    const c = await authed(h);
    await c.next('snapshot');
    const before = (await readFile(h.configPath, 'utf8')).split('\n');
    c.send({ type: 'strategy.set', id: 's1', group: 'chat', strategy: 'round-robin' });
    assert.equal((await c.next('result', (m) => m.id === 's1')).ok, true);
    const after = (await readFile(h.configPath, 'utf8')).split('\n');
    const added = after.filter((line) => !before.includes(line));
    assert.deepEqual(added.map((l) => l.trim().replace(/,$/, '')), ['"strategy": "round-robin"']);
    assert.equal(after.length, before.length + 1);
    const { snapshot } = await c.next('snapshot', (m) => m.snapshot.groups[0]?.strategy === 'round-robin');
    assert.equal(snapshot.groups[0].name, 'chat');
    c.close();
  });

  it('sets a budget limit in the config file, and the next snapshot carries that budget', async () => {
    const c = await authed(h);
    await c.next('snapshot');
    c.send({ type: 'budget.set', id: 'b1', budget: 'monthly', limitUsd: 25 });
    const result = await c.next('result', (m) => m.id === 'b1');
    assert.equal(result.ok, true, result.message);
    const file = JSON.parse(await readFile(h.configPath, 'utf8')) as { budgets?: Record<string, { limitUsd: number }> };
    assert.equal(file.budgets?.monthly.limitUsd, 25);
    const { snapshot } = await c.next('snapshot', (m) => m.snapshot.budgets.some((b) => b.name === 'monthly'));
    assert.equal(snapshot.budgets.find((b) => b.name === 'monthly')?.limitUsd, 25);
    c.close();
  });

  it('refuses an edit that would break the config, leaving the file as it was', async () => {
    const c = await authed(h);
    const before = await readFile(h.configPath, 'utf8');
    c.send({ type: 'strategy.set', id: 's2', group: 'no-such-group', strategy: 'priority' });
    const result = await c.next('result', (m) => m.id === 's2');
    assert.equal(result.ok, false);
    assert.match(result.message ?? '', /models\.no-such-group/);
    assert.equal(await readFile(h.configPath, 'utf8'), before);
    c.send({ type: 'config.reload', id: 'r1' });
    assert.equal((await c.next('result', (m) => m.id === 'r1')).ok, true);
    c.close();
  });
});
