// The state the status bar and spend view draw: a snapshot with live events folded in.
import assert from 'node:assert/strict';
import { INITIAL, reduce, withConnection, type ViewState } from '../../../extension/model';
import { budget, entry, snapshot } from './fixtures';

const connected = (s = snapshot()): ViewState => withConnection(reduce(INITIAL, { type: 'snapshot', snapshot: s }), 'connected');

describe('extension state: events folded into the snapshot', () => {
  it('adds a finished request to today, the month, its group, the day chart and the recent list', () => {
    const next = reduce(connected(), { type: 'request.finished', entry: entry({ costUsd: 0.25 }) });
    const s = next.snapshot!;
    assert.equal(s.spend.today.requests, 4);
    assert.equal(s.spend.today.costUsd, 1.75);
    assert.equal(s.spend.month.costUsd, 3.25);
    assert.equal(s.spend.days.at(-1)?.costUsd, 1.75);
    assert.equal(s.spend.byGroup[0].costUsd, 3.25);
    assert.equal(s.recent.at(-1)?.id, 'req-1');
  });

  it('counts a failed request as an error and a new group as a new slice', () => {
    const s = reduce(connected(), { type: 'request.finished', entry: entry({ ok: false, status: 503, model: 'claude', costUsd: 0 }) }).snapshot!;
    assert.equal(s.spend.month.errors, 2);
    assert.deepEqual(s.spend.byGroup.map((g) => g.group), ['gpt-4.1', 'claude']);
  });

  it("adds a hedge's cancelled loser to cost, not to the request or error counts", () => {
    const s = reduce(connected(), { type: 'request.finished', entry: entry({ ok: false, status: 499, parent: 'req-0', role: 'hedge', costUsd: 0.25 }) }).snapshot!;
    assert.deepEqual([s.spend.today.requests, s.spend.today.errors, s.spend.today.costUsd], [3, 1, 1.75]); // as before it: 3 requests, 1 error
  });

  it('starts a new day when the first request after midnight arrives', () => {
    const s = reduce(connected(), { type: 'request.finished', entry: entry({ time: '2026-11-04T00:00:01.000Z' }) }).snapshot!;
    assert.equal(s.spend.days.at(-1)?.date, '2026-11-04');
    assert.equal(s.spend.today.requests, 1);
    assert.equal(s.spend.today.costUsd, 0.25);
    assert.equal(s.spend.month.requests, 7);
  });

  it('moves the spend of budgets that cover the request, and only those', () => {
    const start = connected(snapshot({ budgets: [budget(), budget({ name: 'claude-only', scope: { kind: 'group', value: 'claude' } })] }));
    const s = reduce(start, { type: 'request.finished', entry: entry({ costUsd: 1 }) }).snapshot!;
    assert.equal(s.budgets[0].spentUsd, 4);
    assert.equal(s.budgets[0].usedRatio, 0.4);
    assert.equal(s.budgets[1].spentUsd, 3);
  });

  it('keeps "caching saved" current with each finished request, not only with each snapshot', () => {
    const base = snapshot();
    const cached = { cachedTokens: 9000, cacheWriteTokens: 1000, cacheSavedUsd: 0.02 };
    const start = connected({
      ...base,
      spend: { ...base.spend, month: { ...base.spend.month, ...cached }, byGroup: [{ ...base.spend.byGroup[0], ...cached }], today: { ...base.spend.today, cachedTokens: 9000 } },
    });
    const next = reduce(start, { type: 'request.finished', entry: entry({ cachedTokens: 4000, cacheWriteTokens: 0 }), cacheSavedUsd: 0.0072 }).snapshot!;
    assert.deepEqual([next.spend.month.cachedTokens, next.spend.month.cacheWriteTokens, next.spend.month.cacheSavedUsd], [13_000, 1000, 0.0272]);
    assert.equal(next.spend.byGroup[0].cacheSavedUsd, 0.0272);
    assert.equal(next.spend.today.cachedTokens, 13_000);
    assert.equal(next.spend.today.cacheSavedUsd, undefined, 'today had caching without a figure: a partial sum would mislead');
    // A request that cached nothing leaves the figure as it was (it used to drop it until the next snapshot).
    const plain = reduce({ ...start, snapshot: next }, { type: 'request.finished', entry: entry() }).snapshot!;
    assert.equal(plain.spend.month.cacheSavedUsd, 0.0272);
    assert.equal(plain.spend.month.cachedTokens, 13_000);
    // The first caching of the month: the figure appears at once.
    const first = reduce(connected(), { type: 'request.finished', entry: entry({ cachedTokens: 2000 }), cacheSavedUsd: 0.0036 }).snapshot!;
    assert.equal(first.spend.month.cacheSavedUsd, 0.0036);
  });

  it('applies a deployment state change and marks the group down when its last deployment opens', () => {
    let state = connected();
    const change = (deployment: string, to: string, circuit: string) =>
      (state = reduce(state, { type: 'deployment.state', change: { deployment, group: 'gpt-4.1', from: 'healthy', to, circuit, reason: 'test', at: '2026-11-03T10:00:00Z' } }));
    change('openai/gpt-4.1', 'unhealthy', 'open');
    assert.equal(state.snapshot!.deployments[0].state, 'unhealthy');
    assert.equal(state.snapshot!.groups[0].down, false, 'the second deployment still serves');
    change('openrouter/gpt-4.1', 'unhealthy', 'open');
    assert.equal(state.snapshot!.groups[0].down, true);
    change('openai/gpt-4.1', 'healthy', 'closed');
    assert.equal(state.snapshot!.groups[0].down, false);
  });

  it('records budget alerts, even before the first snapshot', () => {
    const alert = { budget: 'monthly', scope: { kind: 'global' as const }, threshold: 75, spentUsd: 7.5, limitUsd: 10, periodStart: '2026-11-01T00:00:00Z', action: 'alert' as const, at: '2026-11-03T10:00:00Z' };
    assert.equal(reduce(INITIAL, { type: 'budget.alert', alert }).alerts.length, 1);
    const s = reduce(connected(snapshot({ budgets: [budget()] })), { type: 'budget.alert', alert }).snapshot!;
    assert.equal(s.budgets[0].spentUsd, 7.5);
    assert.deepEqual(s.budgets[0].thresholdsHit, [75]);
  });
});
