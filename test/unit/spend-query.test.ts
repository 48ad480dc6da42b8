// Spend reports over days, grouped five ways, with the month-end projection and savings against a
// baseline group computed from the real token counts.
import assert from 'node:assert/strict';
import type { LedgerEntry } from '../../shared/ledger';
import { SpendIndex } from '../../daemon/spend/spend-index';
import { parseSpendQuery, spendReport } from '../../daemon/spend/spend-query';
import { USD } from '../../shared/money';
import { formatSpend } from '../../daemon/cli/spend-format';

const now = Date.parse('2026-11-11T00:00:00Z'); // 10 of November's 30 days gone
let n = 0;
function entry(over: Partial<LedgerEntry>): LedgerEntry {
  return {
    id: `r${++n}`, time: '2026-11-05T10:00:00.000Z', requestedModel: 'cheap', model: 'cheap', servedModel: 'c', deployment: 'a/c', provider: 'a',
    attempts: 1, status: 200, ok: true, stream: false, promptTokens: 1000, completionTokens: 500, usageSource: 'upstream', costUsd: 0.1, latencyMs: 1, ...over,
  };
}

function index(): SpendIndex {
  const i = new SpendIndex();
  i.add(entry({}));
  i.add(entry({ time: '2026-11-06T10:00:00.000Z', cachedTokens: 400, key: 'key-11111111' }));
  i.add(entry({ model: 'dear', deployment: 'b/d', provider: 'b', costUsd: 1.5, usageSource: 'estimated', time: '2026-11-06T23:59:59.000Z' }));
  i.add(entry({ model: 'dear', deployment: 'b/d', provider: 'b', ok: false, status: 503, promptTokens: 0, completionTokens: 0, costUsd: 0 }));
  i.add(entry({ time: '2026-10-31T10:00:00.000Z', costUsd: 7 })); // last month
  return i;
}

describe('spend reports', () => {
  it("counts a hedge's cancelled loser in cost and tokens, but not as a request or an error", () => {
    const i = new SpendIndex();
    i.add(entry({ id: 'shep-1' }));
    i.add(entry({ id: 'shep-2', parent: 'shep-1', role: 'hedge', ok: false, status: 499, error: 'cancelled: the other attempt answered', completionTokens: 20, costUsd: 0.01 }));
    const r = spendReport(i, parseSpendQuery(() => undefined, now), { now, currency: USD });
    assert.deepEqual([r.totals.requests, r.totals.errors, r.totals.completionTokens, r.totals.costUsd], [1, 0, 520, 0.11]);
  });

  it('shows cached and cache-write tokens and what caching saved, at each deployment\'s price', () => {
    const i = new SpendIndex();
    // 1M read at 3 - 0.3 saves 2.70; 200k written at 3.75 - 3 costs 0.15 more: 2.55 saved on a/c.
    i.add(entry({ promptTokens: 1_500_000, cachedTokens: 1_000_000, cacheWriteTokens: 200_000 }));
    // b/d has no cache prices: reads and writes save nothing.
    i.add(entry({ model: 'dear', deployment: 'b/d', provider: 'b', cachedTokens: 500 }));
    const priceOf = (b: { deployment: string | null }) =>
      b.deployment === 'a/c' ? { input: 3, cachedInput: 0.3, cacheWrite: 3.75, output: 15 } : { input: 1, output: 2 };
    const r = spendReport(i, parseSpendQuery(() => undefined, now), { now, currency: USD, priceOf });
    assert.equal(r.totals.cachedTokens, 1_000_500);
    assert.equal(r.totals.cacheWriteTokens, 200_000);
    assert.equal(r.totals.cacheSavedUsd, 2.55);
    assert.deepEqual(r.rows.map((x) => [x.key, x.cacheSavedUsd]), [['cheap', 2.55], ['dear', 0]]);
    assert.match(formatSpend(r, 'table'), /Prompt cache: 1000500 tokens read, 200000 written; caching saved \$2\.55/);
    // Writes never read back cost money: said so, not hidden.
    const j = new SpendIndex();
    j.add(entry({ cacheWriteTokens: 1_000_000 }));
    const r2 = spendReport(j, parseSpendQuery(() => undefined, now), { now, currency: USD, priceOf });
    assert.equal(r2.totals.cacheSavedUsd, -0.75);
    assert.match(formatSpend(r2, 'table'), /caching cost \$0\.75 more/);
  });

  it('totals tokens, requests, errors and cost, grouped by model, deployment, provider, day or key', () => {
    const q = parseSpendQuery(() => undefined, now);
    assert.deepEqual(q, { from: '2026-11-01', to: '2026-11-11', groupBy: 'model' });
    const r = spendReport(index(), q, { now, currency: USD });
    assert.deepEqual(r.totals, { requests: 4, errors: 1, promptTokens: 3000, cachedTokens: 400, cacheWriteTokens: 0, completionTokens: 1500, reasoningTokens: 0, cacheSavedUsd: 0, estimatedRequests: 1, costUsd: 1.7 });
    assert.deepEqual(r.rows.map((x) => [x.key, x.requests, x.errors, x.costUsd, x.estimatedRequests]), [['dear', 2, 1, 1.5, 1], ['cheap', 2, 0, 0.2, 0]]);
    const byDay = spendReport(index(), { ...q, groupBy: 'day' }, { now, currency: USD });
    assert.deepEqual(byDay.rows.map((x) => [x.key, x.requests]), [['2026-11-05', 2], ['2026-11-06', 2]]);
    const byKey = spendReport(index(), { ...q, groupBy: 'key' }, { now, currency: USD });
    assert.deepEqual(byKey.rows.map((x) => [x.key, x.requests]), [['(no key)', 3], ['key-11111111', 1]]);
    const byProvider = spendReport(index(), { ...q, groupBy: 'provider' }, { now, currency: USD });
    assert.deepEqual(byProvider.rows.map((x) => x.key), ['b', 'a']);
    const oct = spendReport(index(), { from: '2026-10-01', to: '2026-10-31', groupBy: 'deployment' }, { now, currency: USD });
    assert.deepEqual(oct.rows.map((x) => [x.key, x.costUsd]), [['a/c', 7]]);
  });

  it('projects the month end from the burn rate and compares with the baseline group', () => {
    const r = spendReport(index(), parseSpendQuery(() => undefined, now), { now, currency: USD, baseline: { name: 'gpt-4.1', price: { input: 2, output: 8, cachedInput: 0.5 } } });
    assert.equal(r.month.spentUsd, 1.7);
    assert.equal(r.month.projectedUsd, 5.1); // 1.7 over 10 days -> 30 days
    // 2600 uncached * 2 + 400 cached * 0.5 + 1500 * 8, per 1M tokens
    assert.deepEqual(r.savings, { baseline: 'gpt-4.1', baselineUsd: 0.0174, actualUsd: 1.7, savedUsd: -1.6826 });
  });

  it('names the bad parameter', () => {
    const get = (q: Record<string, string>) => (name: string): string | undefined => q[name];
    assert.throws(() => parseSpendQuery(get({ from: '2026-13-01' }), now), /^Error: from must be a date, YYYY-MM-DD/);
    assert.throws(() => parseSpendQuery(get({ to: 'yesterday' }), now), /to must be a date/);
    assert.throws(() => parseSpendQuery(get({ from: '2026-11-05', to: '2026-11-01' }), now), /from \(2026-11-05\) is after to/);
    assert.throws(() => parseSpendQuery(get({ groupBy: 'prompt' }), now), /groupBy must be one of model, deployment, provider, day, key, member, not "prompt"/);
  });
});
