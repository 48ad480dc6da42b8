// Where a cascade starts and which groups it tries (daemon/routing/cascade/chain.ts through planRoute),
// how the config turns it on (routing.auto.cascade, auto:cascade, a profile's cascade), and its figures.
import assert from 'node:assert/strict';
import { planRoute, type PlanResult } from '../../daemon/routing/plan';
import { distanceTable } from '../../daemon/routing/regions';
import { RoutingCursors } from '../../daemon/routing/strategies';
import type { Catalog } from '../../daemon/routing/catalog';
import { CascadeStats } from '../../daemon/spend/cascade-stats';
import { SpendHistory } from '../../daemon/spend/history';
import { parseConfigText } from '../../daemon/config/load';
import { SpendSnapshotSchema } from '../../shared/protocol';
import { catalogOf, FakeHealth, LOCAL } from '../support/routing-fixtures';
import { sampleEntry } from '../support/ledger-entry';

const catalog = (auto: Record<string, unknown>): Catalog =>
  catalogOf({
    providers: { p: LOCAL },
    models: Object.fromEntries(['small', 'mid', 'big', 'think'].map((g) => [g, { deployments: [{ provider: 'p', model: g }] }])),
    routing: { auto: { tiers: { simple: 'small', medium: 'mid', complex: 'big', reasoning: 'think' }, ...auto } },
  });
const plan = (c: Catalog, model: string, content = 'hi', extra: Record<string, unknown> = {}) => {
  const r: PlanResult = planRoute({ catalog: c, health: new FakeHealth(), cursors: new RoutingCursors(), distances: distanceTable(), random: () => 0 }, model, { model, messages: [{ role: 'user', content }], ...extra });
  assert.ok(r.ok, JSON.stringify(r));
  return r.plan;
};
const steps = (p: ReturnType<typeof plan>) => p.cascade?.steps.map((s) => s.group);

describe('cascade plan', () => {
  it('plain auto does not cascade unless routing.auto.cascade.enabled; auto:cascade always does', () => {
    const c = catalog({});
    assert.equal(plan(c, 'auto').cascade, undefined);
    assert.equal(plan(c, 'auto').group.name, 'small');
    assert.deepEqual(steps(plan(c, 'auto:cascade')), ['small', 'think']);
    assert.deepEqual(steps(plan(catalog({ cascade: { enabled: true } }), 'auto')), ['small', 'think']);
  });

  it('starts at the chain step of the classifier tier, and at the first step without classifierStart', () => {
    const c = catalog({ cascade: { enabled: true, chain: ['simple', 'complex', 'reasoning'] } });
    assert.deepEqual(steps(plan(c, 'auto')), ['small', 'big', 'think']);
    const reasoning = plan(c, 'auto', 'hi', { reasoning_effort: 'high' });
    assert.deepEqual(steps(reasoning), ['think']);
    assert.equal(reasoning.group.name, 'think');
    assert.match(reasoning.auto!.reasons.join(' '), /starts it at think \(the last step: no checks\)/);
    const fromStart = catalog({ cascade: { enabled: true, classifierStart: false } });
    assert.deepEqual(steps(plan(fromStart, 'auto', 'hi', { reasoning_effort: 'high' })), ['small', 'think']);
  });

  it("a profile cascades through its own tiers, with its own chain and checks over routing.auto.cascade's", () => {
    const c = catalog({ profiles: { frugal: { simple: 'mid', reasoning: 'big', cascade: { chain: ['simple', 'reasoning'], checks: { arithmetic: false } } }, plain: { simple: 'mid' } } });
    const p = plan(c, 'auto:frugal');
    assert.deepEqual(steps(p), ['mid', 'big']);
    assert.equal(p.cascade?.checks.arithmetic, false);
    assert.equal(p.cascade?.checks.code, true);
    assert.equal(plan(c, 'auto:plain').cascade, undefined);
  });

  it('refuses a chain of one tier and unknown check names, naming the field', () => {
    const bad = parseConfigText(JSON.stringify({ routing: { auto: { cascade: { chain: ['simple'], checks: { spelling: true } } } } }));
    assert.equal(bad.ok, false);
    const text = bad.ok ? '' : bad.problems.map((p) => `${p.path}: ${p.message}`).join('\n');
    assert.match(text, /routing\.auto\.cascade\.chain/);
    assert.match(text, /routing\.auto\.cascade\.checks/);
  });
});

describe('cascade figures', () => {
  const day = '2026-11-03T10:00:00.000Z';
  const lines = [
    sampleEntry({ id: 'a', time: day, cascade: 'kept', costUsd: 0.001, promptTokens: 100, completionTokens: 100 }),
    sampleEntry({ id: 'b:step1', time: day, parent: 'b', role: 'cascade', cascade: 'arithmetic', costUsd: 0.001 }),
    sampleEntry({ id: 'b', time: day, cascade: 'escalated', costUsd: 0.02, promptTokens: 100, completionTokens: 100 }),
    sampleEntry({ id: 'c', time: day, cascade: 'direct', costUsd: 0.02, promptTokens: 100, completionTokens: 100 }),
    sampleEntry({ id: 'd', time: day, costUsd: 5 }), // not cascaded: not counted
  ];
  it("counts the escalation rate, what each check caught, every step's cost and the saving against the baseline", () => {
    const stats = new CascadeStats();
    for (const e of lines) stats.add(e);
    const r = stats.report('2026-11-01', '2026-11-30', { name: 'think', price: { input: 100, output: 100 } });
    assert.equal(r.totals.requests, 3);
    assert.equal(r.totals.escalationRate, 0.5); // b of a and b; c was never checked
    assert.deepEqual(r.totals.caught, { arithmetic: 1 });
    assert.equal(r.totals.costUsd, 0.042);
    assert.equal(r.totals.baselineUsd, 0.06); // 3 answers of 200 tokens at $100/M
    assert.equal(r.totals.savedUsd, 0.018);
    assert.deepEqual(r.days.map((d) => d.day), ['2026-11-03']);
    assert.equal(stats.report('2026-12-01', '2026-12-31', undefined).totals.requests, 0);
  });
  it("reach the extension's spend view in the snapshot", () => {
    const history = new SpendHistory(() => new Date('2026-11-20T00:00:00Z'), () => undefined, () => ({ name: 'think', price: { input: 100, output: 100 } }));
    for (const e of lines) history.add(e);
    const snapshot = SpendSnapshotSchema.parse(history.snapshot());
    assert.equal(snapshot.cascade?.totals.escalated, 1);
    assert.equal(snapshot.cascade?.baseline, 'think');
  });
});
