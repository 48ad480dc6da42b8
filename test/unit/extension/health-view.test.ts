// What the spend view shows of health and of the month's projection (issue 15, item 7).
import assert from 'node:assert/strict';
import { INITIAL, reduce, withConnection } from '../../../extension/model';
import { healthRows, spendSeries } from '../../../extension/series';
import { budget, deployment, entry, snapshot } from './fixtures';

describe('spend view: health table', () => {
  it('names the group, so one deployment serving two groups is told apart', () => {
    const s = snapshot({ deployments: [deployment('scripted/slow-1', 'fast'), deployment('scripted/slow-1', 'cheap', { p50Ms: null, available: false, unavailableReason: 'no key' })] });
    const rows = healthRows(s);
    assert.deepEqual(rows.map((r) => [r.deployment, r.group]), [['scripted/slow-1', 'fast'], ['scripted/slow-1', 'cheap']]);
    assert.equal(rows[0].p50, '420 ms');
    assert.equal(rows[1].p50, '—');
    assert.equal(rows[1].state, 'unavailable (no key)');
  });

  it('takes the latency and state that come with each finished request, so p50 is not stuck at "—"', () => {
    const stale = snapshot({ deployments: [deployment('openai/gpt-4.1', 'gpt-4.1', { p50Ms: null, state: 'unknown' }), deployment('anthropic/claude', 'claude', { p50Ms: null })] });
    const state = withConnection(reduce(INITIAL, { type: 'snapshot', snapshot: stale }), 'connected');
    const fresh = deployment('openai/gpt-4.1', 'gpt-4.1', { p50Ms: 312, state: 'healthy' });
    const next = reduce(state, { type: 'request.finished', entry: entry({ deployment: 'openai/gpt-4.1' }), deployments: [fresh] });
    assert.deepEqual(healthRows(next.snapshot!).map((r) => [r.deployment, r.p50, r.state]), [
      ['openai/gpt-4.1', '312 ms', 'healthy'],
      ['anthropic/claude', '—', 'healthy'],
    ]);
  });
});

describe('spend view: projection', () => {
  const lastDays = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ date: `2026-11-${String(i + 1).padStart(2, '0')}`, requests: 1, errors: 0, promptTokens: 1, completionTokens: 1, costUsd: 0.1 }));

  it("does not fall to $0 at month end when the only monthly budget is a key's with no spend", () => {
    const s = snapshot({ budgets: [budget({ scope: { kind: 'key', value: 'key-0123abcd' }, spentUsd: 0, projectedUsd: 0 })] });
    const series = spendSeries(s);
    assert.equal(series.projectedUsd, 30, '$3 in 3 days -> $30 in 30');
    assert.equal(series.projection.at(-1), 30);
    assert.ok(series.projection.every((v) => v === null || v >= 3));
  });

  it("uses a global budget's projection only when its period is this calendar month", () => {
    assert.equal(spendSeries(snapshot({ budgets: [budget({ projectedUsd: 12 })] })).projectedUsd, 12);
    const offset = budget({ periodStart: '2026-10-15T00:00:00.000Z', projectedUsd: 1 });
    assert.equal(spendSeries(snapshot({ budgets: [offset] })).projectedUsd, 30);
  });

  it('on the last day of the month ends at what was spent, never below', () => {
    const s = snapshot({ budgets: [budget({ projectedUsd: 0, spentUsd: 0 })] });
    s.spend.days = lastDays(30);
    s.spend.month = { requests: 30, errors: 0, promptTokens: 30, completionTokens: 30, costUsd: 3 };
    const series = spendSeries(s);
    assert.equal(series.projection.at(-1), 3);
    assert.equal(series.projectedUsd, 3);
  });
});
