// The routing engine end to end: auto tiers and the routing headers, the dry-run plan endpoint,
// fallback groups, retries with Retry-After, the per-request deadline and Shepherd's own rate limits.
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type { ShepherdConfigInput } from '../../shared/config';
import { configFor, eventually, startHarness, startSandboxes, type Harness } from '../support/harness';

const hello: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'hi' }];
const hard: OpenAI.ChatCompletionMessageParam[] = [
  {
    role: 'user',
    content: 'Debug this and compare both fixes step by step:\n```ts\nfunction f(a) {\n  return a.map(x => x * 2);\n}\n```',
  },
];

/** Four tier groups (one sandbox each) and a group "chat" that falls back to "backup". */
async function tiered(extra: Partial<ShepherdConfigInput> = {}): Promise<Harness> {
  const sandboxes = await startSandboxes(4);
  const base = configFor(sandboxes);
  const providers = base.providers!;
  const group = (i: number) => ({ price: { input: i + 1, output: 2 * (i + 1) }, deployments: [{ provider: `up${i}`, model: `m${i}` }] });
  const config: ShepherdConfigInput = {
    ...base,
    providers,
    models: {
      small: group(0),
      mid: group(1),
      big: group(2),
      thinker: group(3),
      chat: { deployments: [{ provider: 'up0', model: 'chat-a' }], fallbacks: ['backup'] },
      backup: { deployments: [{ provider: 'up1', model: 'backup-a' }] },
    },
    routing: {
      health: { probes: { enabled: false } },
      retry: { rounds: 0 },
      auto: { tiers: { simple: 'small', medium: 'mid', complex: 'big', reasoning: 'thinker' }, profiles: { cheap: { reasoning: 'mid', complex: 'small' } } },
    },
    ...extra,
  };
  return startHarness(config, { sandboxes });
}

describe('routing: automatic model choice', function () {
  let h: Harness;
  before(async () => (h = await tiered()));
  after(() => h.close());

  it('sends a greeting to the simple tier and a debugging question to the reasoning tier, saying so in headers', async () => {
    const easy = await h.client.chat.completions.create({ model: 'auto', messages: hello }).withResponse();
    assert.equal(easy.response.headers.get('x-shepherd-tier'), 'simple');
    assert.equal(easy.response.headers.get('x-shepherd-model'), 'small');
    assert.equal(easy.response.headers.get('x-shepherd-strategy'), 'priority');
    assert.match(easy.response.headers.get('x-shepherd-route') ?? '', /priority/);

    const tough = await h.client.chat.completions.create({ model: 'auto', messages: hard }).withResponse();
    assert.equal(tough.response.headers.get('x-shepherd-tier'), 'reasoning');
    assert.equal(tough.response.headers.get('x-shepherd-model'), 'thinker');
    const entry = (await h.ledgerEntries()).find((e) => e.id === tough.response.headers.get('x-request-id'));
    assert.equal(entry?.requestedModel, 'auto');
    assert.equal(entry?.model, 'thinker');
  });

  it('uses a profile: auto:cheap sends reasoning work to its cheaper group', async () => {
    const { response } = await h.client.chat.completions.create({ model: 'auto:cheap', messages: hard }).withResponse();
    assert.equal(response.headers.get('x-shepherd-tier'), 'reasoning');
    assert.equal(response.headers.get('x-shepherd-model'), 'mid');
  });

  it('lists auto and its profiles at /v1/models', async () => {
    const ids = (await h.client.models.list()).data.map((m) => m.id);
    assert.ok(ids.includes('auto') && ids.includes('auto:cheap'), ids.join(', '));
  });

  it('explains a plan without calling any upstream', async () => {
    const counts = h.sandboxes.map((s) => s.requests.length);
    const res = await fetch(`${h.daemon.url}/v1/shepherd/plan`, { method: 'POST', body: JSON.stringify({ model: 'auto', messages: hard }) });
    assert.equal(res.status, 200);
    const plan = (await res.json()) as {
      tier: string;
      group: string;
      classifier: { reasons: string[] };
      attempts: { deployment: string; reason: string }[];
    };
    assert.equal(plan.tier, 'reasoning');
    assert.equal(plan.group, 'thinker');
    assert.ok(plan.classifier.reasons.some((r) => /code/.test(r)) && plan.classifier.reasons.some((r) => /reasoning cues/.test(r)));
    assert.deepEqual(plan.attempts.map((a) => a.deployment), ['up3/m3']);
    assert.deepEqual(h.sandboxes.map((s) => s.requests.length), counts, 'no upstream was called');
  });

  it('answers bad input to the plan endpoint with a clear error', async () => {
    const broken = await fetch(`${h.daemon.url}/v1/shepherd/plan`, { method: 'POST', body: '{"model": "auto", ' });
    assert.equal(broken.status, 400);
    const noMessages = await fetch(`${h.daemon.url}/v1/shepherd/plan`, { method: 'POST', body: JSON.stringify({ model: 'auto' }) });
    assert.equal(noMessages.status, 400);
    assert.match(((await noMessages.json()) as { error: { message: string } }).error.message, /messages/);
    const wrongMethod = await fetch(`${h.daemon.url}/v1/shepherd/plan`);
    assert.equal(wrongMethod.status, 405);
    const badLimit = await fetch(`${h.daemon.url}/v1/shepherd/incidents?limit=0`);
    assert.equal(badLimit.status, 400);
  });

  it('refuses an unknown auto profile naming the configured ones', async () => {
    const res = await fetch(`${h.daemon.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'auto:fast', messages: hello }) });
    assert.equal(res.status, 404);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /auto profile "fast" is not configured.*auto:cheap/);
  });
});

describe('routing: fallback groups', function () {
  it('moves to the fallback group when every deployment of the group fails', async () => {
    const h = await tiered();
    try {
      await h.sandboxes[0].setFaults([{ fault: { type: 'status', status: 500 } }]);
      const { response } = await h.client.chat.completions.create({ model: 'chat', messages: hello }).withResponse();
      assert.equal(response.headers.get('x-shepherd-model'), 'backup');
      assert.equal(response.headers.get('x-shepherd-deployment'), 'up1/backup-a');
      assert.match(response.headers.get('x-shepherd-route') ?? '', /^fallback group backup/);
      const entry = (await h.ledgerEntries()).find((e) => e.id === response.headers.get('x-request-id'));
      assert.equal(entry?.model, 'backup', 'the ledger prices and counts it under the group that served it');
    } finally {
      await h.close();
    }
  });
});

describe('routing: retries, deadline and rate limits', function () {
  it('retries the only deployment after its Retry-After, within the deadline', async () => {
    const sandboxes = await startSandboxes(1);
    const config = configFor(sandboxes);
    config.routing = { health: { probes: { enabled: false } }, retry: { rounds: 1, baseMs: 10, maxRetryAfterMs: 2_000 } };
    const h = await startHarness(config, { sandboxes });
    try {
      await sandboxes[0].setFaults([{ fault: { type: 'status', status: 503, retryAfterMs: 300 }, count: 1 }]);
      const started = Date.now();
      const { response } = await h.client.chat.completions.create({ model: 'chat', messages: hello }).withResponse();
      assert.equal(response.headers.get('x-shepherd-attempts'), '2');
      assert.ok(Date.now() - started >= 290, 'waited for Retry-After before the second try');
    } finally {
      await h.close();
    }
  });

  it('does not wait for a Retry-After longer than retry.maxRetryAfterMs', async () => {
    const sandboxes = await startSandboxes(1);
    const config = configFor(sandboxes);
    config.routing = { health: { probes: { enabled: false } }, retry: { rounds: 2, maxRetryAfterMs: 1_000 } };
    const h = await startHarness(config, { sandboxes });
    try {
      await sandboxes[0].setFaults([{ fault: { type: 'status', status: 503, retryAfterSeconds: 60 } }]);
      const res = await fetch(`${h.daemon.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'chat', messages: hello }) });
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('x-shepherd-attempts'), '1');
      assert.equal(res.headers.get('retry-after'), '60');
    } finally {
      await h.close();
    }
  });

  it('gives up at upstream.totalMs with a 504 deadline_exceeded', async () => {
    const sandboxes = await startSandboxes(2);
    const h = await startHarness(configFor(sandboxes, { upstream: { connectMs: 1_000, firstByteMs: 5_000, idleMs: 5_000, totalMs: 400 } }), { sandboxes });
    try {
      for (const s of sandboxes) await s.setFaults([{ fault: { type: 'hang' } }]);
      const started = Date.now();
      const res = await fetch(`${h.daemon.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'chat', messages: hello }) });
      assert.equal(res.status, 504);
      assert.ok(Date.now() - started < 3_000, 'did not wait for the first-byte timeout');
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'deadline_exceeded');
      assert.match(body.error.message, /upstream\.totalMs \(400 ms\)/);
      const entry = (await h.ledgerEntries()).at(-1);
      assert.equal(entry?.status, 504);
    } finally {
      await h.close();
    }
  });

  it("enforces a deployment's rpm itself, answering 429 with Retry-After when every deployment is saturated", async () => {
    const sandboxes = await startSandboxes(1);
    const config = configFor(sandboxes);
    config.models!.chat.deployments[0].rpm = 60;
    config.models!.chat.deployments[0].burst = 2;
    config.routing = { health: { probes: { enabled: false } }, waitWhenSaturatedMs: 0 };
    const h = await startHarness(config, { sandboxes });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${h.daemon.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'chat', messages: hello }) });
        statuses.push(res.status);
        if (res.status === 429) {
          assert.ok(Number(res.headers.get('retry-after')) >= 1);
          assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'rate_limited_by_shepherd');
        } else await res.arrayBuffer();
      }
      assert.deepEqual(statuses, [200, 200, 429]);
      assert.equal(sandboxes[0].requests.length, 2, 'the third never reached the upstream');
    } finally {
      await h.close();
    }
  });

  it('waits for capacity within routing.waitWhenSaturatedMs instead of refusing', async () => {
    const sandboxes = await startSandboxes(1);
    const config = configFor(sandboxes);
    config.models!.chat.deployments[0].rpm = 600; // one request every 100 ms
    config.models!.chat.deployments[0].burst = 1;
    config.routing = { health: { probes: { enabled: false } }, waitWhenSaturatedMs: 2_000 };
    const h = await startHarness(config, { sandboxes });
    try {
      const results = await Promise.all([0, 1, 2].map(() => h.client.chat.completions.create({ model: 'chat', messages: hello })));
      assert.equal(results.length, 3);
      assert.equal(sandboxes[0].requests.length, 3);
    } finally {
      await h.close();
    }
  });
});

describe('routing: active health probes', function () {
  it('ejects a deployment that fails its probes before any request reaches it, and notices its recovery', async () => {
    const sandboxes = await startSandboxes(2);
    const config = configFor(sandboxes);
    config.routing = {
      breaker: { failureThreshold: 2, openMs: 60_000 },
      health: { probes: { enabled: true, intervalMs: 100, unhealthyIntervalMs: 100, timeoutMs: 500, jitter: 0 } },
    };
    const h = await startHarness(config, { sandboxes });
    const changes: { deployment: string; to: string; circuit: string; reason: string }[] = [];
    h.daemon.events.on('deployment.state', (c) => changes.push(c));
    try {
      await sandboxes[0].setFaults([{ fault: { type: 'refuse' } }]);
      const status = async () =>
        ((await (await fetch(`${h.daemon.url}/v1/shepherd/status`)).json()) as {
          deployments: { id: string; circuit: string; state: string; lastProbe: { ok: boolean } | null }[];
        }).deployments.find((d) => d.id === 'up0/upstream-model-0');
      await eventually(async () => (await status())?.circuit === 'open', 12_000, 'failing probes to open the circuit');
      assert.equal((await status())?.lastProbe?.ok, false);
      // No client request was involved: the first request already goes to the healthy deployment.
      const { response } = await h.client.chat.completions.create({ model: 'chat', messages: hello }).withResponse();
      assert.equal(response.headers.get('x-shepherd-attempts'), '1');
      assert.equal(response.headers.get('x-shepherd-deployment'), 'up1/upstream-model-1');

      await sandboxes[0].clearFaults();
      // The open time is a minute; only a probe can let it back this soon.
      await eventually(async () => (await status())?.circuit === 'half-open', 5_000, 'a probe to half-open the circuit');
      assert.ok(changes.some((c) => c.deployment === 'up0/upstream-model-0' && c.circuit === 'open' && c.to === 'unhealthy'));
      assert.ok(changes.some((c) => /health probe succeeded/.test(c.reason)));
    } finally {
      await h.close();
    }
  });
});

describe('routing: the model list for Anthropic clients', function () {
  it('answers GET /v1/models in Anthropic shape to the official @anthropic-ai/sdk', async () => {
    const h = await tiered();
    try {
      const { default: Anthropic } = await import('@anthropic-ai/sdk');
      const client = new Anthropic({ baseURL: h.daemon.url, apiKey: 'unused', maxRetries: 0 });
      const ids: string[] = [];
      for await (const m of client.models.list()) ids.push(m.id);
      assert.ok(ids.includes('thinker') && ids.includes('auto'), ids.join(', '));
    } finally {
      await h.close();
    }
  });
});
