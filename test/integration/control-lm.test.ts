// VS Code's language model requests over the control channel, end to end against a real daemon and
// sandbox upstreams: the model metadata in the snapshot, a streamed answer, a tool-call round trip,
// cancellation reaching the upstream, a budget refusal with its status and code, and the caller's name
// in the ledger (sent by the extension, or by any client in the x-shepherd-client header).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LmDelta } from '../../shared/lm-protocol';
import { DaemonStateSchema } from '../../shared/protocol';
import { connectControl, hello, type TestControlClient } from '../support/control-client';
import { configFor, eventually, startHarness, startSandboxes, type Harness } from '../support/harness';

async function authed(h: Harness): Promise<TestControlClient> {
  const state = DaemonStateSchema.parse(JSON.parse(await readFile(join(h.dir, 'daemon.json'), 'utf8')));
  const c = await connectControl(h.daemon.url);
  c.send(hello(state.controlToken));
  await c.next('welcome');
  return c;
}

const TOOL = { type: 'function' as const, function: { name: 'lookup', description: 'Looks a word up', parameters: { type: 'object', properties: { query: { type: 'string' } } } } };

describe('control channel: language model requests', function () {
  this.timeout(30_000);
  let h: Harness;
  let c: TestControlClient;
  before(async () => {
    const sandboxes = await startSandboxes(1, { tokensPerSecond: 0 });
    const config = configFor(sandboxes, {
      budgets: { capped: { limitUsd: 0, scope: { group: 'capped' }, action: 'block' } },
    });
    config.models = {
      ...config.models,
      chat: { ...config.models!.chat, contextWindow: 200_000, maxOutputTokens: 8_000, capabilities: { tools: true, images: false } },
      capped: { price: { input: 1, output: 1 }, deployments: [{ provider: 'up0', model: 'capped-1', capabilities: { tools: true } }] },
      vectors: { kind: 'embedding', deployments: [{ provider: 'up0', model: 'embed-1' }] },
    };
    h = await startHarness(config, { sandboxes });
    c = await authed(h);
  });
  after(async () => {
    c.close();
    await h.close();
  });

  const deltas = (id: string) => c.received.filter((m) => m.type === 'lm.delta' && m.id === id).map((m) => (m as { delta: LmDelta }).delta);

  it('describes each group in the snapshot: context window, output limit and capabilities', async () => {
    c.send({ type: 'snapshot.get' });
    const { snapshot } = await c.next('snapshot');
    const chat = snapshot.groups.find((g) => g.name === 'chat');
    assert.deepEqual([chat?.contextWindow, chat?.maxOutputTokens, chat?.capabilities], [200_000, 8_000, { tools: true, images: false }]);
    // What its only deployment states counts for the group; what nobody states is not promised.
    assert.deepEqual(snapshot.groups.find((g) => g.name === 'capped')?.capabilities, { tools: true });
    // The extension leaves embedding groups out of its chat model list by this mark.
    assert.deepEqual(snapshot.groups.filter((g) => g.kind === 'embedding').map((g) => g.name), ['vectors']);
  });

  it('streams an answer as deltas and names the calling extension in the ledger line', async () => {
    c.send({ type: 'lm.start', id: 'l1', client: 'acme.helper', body: { model: 'chat', messages: [{ role: 'user', content: 'hello there' }] } });
    const done = await c.next('chat.done', (m) => m.id === 'l1');
    const text = deltas('l1').map((d) => d.text ?? '').join('');
    assert.match(text, /^\[sandbox\]/);
    assert.equal(done.model, 'chat');
    const entry = await eventually(async () => (await h.ledgerEntries()).find((e) => e.client === 'acme.helper'), 5_000, 'the tagged ledger line');
    assert.equal(entry.ok, true);
    assert.equal(entry.stream, true);
  });

  it('completes a tool-call round trip: the call streams back, its result goes up in the next request', async () => {
    const ask = { role: 'user' as const, content: 'define shepherd please' };
    c.send({ type: 'lm.start', id: 't1', client: 'acme.helper', body: { model: 'chat', messages: [ask], tools: [TOOL], tool_choice: 'required' } });
    await c.next('chat.done', (m) => m.id === 't1');
    const calls = deltas('t1').flatMap((d) => d.toolCalls ?? []);
    assert.equal(calls[0]?.name, 'lookup');
    const args = JSON.parse(calls.map((x) => x.arguments ?? '').join('')) as { query: string };
    assert.equal(args.query, 'define shepherd please');
    assert.ok(deltas('t1').some((d) => d.finishReason === 'tool_calls'));
    const callId = calls[0].id!;
    c.send({
      type: 'lm.start',
      id: 't2',
      body: {
        model: 'chat',
        messages: [ask, { role: 'assistant', content: null, tool_calls: [{ id: callId, type: 'function', function: { name: 'lookup', arguments: JSON.stringify(args) } }] }, { role: 'tool', tool_call_id: callId, content: 'a person who herds sheep' }],
        tools: [TOOL],
      },
    });
    await c.next('chat.done', (m) => m.id === 't2');
    assert.match(deltas('t2').map((d) => d.text ?? '').join(''), /^\[sandbox\]/);
    const upstream = h.sandboxes[0].requests.at(-1)?.body as { messages: { role: string; content: unknown }[] };
    assert.deepEqual(upstream.messages.at(-1), { role: 'tool', tool_call_id: callId, content: 'a person who herds sheep' });
  });

  it('cancels: the upstream request ends before the answer did, and the ledger says so', async () => {
    h.sandboxes[0].setTiming({ ttftMs: 0, tokensPerSecond: 20, replyTokens: 400 });
    try {
      c.send({ type: 'lm.start', id: 'c1', body: { model: 'chat', messages: [{ role: 'user', content: 'tell me a long story' }] } });
      await eventually(() => deltas('c1').length >= 2 || undefined, 10_000, 'the first words');
      c.send({ type: 'chat.cancel', id: 'c1' });
      const error = await c.next('chat.error', (m) => m.id === 'c1');
      assert.equal(error.cancelled, true);
      const entry = await eventually(async () => (await h.ledgerEntries()).find((e) => e.requestedModel === 'chat' && !e.ok), 5_000, 'the cancelled request in the ledger');
      assert.ok(entry.completionTokens < 400, 'the answer did not run to its end');
      assert.match(entry.error ?? '', /closed|cancel/i);
    } finally {
      h.sandboxes[0].setTiming({ tokensPerSecond: 0, replyTokens: 24 });
    }
  });

  it('reports a budget refusal with its status and code', async () => {
    c.send({ type: 'lm.start', id: 'b1', body: { model: 'capped', messages: [{ role: 'user', content: 'hi' }] } });
    const error = await c.next('chat.error', (m) => m.id === 'b1');
    assert.equal(error.status, 402);
    assert.equal(error.code, 'budget_exceeded');
    assert.match(error.message, /budget "capped"/);
    assert.equal(error.cancelled, false);
  });

  it('keeps a plain caller name from the x-shepherd-client header and drops an unsafe one', async () => {
    const post = (client: string) =>
      fetch(`${h.daemon.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-shepherd-client': client },
        body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: client.slice(0, 20) }] }),
      });
    assert.equal((await post('My-Script/1.0')).status, 200);
    assert.equal((await post('<script>alert(1)</script>')).status, 200);
    const entries = await eventually(async () => {
      const all = await h.ledgerEntries();
      return all.length >= 2 && all.slice(-2).every((e) => e.ok) ? all.slice(-2) : undefined;
    }, 5_000, 'both ledger lines');
    assert.deepEqual(entries.map((e) => e.client), ['my-script/1.0', undefined]);
  });
});
