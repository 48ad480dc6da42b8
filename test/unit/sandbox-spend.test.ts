// Sandbox spend is never real spend (issue 14, item 6): answers of the built-in sandbox are priced at
// the groups' prices in the ledger, but budgets, the real totals, the month projection and the
// extension's figures leave them out, and every report shows them apart, marked.
import assert from 'node:assert/strict';
import { ConfigSchema } from '../../shared/config';
import type { LedgerEntry } from '../../shared/ledger';
import { formatSpend } from '../../daemon/cli/spend-format';
import { Budgets } from '../../daemon/spend/budgets';
import { decodeCheckpoint, encodeCheckpoint } from '../../daemon/spend/checkpoint';
import { SpendHistory } from '../../daemon/spend/history';
import { MonthTally } from '../../daemon/spend/month-tally';
import { SpendIndex } from '../../daemon/spend/spend-index';
import { spendReport } from '../../daemon/spend/spend-query';
import { INITIAL, reduce, withConnection } from '../../extension/model';
import { budget as viewBudget, entry as viewEntry, snapshot as viewSnapshot } from './extension/fixtures';
import { sampleEntry } from '../support/ledger-entry';

const NOW = Date.parse('2026-11-10T12:00:00.000Z');
let seq = 0;
const real = (costUsd: number, over: Partial<LedgerEntry> = {}) =>
  sampleEntry({ id: `r${++seq}`, time: '2026-11-10T10:00:00.000Z', costUsd, ...over });
const simulated = (costUsd: number, over: Partial<LedgerEntry> = {}) =>
  real(costUsd, { deployment: 'sandbox-us/chat@us-east', provider: 'sandbox-us', sandbox: true, ...over });

const config = ConfigSchema.parse({
  providers: { openai: { baseUrl: 'https://api.openai.com/v1', apiKeyEnv: 'OPENAI_API_KEY' } },
  models: { chat: { price: { input: 2, output: 8 }, deployments: [{ provider: 'openai', model: 'gpt-4o-mini' }] } },
  budgets: { monthly: { limitUsd: 1, action: 'block' }, chat: { limitUsd: 1, scope: { group: 'chat' } } },
});

describe('sandbox spend: budgets', () => {
  it('never counts sandbox entries, given one by one or replayed as buckets', () => {
    const b = new Budgets(undefined, { now: () => NOW });
    b.configure(config);
    b.add(simulated(5));
    assert.deepEqual(b.statuses().map((s) => s.spentUsd), [0, 0]);
    const body = { model: 'chat', messages: [{ role: 'user', content: 'x'.repeat(4000) }], max_tokens: 4000 };
    const price = { input: 2000, output: 8000 };
    const check = (sandbox: boolean) => b.check({ group: 'chat', body, deployments: [{ id: 'd', providerName: 'p', price, sandbox }] } as never).action;
    assert.equal(check(true), 'allow', 'a request only the sandbox answers is never refused for its simulated cost');
    assert.equal(check(false), 'block', 'the same request to a real provider would take the budget past its limit');
    b.add(real(0.25));
    assert.deepEqual(b.statuses().map((s) => s.spentUsd), [0.25, 0.25]);

    const tally = new MonthTally('2026-11');
    tally.add(simulated(3));
    tally.add(real(0.5));
    const replayed = new Budgets(undefined, { now: () => NOW });
    replayed.addBuckets(tally.buckets());
    replayed.configure(config);
    assert.deepEqual(replayed.statuses().map((s) => s.spentUsd), [0.5, 0.5]);
  });
});

describe('sandbox spend: reports', () => {
  const index = new SpendIndex();
  index.add(real(0.25));
  index.add(simulated(2));
  index.add(simulated(1, { model: 'other', deployment: 'sandbox-eu/other@eu-west', provider: 'sandbox-eu' }));
  const report = spendReport(index, { from: '2026-11-01', to: '2026-11-10', groupBy: 'provider' }, { now: NOW, currency: { code: 'USD', rate: 1 } });

  it('keeps sandbox spend out of the totals, rows and month projection, and reports it apart', () => {
    assert.equal(report.totals.requests, 1);
    assert.equal(report.totals.costUsd, 0.25);
    assert.deepEqual(report.rows.map((r) => r.key), ['openai']);
    assert.equal(report.month.spentUsd, 0.25);
    assert.ok(report.sandbox, 'a sandbox section');
    assert.equal(report.sandbox.totals.requests, 2);
    assert.equal(report.sandbox.totals.costUsd, 3);
    assert.deepEqual(report.sandbox.rows.map((r) => [r.key, r.costUsd]), [['sandbox-us', 2], ['sandbox-eu', 1]]);
  });

  it('has no sandbox section when the sandbox answered nothing', () => {
    const only = new SpendIndex();
    only.add(real(0.25));
    assert.equal(spendReport(only, { from: '2026-11-01', to: '2026-11-10', groupBy: 'model' }, { now: NOW, currency: { code: 'USD', rate: 1 } }).sandbox, undefined);
  });

  it('marks it in the table and the CSV of shepherd spend', () => {
    const table = formatSpend(report, 'table');
    const [realPart, sandboxPart] = table.split('SANDBOX');
    assert.ok(sandboxPart, table);
    assert.match(realPart, /^total\s.*\$0\.25$/m);
    assert.doesNotMatch(realPart, /sandbox-us/);
    assert.match(sandboxPart, /not real spend/);
    assert.match(sandboxPart, /^sandbox-us\s.*\$2\.00$/m);
    assert.match(sandboxPart, /^total\s.*\$3\.00$/m);
    const csv = formatSpend(report, 'csv').trim().split(/\r?\n/);
    assert.match(csv.find((l) => l.startsWith('total,'))!, /,0\.25,0,0$/);
    assert.match(csv.at(-1)!, /^\[sandbox\] total,2,/);
  });
});

describe('sandbox spend: the extension', () => {
  it('the daemon snapshot counts sandbox spend apart, also when replayed from a checkpoint', () => {
    const tally = new MonthTally('2026-11');
    tally.add(real(0.25));
    tally.add(simulated(2));
    const probe = { size: 10, head: 'a'.repeat(64), tail: 'b'.repeat(64), atLineEnd: true };
    const decoded = decodeCheckpoint(encodeCheckpoint('2026-11', { offset: 10, lines: 2 }, tally.state(), probe), '2026-11');
    assert.ok('checkpoint' in decoded, JSON.stringify(decoded));
    const history = new SpendHistory(() => new Date(NOW));
    history.addMonth(MonthTally.from('2026-11', decoded.checkpoint));
    history.add(simulated(1));
    const s = history.snapshot();
    assert.equal(s.month.costUsd, 0.25);
    assert.equal(s.month.requests, 1);
    assert.deepEqual(s.byGroup.map((g) => [g.group, g.costUsd]), [['chat', 0.25]]);
    assert.equal(s.days.at(-1)?.costUsd, 0.25);
    assert.deepEqual(s.sandbox?.month, { requests: 2, errors: 0, promptTokens: 2000, completionTokens: 1000, costUsd: 3 });
    assert.deepEqual(s.sandbox?.byGroup.map((g) => [g.group, g.costUsd]), [['chat', 3]]);
  });

  it('the daemon snapshot shows cached and cache-write tokens and what caching saved at the group price', () => {
    const price = { input: 3, cachedInput: 0.3, cacheWrite: 3.75, output: 15 };
    const history = new SpendHistory(() => new Date(NOW), (group) => (group === 'chat' ? price : undefined));
    history.add(real(0.25));
    assert.equal(history.snapshot().month.cacheSavedUsd, undefined, 'no caching, no figure');
    history.add(real(0.5, { promptTokens: 2_000_000, cachedTokens: 1_000_000, cacheWriteTokens: 200_000 }));
    const s = history.snapshot();
    assert.equal(s.month.cachedTokens, 1_000_000);
    assert.equal(s.month.cacheWriteTokens, 200_000);
    assert.equal(s.month.cacheSavedUsd, 2.55); // 1M x (3 - 0.3) - 200k x (3.75 - 3)
    assert.equal(s.byGroup[0].cacheSavedUsd, 2.55);
  });

  it('says what caching saved on each request, so the view adds up to the next snapshot\'s figure', () => {
    const price = { input: 3, cachedInput: 0.3, cacheWrite: 3.75, output: 15 };
    const history = new SpendHistory(() => new Date(NOW), (group) => (group === 'chat' ? price : undefined));
    const cachedRequest = real(0.5, { promptTokens: 2_000_000, cachedTokens: 1_000_000, cacheWriteTokens: 200_000 });
    assert.equal(history.savedOn(real(0.25)), undefined, 'nothing cached, no figure');
    assert.equal(history.savedOn(cachedRequest), 2.55);
    // Folded into a snapshot taken before it, the per-request figure gives the daemon's own total.
    history.add(real(0.25, { promptTokens: 1_000_000, cachedTokens: 500_000 }));
    const before = history.snapshot();
    const state = withConnection(reduce(INITIAL, { type: 'snapshot', snapshot: { ...viewSnapshot(), spend: before } }), 'connected');
    history.add(cachedRequest);
    const folded = reduce(state, { type: 'request.finished', entry: cachedRequest, cacheSavedUsd: history.savedOn(cachedRequest) }).snapshot!;
    assert.equal(folded.spend.month.cacheSavedUsd, history.snapshot().month.cacheSavedUsd);
    assert.equal(folded.spend.month.cachedTokens, history.snapshot().month.cachedTokens);
  });

  it('the view folds a sandbox answer into the sandbox figures, not the month, the day chart or a budget', () => {
    const state = withConnection(reduce(INITIAL, { type: 'snapshot', snapshot: viewSnapshot({ budgets: [viewBudget()] }) }), 'connected');
    const before = state.snapshot!;
    const s = reduce(state, { type: 'request.finished', entry: viewEntry({ costUsd: 0.5, sandbox: true }) }).snapshot!;
    assert.deepEqual(s.spend.month, before.spend.month);
    assert.deepEqual(s.spend.days, before.spend.days);
    assert.deepEqual(s.budgets, before.budgets);
    assert.equal(s.spend.sandbox?.month.costUsd, 0.5);
    assert.equal(s.recent.at(-1)?.sandbox, true);
  });
});
