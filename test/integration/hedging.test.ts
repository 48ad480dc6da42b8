// A deployment that hangs must not freeze the client: hedged requests go to the next deployment
// once the first is slower than usual, the adaptive first-byte deadline gives up on a hang in
// seconds, the slow one is ejected, and the ledger holds the cancelled call so budgets count it.
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { configFor, eventually, startHarness, startSandboxes, type Harness } from '../support/harness';

const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Count some sheep.' }];

async function streamOnce(h: Harness): Promise<{ ms: number; deployment: string | null; id: string | null }> {
  const started = performance.now();
  const { data, response } = await h.client.chat.completions.create({ model: 'chat', messages, stream: true }, { maxRetries: 0 }).withResponse();
  let text = '';
  for await (const c of data) text += c.choices[0]?.delta?.content ?? '';
  assert.match(text, /^\[sandbox\]/);
  return { ms: performance.now() - started, deployment: response.headers.get('x-shepherd-deployment'), id: response.headers.get('x-request-id') };
}

describe('a hanging deployment', function () {
  this.timeout(60_000);
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('costs no request more than a few seconds: streams are hedged, and the hung deployment is ejected', async () => {
    const sandboxes = await startSandboxes(2);
    // The default first-byte timeout (2 minutes): without hedging every request would wait it out.
    const config = configFor(sandboxes, { upstream: { connectMs: 2_000, firstByteMs: 120_000, idleMs: 5_000 } });
    h = await startHarness(config, { sandboxes });
    await sandboxes[0].setFaults([{ fault: { type: 'hang' } }]);
    const results = await Promise.all(Array.from({ length: 20 }, () => streamOnce(h!)));
    const longest = Math.max(...results.map((r) => r.ms));
    console.log(`      longest of 20 concurrent streams with a hanging deployment: ${Math.round(longest)} ms`);
    assert.ok(longest < 5_000, `longest ${Math.round(longest)} ms`);
    assert.ok(results.every((r) => r.deployment === 'up1/upstream-model-1'));

    // Each request's cancelled call to the hung deployment is in the ledger, tied to its request.
    const entries = await eventually(async () => {
      const all = await h!.ledgerEntries();
      return all.filter((e) => e.role === 'hedge').length >= 1 ? all : undefined;
    });
    const losers = entries.filter((e) => e.role === 'hedge');
    for (const loser of losers) {
      assert.equal(loser.deployment, 'up0/upstream-model-0');
      assert.equal(loser.status, 499);
      assert.ok(loser.costUsd > 0, 'its estimated prompt cost counts');
      assert.ok(results.some((r) => r.id === loser.parent));
    }
    // Slow past its norm, repeatedly: the hung deployment is ejected and later requests go straight on.
    const status = (await (await fetch(`${h.daemon.url}/v1/shepherd/status`)).json()) as { deployments: { id: string; circuit: string }[] };
    assert.equal(status.deployments.find((d) => d.id === 'up0/upstream-model-0')?.circuit, 'open');
    const after = await streamOnce(h);
    assert.ok(after.ms < 1_000, `after ejection: ${Math.round(after.ms)} ms`);
  });

  it('never hedges a stream that is already answering, however long it runs', async () => {
    // Cold deployments hedge after 2 s; this stream starts at once and takes longer than that.
    const sandboxes = await startSandboxes(2, { tokensPerSecond: 8, replyTokens: 24 });
    h = await startHarness(configFor(sandboxes), { sandboxes });
    const { ms, deployment } = await streamOnce(h);
    assert.ok(ms > 2_500, `the stream ran ${Math.round(ms)} ms`);
    assert.equal(deployment, 'up0/upstream-model-0');
    assert.equal(sandboxes[1].requests.length, 0, 'no hedge went to the second deployment');
    const entries = await h.ledgerEntries();
    assert.equal(entries.filter((e) => e.role === 'hedge').length, 0);
  });

  it('gives up on a warm deployment that stops answering after a few times its usual first byte, without hedging', async () => {
    const sandboxes = await startSandboxes(2);
    const config = configFor(sandboxes, { upstream: { connectMs: 2_000, firstByteMs: 120_000, idleMs: 5_000 } });
    config.models!.chat.hedge = { enabled: false };
    h = await startHarness(config, { sandboxes });
    for (let i = 0; i < 12; i++) await streamOnce(h); // learn its normal: a few ms
    await sandboxes[0].setFaults([{ fault: { type: 'hang' }, count: 1 }]);
    const hung = await streamOnce(h);
    assert.equal(hung.deployment, 'up1/upstream-model-1');
    // The floor (routing.firstByte.floorMs, 2 s) rather than the configured two minutes.
    assert.ok(hung.ms >= 1_900 && hung.ms < 4_000, `${Math.round(hung.ms)} ms`);
  });
});
