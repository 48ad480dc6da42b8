// Budget alert webhooks: retried with exponential backoff on network errors, 429 and 5xx, never on
// other 4xx, in JSON or Slack format. The clock is injected: no real waiting.
import assert from 'node:assert/strict';
import type { BudgetAlert } from '../../shared/budget-status';
import { Webhooks, webhookBody } from '../../daemon/spend/webhooks';

const alert: BudgetAlert = {
  budget: 'team', scope: { kind: 'group', value: 'gpt-4.1' }, threshold: 100, spentUsd: 10.5, limitUsd: 10,
  periodStart: '2026-11-01T00:00:00.000Z', action: 'block', at: '2026-11-20T12:00:00.000Z',
};

function setup(answers: (number | Error)[]) {
  const calls: { url: string; body: string }[] = [];
  const waits: number[] = [];
  const warnings: string[] = [];
  const hooks = new Webhooks({
    post: async (url, body) => {
      calls.push({ url, body });
      const a = answers.shift() ?? 200;
      if (a instanceof Error) throw a;
      return a;
    },
    sleep: async (ms) => {
      waits.push(ms);
      return true;
    },
    warn: (m) => warnings.push(m),
    baseDelayMs: 1000,
    maxDelayMs: 5000,
  });
  hooks.configure({ webhooks: [{ url: 'https://hooks.example/T0/secret-token', format: 'json' }], retries: 5, currency: { code: 'USD', rate: 1 } });
  return { hooks, calls, waits, warnings };
}

describe('budget alert webhooks', () => {
  it('retries network errors, 429 and 5xx with backoff until one is accepted', async () => {
    const { hooks, calls, waits, warnings } = setup([new Error('ECONNREFUSED'), 503, 429, 200]);
    hooks.send(alert);
    await hooks.idle();
    assert.equal(calls.length, 4);
    assert.deepEqual(waits, [1000, 2000, 4000]);
    assert.deepEqual(warnings, []);
    assert.deepEqual(JSON.parse(calls[3].body), { type: 'budget.alert', ...alert });
  });

  it('gives up after the configured retries, and at once on a 4xx, without logging the URL path', async () => {
    const failing = setup([500, 500, 500, 500, 500, 500, 500]);
    failing.hooks.send(alert);
    await failing.hooks.idle();
    assert.equal(failing.calls.length, 6);
    assert.deepEqual(failing.waits, [1000, 2000, 4000, 5000, 5000]);
    assert.match(failing.warnings[0], /https:\/\/hooks\.example failed after 6 tries \(HTTP 500\)/);
    assert.doesNotMatch(failing.warnings[0], /secret-token/);
    const refused = setup([404]);
    refused.hooks.send(alert);
    await refused.hooks.idle();
    assert.equal(refused.calls.length, 1);
    assert.match(refused.warnings[0], /refused the alert \(HTTP 404\); not retried/);
  });

  it('formats Slack messages in the display currency and says what happens now', () => {
    const body = JSON.parse(webhookBody(alert, 'slack', { code: 'CNY', rate: 7 })) as { text: string };
    assert.equal(
      body.text,
      ':warning: Shepherd budget "team" (group gpt-4.1) reached 100%: CN¥73.50 of CN¥70.00 spent (period from 2026-11-01T00:00:00.000Z). Requests it covers are now refused until it resets.',
    );
  });
});
