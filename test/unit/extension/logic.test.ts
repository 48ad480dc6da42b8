// The model picker, prompts, refactor extraction, notification rules, reconnect delays and chart data.
import assert from 'node:assert/strict';
import { PROTOCOL_VERSION } from '../../../shared/protocol';
import { backoffMs } from '../../../extension/backoff';
import { compatibility } from '../../../extension/daemon-process';
import { USD } from '../../../extension/format';
import { budgetNotice, groupChanges, groupNotice, NoticeLimiter, wanted } from '../../../extension/notify';
import { modelPicks } from '../../../extension/picks';
import { buildMessages, extractCode } from '../../../extension/prompts';
import { spendSeries } from '../../../extension/series';
import { budget, deployment, snapshot } from './fixtures';

describe('model picker', () => {
  it('offers auto first, then each group with its price and health, marking the current choice', () => {
    const s = snapshot();
    s.deployments[1] = deployment('openrouter/gpt-4.1', 'gpt-4.1', { state: 'unhealthy', circuit: 'open' });
    const picks = modelPicks(s, USD, 'gpt-4.1');
    assert.deepEqual(picks.map((p) => p.model), ['auto', 'gpt-4.1', 'claude']);
    assert.equal(picks[1].label, '$(warning) gpt-4.1 (current)');
    assert.equal(picks[1].description, '$2.00 in / $8.00 out per 1M tokens');
    assert.equal(picks[1].detail, '1/2 deployments healthy · priority');
    assert.equal(picks[2].description, 'price not configured');
  });

  it('says so when a group is down', () => {
    const s = snapshot();
    s.groups[1].down = true;
    assert.match(modelPicks(s, USD, 'auto')[2].detail, /^down/);
  });
});

describe('selection prompts', () => {
  it('puts the selection, its language and the instruction into the request', () => {
    const [system, user] = buildMessages('ask', { code: 'x = 1', languageId: 'python', fileName: 'a.py', instruction: 'Is this thread-safe?' });
    assert.equal(system.role, 'system');
    assert.match(user.content, /^Is this thread-safe\?/);
    assert.match(user.content, /```python\nx = 1\n```/);
    assert.match(buildMessages('refactor', { code: 'x', languageId: 'ts', fileName: 'a.ts' })[1].content, /one fenced code block/);
  });

  it('takes the first fenced block of a refactor answer as the replacement, or nothing', () => {
    assert.equal(extractCode('Here:\n```ts\nconst a = 1;\nconst b = 2;\n```\nNotes: none'), 'const a = 1;\nconst b = 2;');
    assert.equal(extractCode('```\nplain\n```'), 'plain');
    assert.equal(extractCode('no code here'), undefined);
  });
});

describe('notifications', () => {
  it('shows a notice once per key per interval', () => {
    const limiter = new NoticeLimiter(60_000);
    assert.equal(limiter.allow('group:a:true', 0), true);
    assert.equal(limiter.allow('group:a:true', 30_000), false);
    assert.equal(limiter.allow('group:b:true', 30_000), true);
    assert.equal(limiter.allow('group:a:true', 61_000), true);
  });

  it('respects the notification level', () => {
    const down = groupNotice('gpt-4.1', true);
    const up = groupNotice('gpt-4.1', false);
    assert.equal(wanted(up, 'all'), true);
    assert.equal(wanted(up, 'errors'), false);
    assert.equal(wanted(down, 'errors'), true);
    assert.equal(wanted(down, 'none'), false);
  });

  it('words a budget alert with the amounts and what happens at 100 %', () => {
    const alert = { budget: 'monthly', scope: { kind: 'global' as const }, threshold: 100, spentUsd: 10.2, limitUsd: 10, periodStart: '2026-11-01', action: 'block' as const, at: '2026-11-20' };
    const n = budgetNotice(alert, USD);
    assert.equal(n.severity, 'error');
    assert.match(n.message, /"monthly" is at 100% \(\$10\.20 of \$10\.00\)\. Requests it covers are now refused\./);
    assert.deepEqual(n.actions, ['Open Spend']);
    assert.equal(budgetNotice({ ...alert, threshold: 75 }, USD).severity, 'warning');
  });

  it('finds groups that went down or recovered', () => {
    assert.deepEqual(groupChanges([{ name: 'a', down: false }, { name: 'b', down: true }], [{ name: 'a', down: true }, { name: 'b', down: false }, { name: 'c', down: true }]), [
      { group: 'a', down: true },
      { group: 'b', down: false },
    ]);
  });
});

describe('reconnect backoff', () => {
  it('grows from a quarter second to at most 30 s, with jitter', () => {
    assert.equal(backoffMs(0, 1), 250);
    assert.equal(backoffMs(0, 0), 125);
    assert.equal(backoffMs(3, 1), 2_000);
    assert.equal(backoffMs(20, 1), 30_000);
  });
});

describe('spend view chart data', () => {
  it('lays the month out day by day with the running total, the projection and the budget line', () => {
    const series = spendSeries(snapshot({ budgets: [budget({ projectedUsd: 30 })] }));
    assert.equal(series.labels.length, 30, 'November has 30 days');
    assert.deepEqual(series.daily.slice(0, 4), [0.5, 1, 1.5, 0]);
    assert.deepEqual(series.cumulative.slice(0, 4), [0.5, 1.5, 3, null]);
    assert.equal(series.projection[1], null);
    assert.equal(series.projection[2], 3);
    assert.equal(series.projection[29], 30);
    assert.equal(series.budget?.[0], 10);
    assert.deepEqual(series.errors.slice(0, 3), [0, 0, 1]);
  });

  it('projects from the burn rate when no budget gives one, and draws an empty month without data', () => {
    assert.equal(spendSeries(snapshot()).projectedUsd, 30, '$3 in 3 days -> $30 in 30');
    const empty = snapshot();
    empty.spend = { today: { requests: 0, errors: 0, promptTokens: 0, completionTokens: 0, costUsd: 0 }, month: { requests: 0, errors: 0, promptTokens: 0, completionTokens: 0, costUsd: 0 }, days: [{ date: '2026-11-01', requests: 0, errors: 0, promptTokens: 0, completionTokens: 0, costUsd: 0 }], byGroup: [] };
    const series = spendSeries(empty);
    assert.equal(series.projectedUsd, 0);
    assert.equal(series.budget, undefined);
    assert.deepEqual(series.groups.labels, []);
  });
});

describe('daemon version check', () => {
  const state = { pid: 1, version: '0.1.0', host: '127.0.0.1', port: 4210, url: 'http://127.0.0.1:4210', sandbox: true, startedAt: '', controlToken: 'f'.repeat(64), protocol: PROTOCOL_VERSION };

  it('uses a daemon of another version that speaks the same protocol, saying so', () => {
    assert.deepEqual(compatibility(state, '0.1.0'), { ok: true });
    const other = compatibility({ ...state, version: '0.0.9' }, '0.1.0');
    assert.equal(other.ok, true);
    assert.match(other.reason ?? '', /daemon is version 0\.0\.9, this extension 0\.1\.0/);
  });

  it('refuses a daemon that speaks another protocol (the extension then starts its own)', () => {
    assert.equal(compatibility({ ...state, protocol: PROTOCOL_VERSION + 1 }, '0.1.0').ok, false);
  });
});
