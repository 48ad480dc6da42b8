import assert from 'node:assert/strict';
import type { Catalog, Deployment } from '../../daemon/routing/catalog';
import { distanceTable } from '../../daemon/routing/regions';
import { blendedPrice, order, RoutingCursors, type Ordered, type StrategyContext } from '../../daemon/routing/strategies';
import type { Strategy } from '../../shared/routing-config';
import { FakeHealth, groupOf, scripted } from '../support/routing-fixtures';

function ctxFor(catalog: Catalog, over: Partial<StrategyContext> = {}): StrategyContext {
  return {
    group: 'g',
    health: new FakeHealth(),
    routing: catalog.routing,
    distances: distanceTable(catalog.routing.regionDistances),
    cursors: new RoutingCursors(),
    // Any call to random() that a test did not script fails it.
    random: scripted(),
    ...over,
  };
}

const ids = (ordered: Ordered[]) => ordered.map((o) => o.deployment.id);
const first = (ordered: Ordered[]) => ordered[0].deployment.id;

/** The longest run of the same id in a sequence. */
function longestStreak(seq: string[], id: string): number {
  let best = 0;
  let run = 0;
  for (const s of seq) {
    run = s === id ? run + 1 : 0;
    best = Math.max(best, run);
  }
  return best;
}

function countFirst(strategy: Strategy, candidates: Deployment[], ctx: StrategyContext, n: number): { seq: string[]; counts: Map<string, number> } {
  const seq: string[] = [];
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const id = first(order(strategy, candidates, ctx));
    seq.push(id);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return { seq, counts };
}

describe('strategies: every strategy', () => {
  it('returns a single eligible deployment with a reason that says so, and nothing for none', () => {
    const { catalog, group } = groupOf([{ model: 'a' }]);
    for (const s of ['priority', 'round-robin', 'weighted', 'latency', 'cost', 'adaptive', 'geographic', 'least-connections'] as const) {
      const out = order(s, group.deployments, ctxFor(catalog));
      assert.deepEqual(ids(out), ['p/a'], s);
      assert.equal(out[0].reason, `${s}: the only eligible deployment`);
      assert.deepEqual(order(s, [], ctxFor(catalog)), [], s);
    }
  });

  it('never drops or duplicates a candidate', () => {
    const { catalog, group } = groupOf(
      [
        { model: 'a', region: 'us-east', price: { input: 1, output: 1 } },
        { model: 'b', region: 'eu-west' },
        { model: 'c', price: { input: 5, output: 5 } },
      ],
      { region: 'eu-west' },
    );
    for (const s of ['priority', 'round-robin', 'weighted', 'latency', 'cost', 'adaptive', 'geographic', 'least-connections'] as const) {
      const out = order(s, group.deployments, ctxFor(catalog, { random: () => 0.99 }));
      assert.deepEqual([...ids(out)].sort(), ['p/a@us-east', 'p/b@eu-west', 'p/c'], s);
    }
  });
});

describe('strategies: priority', () => {
  it('keeps config order by default and explains each fallback', () => {
    const { catalog, group } = groupOf([{ model: 'a' }, { model: 'b' }, { model: 'c' }]);
    const out = order('priority', group.deployments, ctxFor(catalog));
    assert.deepEqual(ids(out), ['p/a', 'p/b', 'p/c']);
    assert.deepEqual(
      out.map((o) => o.reason),
      ['priority: first in order', 'priority: fallback 1 of 2', 'priority: fallback 2 of 2'],
    );
  });

  it('puts a lower `priority` first, with config order breaking ties', () => {
    const { catalog, group } = groupOf([
      { model: 'a', priority: 5 },
      { model: 'b', priority: 1 },
      { model: 'c', priority: 5 },
      { model: 'd' }, // defaults to its position, 3
    ]);
    assert.deepEqual(ids(order('priority', group.deployments, ctxFor(catalog))), ['p/b', 'p/d', 'p/a', 'p/c']);
  });

  it('does not depend on the order candidates are passed in', () => {
    const { catalog, group } = groupOf([{ model: 'a' }, { model: 'b' }, { model: 'c' }]);
    const reversed = [...group.deployments].reverse();
    assert.deepEqual(ids(order('priority', reversed, ctxFor(catalog))), ['p/a', 'p/b', 'p/c']);
  });
});

describe('strategies: round-robin', () => {
  it('rotates the whole order one step per request, in priority order', () => {
    const { catalog, group } = groupOf([{ model: 'a' }, { model: 'b' }, { model: 'c' }]);
    const ctx = ctxFor(catalog);
    assert.deepEqual(ids(order('round-robin', group.deployments, ctx)), ['p/a', 'p/b', 'p/c']);
    const second = order('round-robin', group.deployments, ctx);
    assert.deepEqual(ids(second), ['p/b', 'p/c', 'p/a']);
    assert.equal(second[0].reason, 'round-robin: turn 2 of 3');
    assert.equal(second[1].reason, 'round-robin: next in rotation (2 of 3)');
    assert.deepEqual(ids(order('round-robin', group.deployments, ctx)), ['p/c', 'p/a', 'p/b']);
    assert.deepEqual(ids(order('round-robin', group.deployments, ctx)), ['p/a', 'p/b', 'p/c']);
  });

  it('sends exactly N/k first attempts to each of k deployments over N requests', () => {
    const { catalog, group } = groupOf([{ model: 'a' }, { model: 'b' }, { model: 'c' }, { model: 'd' }]);
    const { counts, seq } = countFirst('round-robin', group.deployments, ctxFor(catalog), 400);
    assert.deepEqual(Object.fromEntries(counts), { 'p/a': 100, 'p/b': 100, 'p/c': 100, 'p/d': 100 });
    // Strict alternation: the same deployment never goes first twice in a row.
    for (let i = 1; i < seq.length; i++) assert.notEqual(seq[i], seq[i - 1]);
  });

  it('keeps a separate turn per group', () => {
    const { catalog, group } = groupOf([{ model: 'a' }, { model: 'b' }]);
    const cursors = new RoutingCursors();
    const g1 = ctxFor(catalog, { group: 'one', cursors });
    const g2 = ctxFor(catalog, { group: 'two', cursors });
    assert.equal(first(order('round-robin', group.deployments, g1)), 'p/a');
    assert.equal(first(order('round-robin', group.deployments, g1)), 'p/b');
    assert.equal(first(order('round-robin', group.deployments, g2)), 'p/a');
  });

  it('a cloned cursor does not move the original turn (dry runs)', () => {
    const { catalog, group } = groupOf([{ model: 'a' }, { model: 'b' }, { model: 'c' }]);
    const cursors = new RoutingCursors();
    order('round-robin', group.deployments, ctxFor(catalog, { cursors }));
    const dry = cursors.clone();
    assert.equal(first(order('round-robin', group.deployments, ctxFor(catalog, { cursors: dry }))), 'p/b');
    assert.equal(first(order('round-robin', group.deployments, ctxFor(catalog, { cursors: dry }))), 'p/c');
    assert.equal(first(order('round-robin', group.deployments, ctxFor(catalog, { cursors }))), 'p/b');
  });
});

describe('strategies: weighted (smooth weighted round robin)', () => {
  const fiveOneOne = () => groupOf([{ model: 'a', weight: 5 }, { model: 'b', weight: 1 }, { model: 'c', weight: 1 }]);

  it('gives exact 5/1/1 shares in every window of 7 consecutive requests', () => {
    const { catalog, group } = fiveOneOne();
    const { seq, counts } = countFirst('weighted', group.deployments, ctxFor(catalog), 700);
    assert.deepEqual(Object.fromEntries(counts), { 'p/a': 500, 'p/b': 100, 'p/c': 100 });
    for (let start = 0; start + 7 <= seq.length; start++) {
      const window = seq.slice(start, start + 7);
      assert.equal(window.filter((x) => x === 'p/a').length, 5, `window at ${start}: ${window.join(',')}`);
      assert.equal(window.filter((x) => x === 'p/b').length, 1, `window at ${start}`);
      assert.equal(window.filter((x) => x === 'p/c').length, 1, `window at ${start}`);
    }
  });

  it('interleaves rather than bursting: every prefix stays within one request of its fair share', () => {
    // Plain weighted rotation (a,a,a,a,a,b,c) is 1.43 requests ahead for "a" after five; smooth WRR never is.
    const { catalog, group } = fiveOneOne();
    const { seq } = countFirst('weighted', group.deployments, ctxFor(catalog), 70);
    const weights: Record<string, number> = { 'p/a': 5, 'p/b': 1, 'p/c': 1 };
    const seen: Record<string, number> = { 'p/a': 0, 'p/b': 0, 'p/c': 0 };
    seq.forEach((id, i) => {
      seen[id]++;
      for (const [d, w] of Object.entries(weights)) {
        const fair = ((i + 1) * w) / 7;
        assert.ok(Math.abs(seen[d] - fair) < 1, `after ${i + 1} requests ${d} has ${seen[d]}, fair share ${fair.toFixed(2)}`);
      }
    });
    assert.ok(longestStreak(seq, 'p/a') <= 4, `longest streak of the heavy deployment: ${longestStreak(seq, 'p/a')}`);
    assert.deepEqual(seq.slice(0, 7), ['p/a', 'p/a', 'p/b', 'p/a', 'p/c', 'p/a', 'p/a']);
  });

  it('honours fractional weights (0.5 vs 1.5 is one to three)', () => {
    const { catalog, group } = groupOf([{ model: 'a', weight: 0.5 }, { model: 'b', weight: 1.5 }]);
    const { counts, seq } = countFirst('weighted', group.deployments, ctxFor(catalog), 400);
    assert.deepEqual(Object.fromEntries(counts), { 'p/a': 100, 'p/b': 300 });
    assert.ok(longestStreak(seq, 'p/b') <= 3);
  });

  it('treats an unset weight as 1 (an even split)', () => {
    const { catalog, group } = groupOf([{ model: 'a' }, { model: 'b' }]);
    const { seq } = countFirst('weighted', group.deployments, ctxFor(catalog), 6);
    assert.deepEqual(seq, ['p/a', 'p/b', 'p/a', 'p/b', 'p/a', 'p/b']);
  });

  it('explains the weight of each deployment and whose turn it is', () => {
    const { catalog, group } = fiveOneOne();
    const out = order('weighted', group.deployments, ctxFor(catalog));
    assert.equal(out[0].reason, 'weighted: weight 5 of 7 (its turn)');
    assert.match(out[1].reason, /^weighted: weight 1 of 7$/);
  });

  it('rebalances when a deployment leaves the candidate set and comes back', () => {
    const { catalog, group } = fiveOneOne();
    const ctx = ctxFor(catalog);
    countFirst('weighted', group.deployments, ctx, 3);
    // "a" is ejected for a while: b and c share the traffic evenly once the credit carried over from
    // before is spent (c was owed its turn, b had just had one), so the split settles to one each.
    const withoutA = group.deployments.filter((d) => d.id !== 'p/a');
    const { counts: settling } = countFirst('weighted', withoutA, ctx, 10);
    assert.ok(Math.abs((settling.get('p/b') ?? 0) - (settling.get('p/c') ?? 0)) <= 4, JSON.stringify(Object.fromEntries(settling)));
    const { counts, seq } = countFirst('weighted', withoutA, ctx, 10);
    assert.deepEqual(Object.fromEntries(counts), { 'p/b': 5, 'p/c': 5 });
    assert.ok(longestStreak(seq, 'p/b') === 1 && longestStreak(seq, 'p/c') === 1, seq.join(','));
    assert.equal(ctx.cursors.weightCredit.get('g')!.has('p/a'), false, 'credit of a removed deployment is dropped');
    // Back in: over a full cycle the shares are exact again.
    const { counts: after } = countFirst('weighted', group.deployments, ctx, 70);
    assert.equal(after.get('p/a'), 50);
  });

  it('a cloned cursor carries the credit without sharing it', () => {
    const { catalog, group } = fiveOneOne();
    const cursors = new RoutingCursors();
    order('weighted', group.deployments, ctxFor(catalog, { cursors }));
    order('weighted', group.deployments, ctxFor(catalog, { cursors }));
    const dry = cursors.clone();
    const dryNext = first(order('weighted', group.deployments, ctxFor(catalog, { cursors: dry })));
    assert.equal(dryNext, 'p/b');
    assert.equal(first(order('weighted', group.deployments, ctxFor(catalog, { cursors }))), 'p/b', 'the original did not move');
  });
});

describe('strategies: least-connections', () => {
  it('puts the deployment with the fewest requests in flight first', () => {
    const { catalog, group } = groupOf([{ model: 'a' }, { model: 'b' }, { model: 'c' }]);
    const health = new FakeHealth().set('p/a', { inflight: 3 }).set('p/b', { inflight: 0 }).set('p/c', { inflight: 1 });
    const out = order('least-connections', group.deployments, ctxFor(catalog, { health }));
    assert.deepEqual(ids(out), ['p/b', 'p/c', 'p/a']);
    assert.equal(out[0].reason, 'least-connections: 0 in flight (fewest)');
    assert.equal(out[2].reason, 'least-connections: 3 in flight');
  });

  it('breaks ties by priority', () => {
    const { catalog, group } = groupOf([{ model: 'a', priority: 2 }, { model: 'b', priority: 1 }, { model: 'c', priority: 0 }]);
    const health = new FakeHealth().set('p/a', { inflight: 1 }).set('p/b', { inflight: 1 }).set('p/c', { inflight: 2 });
    assert.deepEqual(ids(order('least-connections', group.deployments, ctxFor(catalog, { health }))), ['p/b', 'p/a', 'p/c']);
  });
});

describe('strategies: latency', () => {
  const setup = (exploration?: number) => {
    const { catalog, group } = groupOf([{ model: 'slow' }, { model: 'new' }, { model: 'fast' }], exploration === undefined ? {} : { exploration });
    const health = new FakeHealth().set('p/slow', { latencyMs: 900.4 }).set('p/new', { latencyMs: undefined }).set('p/fast', { latencyMs: 120 });
    return { catalog, group, health };
  };

  it('puts unmeasured deployments first, then the lowest EWMA, when not exploring', () => {
    const { catalog, group, health } = setup();
    const random = scripted(0.5); // >= exploration 0.05: no exploring
    const out = order('latency', group.deployments, ctxFor(catalog, { health, random }));
    assert.deepEqual(ids(out), ['p/new', 'p/fast', 'p/slow']);
    assert.deepEqual(
      out.map((o) => o.reason),
      ['latency: not measured yet', 'latency: 120 ms EWMA', 'latency: 900 ms EWMA'],
    );
    assert.equal(random.calls(), 1);
  });

  it('labels the fastest when every deployment is measured', () => {
    const { catalog, group, health } = setup();
    health.set('p/new', { latencyMs: 300 });
    const out = order('latency', group.deployments, ctxFor(catalog, { health, random: scripted(0.9) }));
    assert.deepEqual(ids(out), ['p/fast', 'p/new', 'p/slow']);
    assert.equal(out[0].reason, 'latency: 120 ms EWMA (fastest)');
  });

  it('explores with probability `exploration`: a random other deployment goes first, the rest keep their order', () => {
    const { catalog, group, health } = setup();
    // First draw 0.01 < 0.05 explores; the second picks among positions 1..2 (0.99 -> the last).
    const out = order('latency', group.deployments, ctxFor(catalog, { health, random: scripted(0.01, 0.99) }));
    assert.deepEqual(ids(out), ['p/slow', 'p/new', 'p/fast']);
    assert.equal(out[0].reason, 'latency: exploring (900 ms EWMA)');
    const near = order('latency', group.deployments, ctxFor(catalog, { health, random: scripted(0.01, 0) }));
    assert.deepEqual(ids(near), ['p/fast', 'p/new', 'p/slow']);
  });

  it('explores only strictly below the exploration share, and never when it is 0', () => {
    const { catalog, group, health } = setup(0.2);
    assert.deepEqual(ids(order('latency', group.deployments, ctxFor(catalog, { health, random: scripted(0.2) }))), ['p/new', 'p/fast', 'p/slow']);
    const off = setup(0);
    const random = scripted();
    assert.deepEqual(ids(order('latency', off.group.deployments, ctxFor(off.catalog, { health: off.health, random }))), ['p/new', 'p/fast', 'p/slow']);
    assert.equal(random.calls(), 0, 'no random draw when exploration is off');
  });
});

describe('strategies: cost', () => {
  it('computes the blended price as three prompt tokens per completion token', () => {
    const { group } = groupOf([{ model: 'a', price: { input: 2, output: 8 } }, { model: 'b' }]);
    assert.equal(blendedPrice(group.deployments[0]), 3.5);
    assert.equal(blendedPrice(group.deployments[1]), undefined);
  });

  it('orders by blended price, cheapest first, with unpriced deployments last in priority order', () => {
    const { catalog, group } = groupOf([
      { model: 'free' }, // no price: not "free", unknown
      { model: 'dear', price: { input: 10, output: 30 } }, // 15
      { model: 'cheap', price: { input: 1, output: 2 } }, // 1.25
      { model: 'also-unpriced' },
      // input-heavy blend: 1*3+20 / 4 = 5.75, dearer than 3/3 = 3 even though input is lower
      { model: 'out-heavy', price: { input: 1, output: 20 } },
      { model: 'flat', price: { input: 3, output: 3 } },
    ]);
    const out = order('cost', group.deployments, ctxFor(catalog));
    assert.deepEqual(ids(out), ['p/cheap', 'p/flat', 'p/out-heavy', 'p/dear', 'p/free', 'p/also-unpriced']);
    assert.equal(out[0].reason, 'cost: $1.250/1M blended (cheapest)');
    assert.equal(out[1].reason, 'cost: $3.000/1M blended');
    assert.equal(out[4].reason, 'cost: no price configured');
  });

  it('uses the group price for deployments without their own', () => {
    const { catalog, group } = groupOf([{ model: 'a' }, { model: 'b', price: { input: 1, output: 1 } }], {}, { price: { input: 4, output: 4 } });
    assert.deepEqual(ids(order('cost', group.deployments, ctxFor(catalog))), ['p/b', 'p/a']);
  });
});

describe('strategies: adaptive', () => {
  // fast but dear vs slow but cheap; equal load and errors.
  const setup = (adaptive?: Record<string, number>) => {
    const { catalog, group } = groupOf(
      [
        { model: 'fast', price: { input: 10, output: 10 } },
        { model: 'cheap', price: { input: 1, output: 1 } },
      ],
      { exploration: 0, ...(adaptive ? { adaptive } : {}) },
    );
    const health = new FakeHealth().set('p/fast', { latencyMs: 100 }).set('p/cheap', { latencyMs: 1000 });
    return { catalog, group, health };
  };

  it('scores with the default weights (latency 0.4, load 0.2, errors 0.3, cost 0.1): lowest first', () => {
    const { catalog, group, health } = setup();
    const out = order('adaptive', group.deployments, ctxFor(catalog, { health }));
    assert.deepEqual(ids(out), ['p/fast', 'p/cheap']);
    assert.equal(out[0].reason, 'adaptive: score 0.100 (latency 100 ms, 0 in flight, 0% errors, $10.00/1M)');
    assert.equal(out[1].reason, 'adaptive: score 0.400 (latency 1000 ms, 0 in flight, 0% errors, $1.00/1M)');
  });

  it('follows the configured weights', () => {
    const costOnly = setup({ latency: 0, load: 0, errorRate: 0, cost: 1 });
    assert.deepEqual(ids(order('adaptive', costOnly.group.deployments, ctxFor(costOnly.catalog, { health: costOnly.health }))), ['p/cheap', 'p/fast']);
    const latencyOnly = setup({ latency: 1, load: 0, errorRate: 0, cost: 0 });
    assert.deepEqual(
      ids(order('adaptive', latencyOnly.group.deployments, ctxFor(latencyOnly.catalog, { health: latencyOnly.health }))),
      ['p/fast', 'p/cheap'],
    );
  });

  it('counts load (scaled across the group) and error rate (as a ratio)', () => {
    const { catalog, group, health } = setup({ latency: 0, load: 1, errorRate: 0, cost: 0 });
    health.set('p/fast', { inflight: 4 }).set('p/cheap', { inflight: 1 });
    assert.deepEqual(ids(order('adaptive', group.deployments, ctxFor(catalog, { health }))), ['p/cheap', 'p/fast']);
    const errors = setup({ latency: 0, load: 0, errorRate: 1, cost: 0 });
    errors.health.set('p/fast', { errorRate: 0.2 }).set('p/cheap', { errorRate: 0.1 });
    const out = order('adaptive', errors.group.deployments, ctxFor(errors.catalog, { health: errors.health }));
    assert.deepEqual(ids(out), ['p/cheap', 'p/fast']);
    assert.match(out[1].reason, /^adaptive: score 0\.200 .*20% errors/);
  });

  it('scores an unmeasured deployment 0 on latency so it gets measured', () => {
    const { catalog, group, health } = setup({ latency: 1, load: 0, errorRate: 0, cost: 0 });
    health.set('p/cheap', { latencyMs: undefined });
    const out = order('adaptive', group.deployments, ctxFor(catalog, { health }));
    // Only one measured latency: max == min scales it to 0 too, so the tie keeps priority order.
    assert.deepEqual(ids(out), ['p/fast', 'p/cheap']);
    assert.match(out[1].reason, /latency n\/a/);
    const three = groupOf([{ model: 'a' }, { model: 'b' }, { model: 'c' }], { exploration: 0, adaptive: { latency: 1, load: 0, errorRate: 0, cost: 0 } });
    const h3 = new FakeHealth().set('p/a', { latencyMs: 500 }).set('p/b', { latencyMs: 100 });
    assert.deepEqual(ids(order('adaptive', three.group.deployments, ctxFor(three.catalog, { health: h3 }))), ['p/b', 'p/c', 'p/a']);
  });

  it('explores like the latency strategy', () => {
    const { catalog, group } = groupOf([{ model: 'a' }, { model: 'b' }], { exploration: 0.5 });
    const health = new FakeHealth().set('p/a', { latencyMs: 10 }).set('p/b', { latencyMs: 1000 });
    const explored = order('adaptive', group.deployments, ctxFor(catalog, { health, random: scripted(0.1, 0) }));
    assert.deepEqual(ids(explored), ['p/b', 'p/a']);
    assert.match(explored[0].reason, /^adaptive: exploring \(score /);
    assert.deepEqual(ids(order('adaptive', group.deployments, ctxFor(catalog, { health, random: scripted(0.6) }))), ['p/a', 'p/b']);
  });
});

describe('strategies: geographic', () => {
  const deployments = [
    { model: 'mars', region: 'mars-1' },
    { model: 'none' },
    { model: 'us', region: 'us-east' },
    { model: 'fra', region: 'eu-central' },
    { model: 'home', region: 'EU-West' },
  ];

  it('orders by distance from routing.region: same region, then nearer, then unknown regions and no region last', () => {
    const { catalog, group } = groupOf(deployments, { region: 'eu-west' });
    const out = order('geographic', group.deployments, ctxFor(catalog));
    assert.deepEqual(ids(out), ['p/home@EU-West', 'p/fra@eu-central', 'p/us@us-east', 'p/mars@mars-1', 'p/none']);
    assert.deepEqual(
      out.map((o) => o.reason),
      [
        'geographic: in your region eu-west',
        'geographic: eu-central is 20 from eu-west',
        'geographic: us-east is 75 from eu-west',
        'geographic: distance eu-west -> mars-1 unknown; after known regions',
        'geographic: no region; after known regions',
      ],
    );
  });

  it('lets routing.regionDistances add and correct pairs, in both directions', () => {
    const { catalog, group } = groupOf(deployments, {
      region: 'eu-west',
      regionDistances: { 'us-east': { 'eu-west': 5 }, 'mars-1': { 'eu-west': 10 } },
    });
    assert.deepEqual(ids(order('geographic', group.deployments, ctxFor(catalog))), [
      'p/home@EU-West',
      'p/us@us-east',
      'p/mars@mars-1',
      'p/fra@eu-central',
      'p/none',
    ]);
  });

  it('falls back to priority order when routing.region is not set', () => {
    const { catalog, group } = groupOf(deployments);
    const out = order('geographic', group.deployments, ctxFor(catalog));
    assert.deepEqual(ids(out), group.deployments.map((d) => d.id));
    assert.ok(out.every((o) => o.reason === 'geographic: routing.region is not set; priority order'));
  });

  it('uses the built-in table symmetrically and case-insensitively', () => {
    const table = distanceTable();
    assert.equal(table('us-east', 'us-west'), 65);
    assert.equal(table('US-WEST', 'us-east'), 65);
    assert.equal(table('ap-southeast', 'sa-east'), 320);
    assert.equal(table('sa-east', 'ap-southeast'), 320);
    assert.equal(table('eu-west', 'EU-WEST'), 0);
    assert.equal(table('eu-west', 'moon'), undefined);
    assert.equal(distanceTable({ 'eu-west': { 'eu-central': 3 } })('eu-central', 'eu-west'), 3, 'override wins over the built-in 20');
  });
});

describe('strategies: changes to the eligible set and missing prices', () => {
  it('weighted: starts its credit afresh when the eligible set changes, so shares hold for the new set', () => {
    const { catalog, byId } = groupOf([{ weight: 5 }, { weight: 1 }, { weight: 1 }], { strategy: 'weighted' });
    const ctx = { group: 'g', health: new FakeHealth(), routing: catalog.routing, distances: distanceTable(), cursors: new RoutingCursors(), random: () => 0 };
    const all = [byId('p/m0'), byId('p/m1'), byId('p/m2')];
    for (let i = 0; i < 3; i++) order('weighted', all, ctx);
    // The heavy one is ejected: the other two, equal in weight, must alternate from the first request.
    const rest = [byId('p/m1'), byId('p/m2')];
    const firsts = Array.from({ length: 10 }, () => order('weighted', rest, ctx)[0].deployment.id);
    assert.equal(firsts.filter((id) => id === 'p/m1').length, 5, firsts.join(' '));
    for (let i = 1; i < firsts.length; i++) assert.notEqual(firsts[i], firsts[i - 1], 'alternates');
  });

  it('adaptive: an unpriced deployment scores as the most expensive, as the cost strategy ranks it last', () => {
    const { catalog, byId } = groupOf([{ price: { input: 1, output: 1 } }, {}], {
      strategy: 'adaptive',
      exploration: 0,
      adaptive: { latency: 0, load: 0, errorRate: 0, cost: 1 },
    });
    const ctx = { group: 'g', health: new FakeHealth(), routing: catalog.routing, distances: distanceTable(), cursors: new RoutingCursors(), random: () => 0 };
    const ordered = order('adaptive', [byId('p/m1'), byId('p/m0')], ctx);
    assert.deepEqual(ordered.map((o) => o.deployment.id), ['p/m0', 'p/m1']);
  });
});
