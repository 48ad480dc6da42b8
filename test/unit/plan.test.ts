import assert from 'node:assert/strict';
import { planRoute, type Plan, type PlanContext, type PlanResult } from '../../daemon/routing/plan';
import type { Catalog } from '../../daemon/routing/catalog';
import { distanceTable } from '../../daemon/routing/regions';
import { RoutingCursors } from '../../daemon/routing/strategies';
import type { ChatBody } from '../../daemon/core/chat';
import { catalogOf, FakeHealth, LOCAL, scripted } from '../support/routing-fixtures';

const hi = (over: Partial<ChatBody> = {}): ChatBody => ({ model: 'x', messages: [{ role: 'user', content: 'hi' }], ...over });

function ctxFor(catalog: Catalog, over: Partial<PlanContext> = {}): PlanContext {
  return {
    catalog,
    health: new FakeHealth(),
    cursors: new RoutingCursors(),
    distances: distanceTable(catalog.routing.regionDistances),
    random: scripted(),
    ...over,
  };
}

function ok(result: PlanResult): Plan {
  assert.ok(result.ok, `expected a plan, got ${JSON.stringify(result)}`);
  return result.plan;
}

const attemptIds = (plan: Plan) => plan.attempts.map((a) => a.deployment.id);
const dep = (model: string, extra: Record<string, unknown> = {}) => ({ provider: 'p', model, ...extra });

/** A -> [B, C]; B -> [D, A]; C -> [B]; D is priced and ordered by cost; E is unrelated. */
const fallbackCatalog = () =>
  catalogOf({
    providers: { p: LOCAL },
    models: {
      A: { deployments: [dep('a1'), dep('a2')], fallbacks: ['B', 'C'] },
      B: { deployments: [dep('b1')], fallbacks: ['D', 'A'] },
      C: { deployments: [dep('c1')], fallbacks: ['B'] },
      D: { strategy: 'cost', deployments: [dep('d1', { price: { input: 9, output: 9 } }), dep('d2', { price: { input: 1, output: 1 } })] },
      E: { deployments: [dep('e1')] },
    },
  });

describe('plan: fallback groups', () => {
  it("tries the group's deployments, then each fallback group's, transitively and breadth first, each group once", () => {
    const plan = ok(planRoute(ctxFor(fallbackCatalog()), 'A', hi()));
    assert.deepEqual(attemptIds(plan), ['p/a1', 'p/a2', 'p/b1', 'p/c1', 'p/d2', 'p/d1']);
    assert.deepEqual(plan.attempts.map((a) => a.group), ['A', 'A', 'B', 'C', 'D', 'D']);
    assert.equal(plan.group.name, 'A');
    assert.equal(plan.panic, false);
    const fromB = ok(planRoute(ctxFor(fallbackCatalog()), 'B', hi()));
    assert.deepEqual(attemptIds(fromB), ['p/b1', 'p/d2', 'p/d1', 'p/a1', 'p/a2', 'p/c1']);
  });

  it("orders each fallback group by its own strategy and prefixes its reasons with the group", () => {
    const plan = ok(planRoute(ctxFor(fallbackCatalog()), 'A', hi()));
    assert.deepEqual(
      plan.attempts.map((a) => a.reason),
      [
        'priority: first in order',
        'priority: fallback 1 of 1',
        'fallback group B: priority: the only eligible deployment',
        'fallback group C: priority: the only eligible deployment',
        'fallback group D: cost: $1.000/1M blended (cheapest)',
        'fallback group D: cost: $9.000/1M blended',
      ],
    );
    assert.equal(plan.strategy, 'priority');
  });

  it('fails over to a fallback group when the whole group is ejected, without the panic rule', () => {
    const health = new FakeHealth().set('p/a1', { circuit: 'open' }).set('p/a2', { circuit: 'open' });
    const plan = ok(planRoute(ctxFor(fallbackCatalog(), { health }), 'A', hi()));
    assert.deepEqual(attemptIds(plan), ['p/b1', 'p/c1', 'p/d2', 'p/d1']);
    assert.equal(plan.panic, false);
  });

  // A deployment shared by a group and its fallback is one upstream with one health entry: try it once.
  it('tries a deployment shared by a group and its fallback only once', () => {
    const catalog = catalogOf({
      providers: { p: LOCAL },
      models: { A: { deployments: [dep('shared'), dep('a1')], fallbacks: ['B'] }, B: { deployments: [dep('shared'), dep('b1')] } },
    });
    assert.deepEqual(attemptIds(ok(planRoute(ctxFor(catalog), 'A', hi()))), ['p/shared', 'p/a1', 'p/b1']);
  });

  it('resolves aliases case-insensitively and refuses unknown names, listing what exists', () => {
    const catalog = catalogOf({ providers: { p: LOCAL }, models: { big: { aliases: ['Large'], deployments: [dep('x')] } } });
    assert.equal(ok(planRoute(ctxFor(catalog), 'LARGE', hi())).group.name, 'big');
    assert.deepEqual(planRoute(ctxFor(catalog), 'huge', hi()), {
      ok: false,
      reason: 'unknown_model',
      message: 'model "huge" is not configured; available: big, auto (an alias, an alias pattern such as "claude-opus-*" or routing.unknownModel can take other names)',
    });
  });
});

describe('plan: health', () => {
  const single = () => catalogOf({ providers: { p: LOCAL }, models: { X: { deployments: [dep('x1'), dep('x2'), dep('x3')] } } });

  it('skips a deployment whose circuit is open, with the last error as the reason', () => {
    const health = new FakeHealth().set('p/x1', { circuit: 'open', lastError: 'upstream 503', circuitRetryAt: 5_000 }).set('p/x3', { circuit: 'open' });
    const plan = ok(planRoute(ctxFor(single(), { health }), 'X', hi()));
    assert.deepEqual(attemptIds(plan), ['p/x2']);
    assert.deepEqual(
      plan.skipped.map((s) => [s.deployment.id, s.reason]),
      [
        ['p/x1', 'circuit open (upstream 503)'],
        ['p/x3', 'circuit open (failing)'],
      ],
    );
  });

  it('keeps a half-open deployment in the plan (it takes trial traffic)', () => {
    const health = new FakeHealth().set('p/x1', { circuit: 'half-open', state: 'unhealthy' });
    assert.deepEqual(attemptIds(ok(planRoute(ctxFor(single(), { health }), 'X', hi()))), ['p/x1', 'p/x2', 'p/x3']);
  });

  it('panic: when every deployment is ejected, tries them all anyway, soonest to recover first', () => {
    const health = new FakeHealth()
      .set('p/x1', { circuit: 'open', circuitRetryAt: 3_000 })
      .set('p/x2', { circuit: 'open', circuitRetryAt: 1_000 })
      .set('p/x3', { circuit: 'open', circuitRetryAt: 2_000 });
    const plan = ok(planRoute(ctxFor(single(), { health }), 'X', hi()));
    assert.equal(plan.panic, true);
    assert.deepEqual(attemptIds(plan), ['p/x2', 'p/x3', 'p/x1']);
    assert.ok(plan.attempts.every((a) => a.panic === true && a.reason === 'panic: every deployment is ejected; trying it anyway'));
    assert.equal(plan.skipped.length, 3, 'the skip reasons stay visible');
  });

  it('panic covers the fallback groups too, by recovery time across groups', () => {
    const health = new FakeHealth();
    const retryAt: Record<string, number> = { 'p/a1': 50, 'p/a2': 40, 'p/b1': 10, 'p/c1': 30, 'p/d1': 20, 'p/d2': 60 };
    for (const [id, at] of Object.entries(retryAt)) health.set(id, { circuit: 'open', circuitRetryAt: at });
    const plan = ok(planRoute(ctxFor(fallbackCatalog(), { health }), 'A', hi()));
    assert.deepEqual(attemptIds(plan), ['p/b1', 'p/d1', 'p/c1', 'p/a2', 'p/a1', 'p/d2']);
    assert.deepEqual(plan.attempts.map((a) => a.group), ['B', 'D', 'C', 'A', 'A', 'D']);
  });

  it('panic puts back only ejected deployments, never ones without a key', () => {
    const catalog = catalogOf(
      { providers: { p: LOCAL, k: { baseUrl: 'https://k.example/v1', apiKeyEnv: 'K_API_KEY' } }, models: { X: { deployments: [{ provider: 'k', model: 'x0' }, dep('x1')] } } },
      () => undefined,
    );
    const health = new FakeHealth().set('p/x1', { circuit: 'open', circuitRetryAt: 1 });
    const plan = ok(planRoute(ctxFor(catalog, { health }), 'X', hi()));
    assert.deepEqual(attemptIds(plan), ['p/x1']);
    assert.equal(plan.panic, true);
  });
});

describe('plan: rate limits', () => {
  const single = () => catalogOf({ providers: { p: LOCAL }, models: { X: { deployments: [dep('x1'), dep('x2'), dep('x3')] } } });

  it('skips a deployment at its rate limit, saying for how long', () => {
    const health = new FakeHealth().wait('p/x1', 500);
    const plan = ok(planRoute(ctxFor(single(), { health }), 'X', hi()));
    assert.deepEqual(attemptIds(plan), ['p/x2', 'p/x3']);
    assert.deepEqual(plan.skipped.map((s) => [s.deployment.id, s.reason]), [['p/x1', 'at its rate limit for another 500 ms']]);
  });

  it('is saturated when every deployment is at its limit, with the soonest capacity as retryAfterMs', () => {
    const health = new FakeHealth().wait('p/x1', 800).wait('p/x2', 300).wait('p/x3', 1_200);
    const result = planRoute(ctxFor(single(), { health }), 'X', hi());
    assert.ok(!result.ok && result.reason === 'saturated', JSON.stringify(result));
    assert.equal(result.retryAfterMs, 300);
    assert.equal(result.group, 'X');
    assert.equal(result.message, 'every deployment of "X" is at its rate limit; capacity frees in 300 ms');
    assert.equal(result.skipped.length, 3);
  });

  it('waits for capacity rather than panicking when the rest are ejected', () => {
    const health = new FakeHealth().wait('p/x1', 700).set('p/x2', { circuit: 'open' }).set('p/x3', { circuit: 'open' });
    const result = planRoute(ctxFor(single(), { health }), 'X', hi());
    assert.ok(!result.ok && result.reason === 'saturated');
    assert.equal(result.retryAfterMs, 700);
  });

  it('a rate-limited group still fails over to a fallback group with capacity', () => {
    const health = new FakeHealth().wait('p/a1', 100).wait('p/a2', 100);
    const plan = ok(planRoute(ctxFor(fallbackCatalog(), { health }), 'A', hi()));
    assert.equal(attemptIds(plan)[0], 'p/b1');
  });

  const tpmCatalog = (tpm: boolean) =>
    catalogOf({
      providers: { p: LOCAL },
      models: { T: { deployments: [dep('t1', tpm ? { tpm: 100_000 } : {}), dep('t2')] }, F: { deployments: [dep('f1')], fallbacks: ['T'] } },
    });

  it('asks the rate limits about the estimated tokens: prompt at 4 characters a token plus max output', () => {
    const body = (over: Partial<ChatBody> = {}) => hi({ messages: [{ role: 'user', content: 'x'.repeat(400) }], ...over });
    const cases: [Partial<ChatBody>, number][] = [
      [{ max_tokens: 50 }, 150],
      [{ max_completion_tokens: 70, max_tokens: 50 }, 170],
      [{}, 356], // no max: 256 assumed
    ];
    for (const [over, expected] of cases) {
      const health = new FakeHealth();
      const plan = ok(planRoute(ctxFor(tpmCatalog(true), { health }), 'T', body(over)));
      assert.equal(plan.estimatedTokens, expected, JSON.stringify(over));
      assert.deepEqual(health.asked, [
        { id: 'p/t1', tokens: expected },
        { id: 'p/t2', tokens: expected },
      ]);
    }
    // A fallback group with a tokens-per-minute limit needs the estimate too.
    assert.equal(ok(planRoute(ctxFor(tpmCatalog(true)), 'F', body({ max_tokens: 50 }))).estimatedTokens, 150);
  });

  it('skips the token estimate when no deployment has a tokens-per-minute limit', () => {
    const health = new FakeHealth();
    const plan = ok(planRoute(ctxFor(tpmCatalog(false), { health }), 'T', hi({ max_tokens: 5_000 })));
    assert.equal(plan.estimatedTokens, 0);
    assert.ok(health.asked.every((a) => a.tokens === 0));
  });
});

describe('plan: missing keys', () => {
  const keyed = () =>
    catalogOf(
      {
        providers: { p: LOCAL, k: { baseUrl: 'https://k.example/v1', apiKeyEnv: 'K_API_KEY' } },
        models: { X: { deployments: [{ provider: 'k', model: 'x0' }, dep('x1')] }, N: { deployments: [{ provider: 'k', model: 'n0' }] } },
      },
      () => undefined,
    );

  it('skips a deployment with no key, naming the variable', () => {
    const plan = ok(planRoute(ctxFor(keyed()), 'X', hi()));
    assert.deepEqual(attemptIds(plan), ['p/x1']);
    assert.deepEqual(plan.skipped.map((s) => [s.deployment.id, s.reason]), [
      ['k/x0', 'no API key: environment variable K_API_KEY is not set (provider "k")'],
    ]);
  });

  it('has no deployment when none has a key, and says why for each', () => {
    const result = planRoute(ctxFor(keyed()), 'N', hi());
    assert.ok(!result.ok && result.reason === 'no_deployment');
    assert.equal(result.group, 'N');
    assert.equal(result.message, 'model group "N" has no usable deployment: k/n0: no API key: environment variable K_API_KEY is not set (provider "k")');
  });
});

describe('plan: auto', () => {
  const TOOL = { type: 'function', function: { name: 'f', parameters: {} } };
  const bodies = {
    simple: hi(),
    medium: hi({ messages: [{ role: 'user', content: '```js\nx()\n```' }] }),
    complex: hi({ messages: [{ role: 'user', content: '```js\nx()\n```' }], tools: [TOOL], max_tokens: 4_000 }),
    reasoning: hi({ reasoning_effort: 'high' }),
  };
  type Tiers = { simple: string; medium: string; complex: string; reasoning: string };
  const autoCatalog = (tiers: Tiers, profiles: Record<string, Record<string, string>> = {}, groups = ['small', 'mid', 'big', 'think']) =>
    catalogOf({
      providers: { p: LOCAL },
      models: Object.fromEntries(groups.map((g) => [g, { deployments: [dep(g)] }])),
      routing: { auto: { tiers, profiles } },
    });
  const TIERS: Tiers = { simple: 'small', medium: 'mid', complex: 'big', reasoning: 'think' };

  it('routes `auto` to the group of the tier the classifier chose', () => {
    const catalog = autoCatalog(TIERS);
    for (const [tier, body] of Object.entries(bodies)) {
      const plan = ok(planRoute(ctxFor(catalog), 'auto', body));
      assert.equal(plan.group.name, TIERS[tier as keyof typeof TIERS], tier);
      assert.equal(plan.auto?.tier, tier);
      assert.equal(plan.requestedModel, 'auto');
      assert.ok(plan.auto!.reasons.length > 0);
      assert.equal('profile' in plan.auto!, false);
    }
    assert.equal(ok(planRoute(ctxFor(catalog), 'Auto', bodies.simple)).group.name, 'small', 'case-insensitive');
  });

  it('reports the score and reasons of the classification', () => {
    const plan = ok(planRoute(ctxFor(autoCatalog(TIERS)), 'auto', bodies.complex));
    assert.deepEqual(plan.auto, {
      tier: 'complex',
      score: 4,
      reasons: ['asks for up to 4000 output tokens (+1)', 'code in the prompt (+2)', '1 tool(s) offered (+1)'],
    });
  });

  it('routes `auto:<profile>` through the profile, falling back to `tiers` for tiers it does not name', () => {
    const catalog = autoCatalog(TIERS, { cheap: { reasoning: 'mid', complex: 'mid' } });
    const reasoning = ok(planRoute(ctxFor(catalog), 'auto:cheap', bodies.reasoning));
    assert.equal(reasoning.group.name, 'mid');
    assert.equal(reasoning.auto?.profile, 'cheap');
    assert.equal(reasoning.auto?.tier, 'reasoning');
    assert.equal(ok(planRoute(ctxFor(catalog), 'auto:cheap', bodies.simple)).group.name, 'small');
    assert.equal(ok(planRoute(ctxFor(catalog), 'AUTO:Cheap', bodies.complex)).group.name, 'mid');
  });

  it('refuses an unknown profile, listing the configured ones', () => {
    const catalog = autoCatalog(TIERS, { cheap: { simple: 'small' }, fast: { simple: 'mid' } });
    assert.deepEqual(planRoute(ctxFor(catalog), 'auto:free', bodies.simple), {
      ok: false,
      reason: 'unknown_model',
      message: 'auto profile "free" is not configured (routing.auto.profiles); available: auto:cheap, auto:fast',
    });
    const none = planRoute(ctxFor(autoCatalog(TIERS)), 'auto:free', bodies.simple);
    assert.ok(!none.ok && /available: \(none\)$/.test(none.message));
  });

  // Names every plain object inherits ("constructor", "__proto__") are not profiles.
  it('refuses profile names inherited from Object.prototype', () => {
    const catalog = autoCatalog(TIERS, { cheap: { simple: 'small' } });
    for (const name of ['auto:constructor', 'auto:__proto__']) {
      const result = planRoute(ctxFor(catalog), name, bodies.simple);
      assert.ok(!result.ok && result.reason === 'unknown_model', `${name}: ${JSON.stringify(result.ok ? result.plan.auto : result)}`);
    }
  });

  it("uses the nearest configured tier above when a tier's group is missing, and says so", () => {
    const plan = ok(planRoute(ctxFor(autoCatalog({ ...TIERS, complex: 'nope' })), 'auto', bodies.complex));
    assert.equal(plan.group.name, 'think');
    assert.equal(plan.auto?.tier, 'complex', 'the tier reported is the one classified');
    assert.equal(plan.auto?.reasons.at(-1), 'tier complex\'s group "nope" is not configured; using tier reasoning');
    const simpleMissing = ok(planRoute(ctxFor(autoCatalog({ ...TIERS, simple: 'nope' })), 'auto', bodies.simple));
    assert.equal(simpleMissing.group.name, 'mid');
  });

  it('uses the nearest tier below when none above is configured', () => {
    const topless = autoCatalog({ ...TIERS, complex: 'nope', reasoning: 'gone' });
    const fromComplex = ok(planRoute(ctxFor(topless), 'auto', bodies.complex));
    assert.equal(fromComplex.group.name, 'mid');
    assert.equal(fromComplex.auto?.reasons.at(-1), 'tier complex\'s group "nope" is not configured; using tier medium');
    const fromReasoning = ok(planRoute(ctxFor(autoCatalog({ ...TIERS, reasoning: 'gone' })), 'auto', bodies.reasoning));
    assert.equal(fromReasoning.group.name, 'big');
  });

  it('refuses `auto` when no tier group is configured', () => {
    const result = planRoute(ctxFor(autoCatalog(TIERS, {}, ['other'])), 'auto', bodies.simple);
    assert.deepEqual(result, {
      ok: false,
      reason: 'unknown_model',
      message: '"auto" needs the groups named in routing.auto.tiers (small, mid, big, think); none is configured',
    });
  });

  it('a configured group named like a tier group is still reachable by name', () => {
    assert.equal(ok(planRoute(ctxFor(autoCatalog(TIERS)), 'think', bodies.simple)).auto, undefined);
  });

  it("uses the classifier's prompt estimate for rate limits", () => {
    const catalog = catalogOf({
      providers: { p: LOCAL },
      models: { small: { deployments: [dep('s', { tpm: 1_000_000 })] } },
      routing: { auto: { tiers: { simple: 'small', medium: 'small', complex: 'small', reasoning: 'small' } } },
    });
    const plan = ok(planRoute(ctxFor(catalog), 'auto', hi({ messages: [{ role: 'user', content: 'y'.repeat(40) }], max_tokens: 10 })));
    assert.equal(plan.estimatedTokens, 20);
  });
});

describe('plan: strategy cursors', () => {
  const rr = () =>
    catalogOf({ providers: { p: LOCAL }, models: { R: { strategy: 'round-robin', deployments: [dep('r1'), dep('r2'), dep('r3')] } } });

  it('a dry run on a cloned cursor does not move round-robin; a real plan does', () => {
    const catalog = rr();
    const cursors = new RoutingCursors();
    for (let i = 0; i < 3; i++) {
      assert.equal(attemptIds(ok(planRoute(ctxFor(catalog, { cursors: cursors.clone() }), 'R', hi())))[0], 'p/r1');
    }
    assert.equal(attemptIds(ok(planRoute(ctxFor(catalog, { cursors }), 'R', hi())))[0], 'p/r1');
    assert.equal(attemptIds(ok(planRoute(ctxFor(catalog, { cursors }), 'R', hi())))[0], 'p/r2');
    assert.equal(attemptIds(ok(planRoute(ctxFor(catalog, { cursors: cursors.clone() }), 'R', hi())))[0], 'p/r3');
    assert.equal(attemptIds(ok(planRoute(ctxFor(catalog, { cursors }), 'R', hi())))[0], 'p/r3');
  });

  it('reports the strategy of the requested group', () => {
    assert.equal(ok(planRoute(ctxFor(rr()), 'R', hi())).strategy, 'round-robin');
  });
});
