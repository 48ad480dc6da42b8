// Chaos: the official `openai` client sends a steady stream of requests (streaming and not) while the
// sandbox injects faults into one deployment of three. While a healthy deployment remains the client
// must see no failed request (a stream broken mid-way aside, which must end cleanly); the failed
// deployment must stop getting traffic within a bounded number of requests, and get it back after it
// recovers; with none left, the client gets a clear 503 naming what was tried.
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type { ShepherdConfigInput } from '../../shared/config';
import type { Sandbox } from '../../daemon/sandbox/server';
import { configFor, eventually, startHarness, startSandboxes, type Harness } from '../support/harness';

const FAILURE_THRESHOLD = 2;

interface Outcome {
  ok: boolean;
  stream: boolean;
  deployment: string | null;
  attempts: number;
  error?: string;
  status?: number;
}

function chaosConfig(sandboxes: Sandbox[], extra: Partial<ShepherdConfigInput> = {}): ShepherdConfigInput {
  const config = configFor(sandboxes, { upstream: { connectMs: 1_000, firstByteMs: 400, idleMs: 2_000 }, ...extra });
  config.models!.chat.strategy = 'round-robin';
  config.routing = {
    breaker: { failureThreshold: FAILURE_THRESHOLD, openMs: 300, maxOpenMs: 1_000 },
    retry: { baseMs: 20, maxMs: 100 },
    health: { probes: { enabled: true, intervalMs: 60_000, unhealthyIntervalMs: 150, timeoutMs: 500, jitter: 0.1 } },
  };
  return config;
}

const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Count some sheep.' }];

/** Sends `count` requests, `concurrency` at a time, alternating streaming and not; never throws. */
async function traffic(h: Harness, count: number, concurrency = 3): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const stream = next++ % 2 === 1;
      outcomes.push(await one(h, stream));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return outcomes;
}

async function one(h: Harness, stream: boolean): Promise<Outcome> {
  try {
    if (stream) {
      const { data, response } = await h.client.chat.completions.create({ model: 'chat', messages, stream: true }).withResponse();
      let text = '';
      for await (const c of data) text += c.choices[0]?.delta?.content ?? '';
      assert.match(text, /^\[sandbox\]/);
      return { ok: true, stream, deployment: response.headers.get('x-shepherd-deployment'), attempts: Number(response.headers.get('x-shepherd-attempts')) };
    }
    const { data, response } = await h.client.chat.completions.create({ model: 'chat', messages }).withResponse();
    assert.match(data.choices[0].message.content ?? '', /^\[sandbox\]/);
    return { ok: true, stream, deployment: response.headers.get('x-shepherd-deployment'), attempts: Number(response.headers.get('x-shepherd-attempts')) };
  } catch (err) {
    return {
      ok: false,
      stream,
      deployment: null,
      attempts: 0,
      error: err instanceof Error ? err.message : String(err),
      status: err instanceof OpenAI.APIError ? err.status : undefined,
    };
  }
}

const chatRequests = (s: Sandbox) => s.requests.filter((r) => r.path.endsWith('/chat/completions')).length;
const failed = (outcomes: Outcome[]) => outcomes.filter((o) => !o.ok);
/** Requests that needed more than one attempt: each is one failed try at a faulty deployment. */
const failovers = (outcomes: Outcome[]) => outcomes.filter((o) => o.ok && o.attempts > 1).length;

describe('chaos: faults injected while traffic flows', function () {
  let h: Harness;
  beforeEach(async () => {
    const sandboxes = await startSandboxes(3);
    h = await startHarness(chaosConfig(sandboxes), { sandboxes });
  });
  afterEach(() => h.close());

  it('a deployment refusing connections: no client failure, ejected, and back after recovery', async () => {
    const [down] = h.sandboxes;
    await down.setFaults([{ fault: { type: 'refuse' } }]);
    const during = await traffic(h, 30);
    assert.deepEqual(failed(during), []);
    assert.ok(during.every((o) => o.deployment !== 'up0/upstream-model-0'));
    // Round robin would send it a third of the traffic; the breaker stops that after a few tries.
    assert.ok(failovers(during) <= FAILURE_THRESHOLD + 2, `failovers: ${failovers(during)}`);

    await down.clearFaults();
    const before = chatRequests(down);
    // Probes see the recovery and half-open the circuit; a trial request closes it again.
    await eventually(
      async () => {
        await one(h, false);
        return chatRequests(down) > before;
      },
      5_000,
      'the recovered deployment to get traffic again',
    );
    const after = await traffic(h, 12);
    assert.deepEqual(failed(after), []);
    assert.ok(after.some((o) => o.deployment === 'up0/upstream-model-0'), 'it serves again');
    const incidents = (await (await fetch(`${h.daemon.url}/v1/shepherd/incidents`)).json()) as {
      data: { deployment: string; end: string | null; durationMs: number | null }[];
    };
    const outage = incidents.data.find((i) => i.deployment === 'up0/upstream-model-0');
    assert.ok(outage, 'the outage is in the incident log');
    assert.ok(outage.end !== null && (outage.durationMs ?? -1) >= 0, `closed with a duration: ${JSON.stringify(outage)}`);
  });

  it('a 5xx burst: no client failure, and the failing deployment is tried a bounded number of times', async () => {
    await h.sandboxes[1].setFaults([{ fault: { type: 'status', status: 503, message: 'overloaded' }, count: 6 }]);
    const outcomes = await traffic(h, 30);
    assert.deepEqual(failed(outcomes), []);
    assert.ok(failovers(outcomes) >= 1, 'the burst was hit');
    assert.ok(failovers(outcomes) <= FAILURE_THRESHOLD + 2, `failovers: ${failovers(outcomes)}`);
  });

  it('429 with Retry-After: no client failure, and no traffic to it until Retry-After passes', async () => {
    await h.sandboxes[0].setFaults([{ fault: { type: 'status', status: 429, retryAfterSeconds: 30, message: 'slow down' } }]);
    const outcomes = await traffic(h, 24);
    assert.deepEqual(failed(outcomes), []);
    assert.equal(chatRequests(h.sandboxes[0]), 1, 'one request learnt the 429; the rest went elsewhere');
    const res = await fetch(`${h.daemon.url}/v1/shepherd/plan`, { method: 'POST', body: JSON.stringify({ model: 'chat', messages }) });
    const plan = (await res.json()) as { skipped: { deployment: string; reason: string }[] };
    assert.match(plan.skipped.find((s) => s.deployment === 'up0/upstream-model-0')?.reason ?? '', /rate limit/);
  });

  it('a hang: no client failure; the hung deployment costs at most a few first-byte timeouts', async () => {
    await h.sandboxes[2].setFaults([{ fault: { type: 'hang' } }]);
    const outcomes = await traffic(h, 18);
    assert.deepEqual(failed(outcomes), []);
    assert.ok(failovers(outcomes) <= FAILURE_THRESHOLD + 2, `failovers: ${failovers(outcomes)}`);
  });

  it('a reset before the first byte: no client failure', async () => {
    await h.sandboxes[0].setFaults([{ fault: { type: 'reset' } }]);
    const outcomes = await traffic(h, 24);
    assert.deepEqual(failed(outcomes), []);
    assert.ok(failovers(outcomes) <= FAILURE_THRESHOLD + 2, `failovers: ${failovers(outcomes)}`);
  });

  it('a reset mid-stream: broken streams end cleanly with an error event, bounded in number, and are in the ledger', async () => {
    await h.sandboxes[0].setFaults([{ fault: { type: 'reset-mid-stream', afterChunks: 2 } }]);
    const outcomes = await traffic(h, 30);
    const broken = failed(outcomes);
    assert.ok(broken.every((o) => o.stream && /stream interrupted/.test(o.error ?? '')), JSON.stringify(broken));
    assert.ok(broken.length <= FAILURE_THRESHOLD + 1, `broken streams: ${broken.length}`);
    const ledger = await h.ledgerEntries();
    assert.equal(ledger.filter((e) => !e.ok && e.stream && /reset/.test(e.error ?? '')).length, broken.length);
  });

  it('with no healthy deployment left, a clear 503 names every deployment tried', async () => {
    for (const s of h.sandboxes) await s.setFaults([{ fault: { type: 'refuse' } }]);
    const first = await one(h, false);
    assert.equal(first.ok, false);
    assert.equal(first.status, 503);
    assert.match(first.error ?? '', /all 3 deployments of "chat" failed: .*up0\/upstream-model-0 \(could not connect.*up1\/.*up2\//);
    // Now every circuit is open: the panic rule still tries them rather than refusing outright.
    const second = await one(h, true);
    assert.equal(second.status, 503);
    assert.match(second.error ?? '', /every one ejected; tried anyway/);
  });
});
