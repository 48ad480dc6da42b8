// Budgets: periods, projections, alerts once per threshold and period (also across a restart), and the
// verdicts before a request: allow, skip a provider, downgrade, block with a 402 naming the budget.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BudgetAlert } from '../../shared/budget-status';
import { ConfigSchema, type ShepherdConfigInput } from '../../shared/config';
import type { LedgerEntry } from '../../shared/ledger';
import { budgetError } from '../../daemon/pipeline/refusals';
import { Budgets } from '../../daemon/spend/budgets';
import { openFiredStore } from '../../daemon/spend/fired-store';
import type { SpendCheck } from '../../daemon/spend/gate';
import { periodAt, projectSpend } from '../../daemon/spend/period';

const T = (iso: string) => Date.parse(iso);

function config(budgets: NonNullable<ShepherdConfigInput['budgets']>, extra: Partial<ShepherdConfigInput> = {}) {
  return ConfigSchema.parse({
    providers: { openai: { baseUrl: 'https://api.openai.com/v1' }, relay: { baseUrl: 'https://relay.example/v1' } },
    models: {
      big: { price: { input: 2, output: 8 }, deployments: [{ provider: 'openai', model: 'big' }, { provider: 'relay', model: 'big' }] },
      small: { price: { input: 0.1, output: 0.4 }, deployments: [{ provider: 'openai', model: 'small' }] },
    },
    routing: { auto: { tiers: { simple: 'small', medium: 'small', complex: 'big', reasoning: 'big' } } },
    budgets,
    ...extra,
  });
}

let seq = 0;
function entry(costUsd: number, over: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    id: `r${++seq}`,
    time: '2026-11-10T12:00:00.000Z',
    requestedModel: 'big',
    model: 'big',
    servedModel: 'big',
    deployment: 'openai/big',
    provider: 'openai',
    attempts: 1,
    status: 200,
    ok: true,
    stream: false,
    promptTokens: 10,
    completionTokens: 10,
    usageSource: 'upstream',
    costUsd,
    latencyMs: 5,
    ...over,
  };
}

const price = { input: 2, output: 8 };
function request(group = 'big', over: Partial<SpendCheck> = {}): SpendCheck {
  return {
    group,
    body: { model: group, messages: [{ role: 'user', content: 'hi' }] },
    deployments: [
      { id: `openai/${group}`, providerName: 'openai', price },
      { id: `relay/${group}`, providerName: 'relay', price },
    ],
    ...over,
  };
}

function setup(budgets: NonNullable<ShepherdConfigInput['budgets']>, now = T('2026-11-20T12:00:00Z'), extra: Partial<ShepherdConfigInput> = {}) {
  const clock = { now };
  const alerts: BudgetAlert[] = [];
  const b = new Budgets(undefined, { now: () => clock.now, onAlert: (a) => alerts.push(a) });
  return { b, alerts, clock, cfg: config(budgets, extra) };
}

describe('budget periods and projections', () => {
  it('monthly periods start on the configured day, at 00:00 UTC, across year ends', () => {
    assert.deepEqual(periodAt('monthly', 1, T('2026-11-20T12:00:00Z')), { start: T('2026-11-01T00:00:00Z'), end: T('2026-12-01T00:00:00Z') });
    assert.deepEqual(periodAt('monthly', 15, T('2026-11-20T12:00:00Z')), { start: T('2026-11-15T00:00:00Z'), end: T('2026-12-15T00:00:00Z') });
    // Before the start day: the period began last month (and last year, in January).
    assert.deepEqual(periodAt('monthly', 15, T('2027-01-03T00:00:00Z')), { start: T('2026-12-15T00:00:00Z'), end: T('2027-01-15T00:00:00Z') });
    assert.deepEqual(periodAt('monthly', 28, T('2026-12-28T00:00:00Z')), { start: T('2026-12-28T00:00:00Z'), end: T('2027-01-28T00:00:00Z') });
    assert.deepEqual(periodAt('daily', 1, T('2026-11-20T23:59:59.999Z')), { start: T('2026-11-20T00:00:00Z'), end: T('2026-11-21T00:00:00Z') });
  });

  it('projects period-end spend from the burn rate so far', () => {
    const nov = periodAt('monthly', 1, T('2026-11-11T00:00:00Z')); // 30 days, 10 elapsed
    assert.equal(projectSpend(10, nov, T('2026-11-11T00:00:00Z')), 30);
    const day = periodAt('daily', 1, T('2026-11-20T06:00:00Z')); // a quarter of the day
    assert.equal(projectSpend(2.5, day, T('2026-11-20T06:00:00Z')), 10);
    assert.equal(projectSpend(0, nov, T('2026-11-11T00:00:00Z')), 0);
    // In the first minutes the elapsed time counts as an hour: $1 after 1 minute of a 30-day month is
    // $720 projected (1 per hour), not $43,200.
    assert.equal(projectSpend(1, nov, T('2026-11-01T00:01:00Z')), Math.round((1 + (30 * 24 * 60 - 1) / 60) * 1e10) / 1e10);
  });
});

describe('budget spend and alerts', () => {
  it('counts only spend of the current period and scope, from replay and live entries', () => {
    const { b, cfg } = setup({
      all: { limitUsd: 10 },
      bigOnly: { limitUsd: 10, scope: { group: 'big' } },
      relay: { limitUsd: 10, scope: { provider: 'relay' } },
      key: { limitUsd: 10, scope: { key: 'key-aaaaaaaa' } },
      today: { limitUsd: 10, period: 'daily' },
    });
    b.add(entry(1, { time: '2026-10-31T23:59:59.000Z' })); // last period
    b.add(entry(2, { time: '2026-11-20T01:00:00.000Z' }));
    b.add(entry(0.5, { model: 'small', deployment: 'openai/small', time: '2026-11-19T10:00:00.000Z', key: 'key-aaaaaaaa' }));
    b.configure(cfg);
    b.add(entry(0.25, { deployment: 'relay/big', provider: 'relay', time: '2026-11-20T11:00:00.000Z' }));
    const spent = Object.fromEntries(b.statuses().map((s) => [s.name, s.spentUsd]));
    assert.deepEqual(spent, { all: 2.75, bigOnly: 2.25, relay: 0.25, key: 0.5, today: 2.25 });
    const all = b.statuses()[0];
    assert.equal(all.periodStart, '2026-11-01T00:00:00.000Z');
    assert.equal(all.resetsAt, '2026-12-01T00:00:00.000Z');
    assert.equal(all.remainingUsd, 7.25);
    assert.deepEqual(all.scope, { kind: 'global' });
    assert.deepEqual(b.statuses()[2].scope, { kind: 'provider', value: 'relay' });
  });

  it('fires each threshold once per period, in order, with the spend that crossed it', () => {
    const { b, alerts, cfg, clock } = setup({ team: { limitUsd: 10, action: 'block' } });
    b.configure(cfg);
    b.add(entry(4.9));
    assert.equal(alerts.length, 0);
    b.add(entry(0.1)); // exactly 50 %
    b.add(entry(0.5));
    assert.deepEqual(alerts.map((a) => a.threshold), [50]);
    b.add(entry(4)); // 95 %: crosses 75 and 90 at once
    assert.deepEqual(alerts.map((a) => a.threshold), [50, 75, 90]);
    assert.equal(alerts[2].spentUsd, 9.5);
    assert.equal(alerts[2].limitUsd, 10);
    assert.equal(alerts[2].action, 'block');
    assert.equal(alerts[2].periodStart, '2026-11-01T00:00:00.000Z');
    b.add(entry(1));
    b.add(entry(1));
    b.configure(cfg); // a reload does not repeat them
    assert.deepEqual(alerts.map((a) => a.threshold), [50, 75, 90, 100]);
    assert.equal(b.statuses()[0].state, 'exhausted');
    assert.deepEqual(b.statuses()[0].thresholdsHit, [50, 75, 90, 100]);
    // The next period starts from zero and may alert again.
    clock.now = T('2026-12-01T00:00:01Z');
    assert.equal(b.statuses()[0].spentUsd, 0);
    assert.equal(b.statuses()[0].state, 'ok');
    b.add(entry(6, { time: '2026-12-01T00:00:01.000Z' }));
    assert.deepEqual(alerts.slice(4).map((a) => [a.threshold, a.periodStart]), [[50, '2026-12-01T00:00:00.000Z']]);
  });

  it('does not fire an alert again after a restart (the fired set is persisted in the data directory)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shepherd-fired-'));
    try {
      const now = () => T('2026-11-20T12:00:00Z');
      const cfg = config({ team: { limitUsd: 10 } });
      const history = [entry(6), entry(2)]; // 80 %
      const first: BudgetAlert[] = [];
      const store1 = await openFiredStore(dir);
      const b1 = new Budgets(undefined, { now, fired: store1, onAlert: (a) => first.push(a) });
      for (const e of history) b1.add(e);
      b1.configure(cfg); // alerts due at start-up fire once
      assert.deepEqual(first.map((a) => a.threshold), [50, 75]);
      await store1.flush();

      const second: BudgetAlert[] = [];
      const b2 = new Budgets(undefined, { now, fired: await openFiredStore(dir), onAlert: (a) => second.push(a) });
      for (const e of history) b2.add(e); // the same ledger replayed
      b2.configure(cfg);
      assert.equal(second.length, 0);
      b2.add(entry(1.5)); // 95 %
      assert.deepEqual(second.map((a) => a.threshold), [90]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('budget verdicts before a request', () => {
  it('allows while under the limit, and always with alert-only budgets', () => {
    const { b, cfg } = setup({ soft: { limitUsd: 1 }, hard: { limitUsd: 10, action: 'block' } });
    b.add(entry(5));
    b.configure(cfg);
    assert.deepEqual(b.check(request()), { action: 'allow' });
  });

  it('blocks with a 402 that names the budget, its limit and when it resets', () => {
    const { b, cfg } = setup({ team: { limitUsd: 10, action: 'block' } });
    b.add(entry(10));
    b.configure(cfg);
    const v = b.check(request());
    assert.equal(v.action, 'block');
    if (v.action !== 'block') return;
    assert.equal(v.block.budget, 'team');
    assert.match(v.block.message, /budget "team" is exhausted: \$10\.00 of its \$10\.00 monthly limit spent; it resets at 2026-12-01T00:00:00\.000Z/);
    // What the client gets: the pipeline turns the verdict into HTTP 402.
    const error = budgetError(v.block, 'shep-1', T('2026-11-20T12:00:00Z'));
    assert.equal(error.status, 402);
    assert.equal(error.type, 'insufficient_quota');
    assert.equal(error.code, 'budget_exceeded');
    assert.equal(error.headers['x-shepherd-budget'], 'team');
    assert.equal(error.headers['retry-after'], String(11 * 86_400 - 12 * 3600));
  });

  it('blocks a request whose estimated cost would overshoot the remaining budget, not a cheaper one', () => {
    const { b, cfg } = setup({ team: { limitUsd: 1, action: 'block' } });
    b.add(entry(0.99));
    b.configure(cfg);
    // 1000 output tokens at $8 per 1M = $0.008: within the $0.01 left.
    assert.equal(b.check(request('big', { body: { model: 'big', messages: [], max_tokens: 1000 } })).action, 'allow');
    // 2000 output tokens = $0.016: more than is left.
    const v = b.check(request('big', { body: { model: 'big', messages: [], max_tokens: 2000 } }));
    assert.equal(v.action, 'block');
    if (v.action === 'block') assert.match(v.block.message, /would be exceeded: \$0\.99 of its \$1\.00 monthly limit spent, and this request is estimated at \$0\.02/);
  });

  it('blocks only what the budget covers: its group or its key', () => {
    const { b, cfg } = setup({ g: { limitUsd: 1, action: 'block', scope: { group: 'big' } }, k: { limitUsd: 1, action: 'block', scope: { key: 'key-bbbbbbbb' } } });
    b.add(entry(1));
    b.add(entry(1, { model: 'small', deployment: 'openai/small', key: 'key-bbbbbbbb' }));
    b.configure(cfg);
    assert.equal(b.check(request('big')).action, 'block');
    assert.equal(b.check(request('small')).action, 'allow');
    assert.equal(b.check(request('small', { clientKeyId: 'key-bbbbbbbb' })).action, 'block');
    assert.equal(b.check(request('small', { clientKeyId: 'key-cccccccc' })).action, 'allow');
  });

  it('downgrades to downgradeTo (or the simple tier of auto) once exhausted, and allows the cheaper group', () => {
    const { b, cfg } = setup({ team: { limitUsd: 5, action: 'downgrade' } });
    b.add(entry(5));
    b.configure(cfg);
    assert.deepEqual(b.check(request('big', { tier: 'complex' })), { action: 'downgrade', toGroup: 'small', reason: 'budget "team" is exhausted' });
    assert.deepEqual(b.check(request('small')), { action: 'allow' });
    const explicit = setup({ team: { limitUsd: 5, action: 'downgrade', downgradeTo: 'small', scope: { group: 'big' } } });
    explicit.b.add(entry(4.99));
    explicit.b.configure(explicit.cfg);
    assert.equal(explicit.b.check(request('big')).action, 'allow');
    explicit.b.add(entry(0.01));
    assert.equal(explicit.b.check(request('big')).action, 'downgrade');
  });

  it('skips the deployments of a provider over its budget, and blocks when nothing is left', () => {
    const { b, cfg } = setup({ relay: { limitUsd: 1, action: 'block', scope: { provider: 'relay' } } });
    b.add(entry(1, { deployment: 'relay/big', provider: 'relay' }));
    b.configure(cfg);
    const v = b.check(request());
    assert.equal(v.action, 'allow');
    if (v.action === 'allow') assert.deepEqual([...(v.skip ?? new Map())], [['relay/big', 'over budget "relay"']]);
    const onlyRelay = b.check(request('big', { deployments: [{ id: 'relay/big', providerName: 'relay', price }] }));
    assert.equal(onlyRelay.action, 'block');
    if (onlyRelay.action === 'block') assert.match(onlyRelay.block.message, /budget "relay" \(provider relay\) is exhausted/);
  });

  it('treats a limit of 0 as "nothing allowed" for a hard budget', () => {
    const { b, cfg, alerts } = setup({ frozen: { limitUsd: 0, action: 'block' } });
    b.configure(cfg);
    assert.equal(alerts.length, 0, 'no spend, no alert');
    assert.equal(b.check(request()).action, 'block');
  });
});

describe('budget config', () => {
  it('rejects unknown groups and providers in scopes and downgradeTo, naming the exact path', () => {
    const result = ConfigSchema.safeParse({
      providers: { openai: { baseUrl: 'https://api.openai.com/v1' } },
      models: { big: { deployments: [{ provider: 'openai', model: 'big' }] } },
      budgets: {
        a: { limitUsd: 1, scope: { group: 'bgi' } },
        b: { limitUsd: 1, scope: { provider: 'opnai' } },
        c: { limitUsd: 1, action: 'downgrade', downgradeTo: 'nope' },
        d: { limitUsd: 1, scope: { group: 'big', provider: 'openai' } },
        e: { limitUsd: 1, startDay: 31 },
        f: { limitUsd: 1, action: 'downgrade' }, // auto's simple tier (deepseek-v3.2 by default) is not a group here
      },
      savingsBaseline: 'gpt-4.1',
    });
    assert.equal(result.success, false);
    if (result.success) return;
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    assert.ok(problems.includes('budgets.a.scope.group: unknown model group "bgi" (did you mean "big"?)'), problems.join('\n'));
    assert.ok(problems.includes('budgets.b.scope.provider: unknown provider "opnai" (did you mean "openai"?)'), problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('budgets.c.downgradeTo: unknown model group "nope"')), problems.join('\n'));
    assert.ok(problems.includes('budgets.d.scope: set one of group, provider, key or member, not group and provider'), problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('budgets.e.startDay:')), problems.join('\n'));
    assert.ok(problems.includes('budgets.f.downgradeTo: missing: name the group to downgrade to (routing.auto.tiers.simple, "deepseek-v3.2", is not a configured group)'), problems.join('\n'));
    assert.ok(problems.some((p) => p.startsWith('savingsBaseline: unknown model group "gpt-4.1"')), problems.join('\n'));
  });

  it('fills the defaults: monthly from day 1, thresholds 50/75/90/100, alert only, USD', () => {
    const cfg = config({ x: { limitUsd: 3 } });
    assert.deepEqual(cfg.budgets.x, { limitUsd: 3, period: 'monthly', startDay: 1, thresholds: [50, 75, 90, 100], action: 'alert' });
    assert.deepEqual(cfg.currency, { code: 'USD', rate: 1 });
    assert.deepEqual(cfg.alerts, { webhooks: [], retries: 5 });
  });
});
