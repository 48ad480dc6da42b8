// Spend end to end against the sandbox with the official openai client: exact costs (streaming and
// not), GET /v1/shepherd/spend and /budgets, alerts as events and webhooks, block (402) and
// downgrade, and /metrics parsed as Prometheus would.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { APIError } from 'openai';
import type { BudgetAlert, BudgetStatus } from '../../shared/budget-status';
import type { ShepherdConfigInput } from '../../shared/config';
import { spendFromDaemon } from '../../daemon/cli/spend';
import type { SpendReport } from '../../daemon/spend/spend-query';
import { configFor, eventually, startHarness, startSandboxes, type Harness } from '../support/harness';
import { parsePrometheusText, sampleValue } from '../support/prom-text';

const user = (content: string) => [{ role: 'user' as const, content }];
const cost = (p: number, c: number) => Math.round(((p * 2 + c * 8) / 1e6) * 1e10) / 1e10; // price of "chat"

async function getJson<T>(h: Harness, path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${h.daemon.url}${path}`);
  return { status: res.status, body: (await res.json()) as T };
}

/** Two groups: "chat" ($2/$8) and "cheap" ($0.1/$0.4), both on the one sandbox. */
function twoGroups(sandboxUrl: string, extra: Partial<ShepherdConfigInput>): ShepherdConfigInput {
  return {
    sandbox: false,
    providers: { up0: { baseUrl: sandboxUrl, apiKey: 'sk-test-0-secret' } },
    models: {
      chat: { price: { input: 2, output: 8 }, deployments: [{ provider: 'up0', model: 'big-model' }] },
      cheap: { price: { input: 0.1, output: 0.4 }, deployments: [{ provider: 'up0', model: 'small-model' }] },
    },
    routing: { health: { probes: { enabled: false } }, retry: { rounds: 0 } },
    ...extra,
  };
}

describe('spend: costs, reports and alerts', function () {
  let h: Harness;
  let hook: Server;
  const received: unknown[] = [];
  const alerts: BudgetAlert[] = [];

  before(async () => {
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push(JSON.parse(body));
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
    const sandboxes = await startSandboxes(1);
    h = await startHarness(
      configFor(sandboxes, {
        budgets: { team: { limitUsd: 0.0001, thresholds: [50, 100] } },
        alerts: { webhooks: [{ url: hookUrl, format: 'json' }, { url: hookUrl, format: 'slack' }] },
        currency: { code: 'CNY', rate: 7 },
        savingsBaseline: 'chat',
      }),
      { sandboxes },
    );
    h.daemon.events.on('budget.alert', (a) => alerts.push(a));
  });
  after(async () => {
    await h?.close();
    await new Promise((r) => hook?.close(r));
  });

  it('records the exact cost of the usage the upstream reported, streaming and not', async () => {
    const res = await h.client.chat.completions.create({ model: 'chat', messages: user('How much does this cost?') });
    assert.ok(res.usage);
    const s = await h.client.chat.completions.create({ model: 'chat', messages: user('And streamed?'), stream: true, stream_options: { include_usage: true } });
    let usage: { prompt_tokens: number; completion_tokens: number } | undefined;
    for await (const chunk of s) if (chunk.usage) usage = chunk.usage;
    assert.ok(usage);
    const entries = await h.ledgerEntries();
    assert.equal(entries.length, 2);
    assert.equal(entries[0].costUsd, cost(res.usage.prompt_tokens, res.usage.completion_tokens));
    assert.equal(entries[0].usageSource, 'upstream');
    assert.equal(entries[1].stream, true);
    assert.equal(entries[1].costUsd, cost(usage.prompt_tokens, usage.completion_tokens));
    assert.ok(entries[1].costUsd > 0);
  });

  it('reports spend by model and day, with the display currency and savings, and refuses bad queries', async () => {
    const entries = await h.ledgerEntries();
    const total = entries.reduce((a, e) => a + e.costUsd, 0);
    const { status, body } = await getJson<SpendReport>(h, '/v1/shepherd/spend?groupBy=model');
    assert.equal(status, 200);
    assert.equal(body.totals.requests, 2);
    assert.equal(body.totals.promptTokens, entries[0].promptTokens + entries[1].promptTokens);
    assert.ok(Math.abs(body.totals.costUsd - total) < 1e-12);
    assert.deepEqual(body.rows.map((r) => [r.key, r.requests]), [['chat', 2]]);
    assert.deepEqual(body.currency, { code: 'CNY', rate: 7 });
    assert.equal(body.savings?.baseline, 'chat');
    assert.ok(Math.abs((body.savings?.savedUsd ?? 1)) < 1e-9, 'the baseline is the group used: nothing saved');
    const byDay = await getJson<SpendReport>(h, '/v1/shepherd/spend?groupBy=day');
    assert.deepEqual(byDay.body.rows.map((r) => r.key), [entries[0].time.slice(0, 10)]);
    const bad = await getJson<{ error: { message: string; type: string } }>(h, '/v1/shepherd/spend?groupBy=prompt');
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /groupBy must be one of/);
  });

  it('fires each threshold once, as an event and to every webhook, and shows the budget state', async () => {
    // The two requests above spent more than $0.0001: both thresholds are crossed.
    await eventually(() => alerts.length >= 2 || undefined, 3000, 'alerts');
    assert.deepEqual(alerts.map((a) => a.threshold), [50, 100]);
    await eventually(() => received.length >= 4 || undefined, 3000, 'webhook deliveries');
    // Budgets count a request, and fire any alert (which is what sends a webhook), in their
    // request.finished listener, subscribed at start and so run before this one: once this one has
    // seen the request, a duplicate alert would already be here.
    const finished: string[] = [];
    const off = h.daemon.events.on('request.finished', (e) => finished.push(e.id));
    const more = await h.client.chat.completions.create({ model: 'chat', messages: user('one more') }).withResponse();
    const id = more.response.headers.get('x-request-id') ?? '';
    await eventually(() => finished.includes(id) || undefined, 3000, 'the request.finished event');
    off();
    assert.equal(alerts.length, 2);
    assert.equal(received.length, 4);
    const json = received.filter((b) => (b as { type?: string }).type === 'budget.alert') as BudgetAlert[];
    assert.deepEqual(json.map((b) => [b.budget, b.threshold]).sort(), [['team', 100], ['team', 50]]);
    const slack = received.filter((b) => typeof (b as { text?: string }).text === 'string') as { text: string }[];
    assert.equal(slack.length, 2);
    assert.ok(slack.some((b) => /budget "team" reached 100%: CN¥/.test(b.text)), slack[0].text);

    const { body } = await getJson<BudgetStatus[]>(h, '/v1/shepherd/budgets');
    assert.equal(body.length, 1);
    assert.equal(body[0].name, 'team');
    assert.equal(body[0].state, 'exhausted');
    assert.equal(body[0].action, 'alert');
    assert.ok(body[0].usedRatio > 1);
    assert.ok(body[0].remainingUsd < 0);
    assert.ok(body[0].projectedUsd >= body[0].spentUsd);
    assert.deepEqual(body[0].thresholdsHit, [50, 100]);
  });

  it('answers `shepherd spend` through the running daemon found by its state file', async () => {
    const q = { from: '2000-01-01', to: '2100-12-31', groupBy: 'model' as const };
    const report = await spendFromDaemon(h.dir, q);
    assert.ok(report, 'the daemon answered');
    assert.equal(report.totals.requests, (await h.ledgerEntries()).length);
    assert.equal(await spendFromDaemon(join(h.dir, 'elsewhere'), q), undefined);
  });

  it('serves /metrics in Prometheus text format', async () => {
    const res = await fetch(`${h.daemon.url}/metrics`);
    assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const f = parsePrometheusText(await res.text());
    assert.equal(sampleValue(f, 'shepherd_requests_total', { group: 'chat', status: '200' }), 3);
    assert.ok(sampleValue(f, 'shepherd_budget_used_ratio', { budget: 'team' }) > 1);
    assert.equal(sampleValue(f, 'shepherd_circuit_state', { deployment: 'up0/upstream-model-0', state: 'closed' }), 1);
  });
});

describe('spend: block and downgrade at 100 %', function () {
  it('blocks with HTTP 402 naming the budget, its limit and reset, and records it in the ledger', async () => {
    const sandboxes = await startSandboxes(1);
    const h = await startHarness(twoGroups(sandboxes[0].url, { budgets: { hard: { limitUsd: 0.0001, action: 'block', scope: { group: 'chat' } } } }), { sandboxes });
    try {
      await h.client.chat.completions.create({ model: 'chat', messages: user('spend it all') }); // $0.0001+ spent
      const err = await h.client.chat.completions.create({ model: 'chat', messages: user('and more') }).then(
        () => assert.fail('expected a 402'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof APIError);
      assert.equal(err.status, 402);
      assert.equal(err.type, 'insufficient_quota');
      assert.equal(err.code, 'budget_exceeded');
      assert.match(err.message, /budget "hard" \(group chat\) is exhausted: .* of its \$0\.0001 monthly limit spent; it resets at \d{4}-\d{2}-01T00:00:00\.000Z/);
      // Another group is not covered by this budget.
      await h.client.chat.completions.create({ model: 'cheap', messages: user('still fine') });
      const entries = await h.ledgerEntries();
      assert.deepEqual(entries.map((e) => [e.model, e.status]), [['chat', 200], ['chat', 402], ['cheap', 200]]);
      assert.match(entries[1].error ?? '', /budget "hard"/);
    } finally {
      await h.close();
    }
  });

  it('applies budgets changed in the config file without a restart', async () => {
    const sandboxes = await startSandboxes(1);
    const config = twoGroups(sandboxes[0].url, {});
    const h = await startHarness(config, { sandboxes, start: { watch: false } });
    try {
      await h.client.chat.completions.create({ model: 'chat', messages: user('before the budget') });
      assert.deepEqual((await getJson<BudgetStatus[]>(h, '/v1/shepherd/budgets')).body, []);
      await h.writeConfig({ ...config, budgets: { hard: { limitUsd: 0.0001, action: 'block' } } });
      assert.equal((await h.daemon.reload()).ok, true);
      const [status] = (await getJson<BudgetStatus[]>(h, '/v1/shepherd/budgets')).body;
      assert.equal(status.name, 'hard');
      assert.equal(status.state, 'exhausted', 'spend from before the budget existed counts');
      const res = await fetch(`${h.daemon.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'cheap', messages: user('x') }) });
      assert.equal(res.status, 402);
      assert.equal(res.headers.get('x-shepherd-budget'), 'hard');
    } finally {
      await h.close();
    }
  });

  it('downgrades to the cheaper group once the budget is exhausted', async () => {
    const sandboxes = await startSandboxes(1);
    const h = await startHarness(
      twoGroups(sandboxes[0].url, { budgets: { soft: { limitUsd: 0.0001, action: 'downgrade', downgradeTo: 'cheap' } } }),
      { sandboxes },
    );
    try {
      const first = await h.client.chat.completions.create({ model: 'chat', messages: user('first') }).withResponse();
      assert.equal(first.response.headers.get('x-shepherd-model'), 'chat');
      const second = await h.client.chat.completions.create({ model: 'chat', messages: user('second') }).withResponse();
      assert.equal(second.response.headers.get('x-shepherd-model'), 'cheap');
      const entries = await h.ledgerEntries();
      assert.deepEqual(entries.map((e) => [e.requestedModel, e.model]), [['chat', 'chat'], ['chat', 'cheap']]);
    } finally {
      await h.close();
    }
  });
});
