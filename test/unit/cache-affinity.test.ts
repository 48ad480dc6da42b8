// Cache affinity (issue 17, item 4): a conversation's key, the bounded table of where each
// conversation was served last, and the plan putting that deployment first while it is eligible.
import assert from 'node:assert/strict';
import { AffinityTable, cacheAffinityKey, jsonAtLeast, MIN_CACHEABLE_CHARS } from '../../daemon/routing/affinity';
import { planRoute, type Plan, type PlanContext, type PlanResult } from '../../daemon/routing/plan';
import type { Catalog } from '../../daemon/routing/catalog';
import { distanceTable } from '../../daemon/routing/regions';
import { RoutingCursors } from '../../daemon/routing/strategies';
import type { ChatBody } from '../../daemon/core/chat';
import { catalogOf, FakeHealth, LOCAL, scripted } from '../support/routing-fixtures';

const chat = (messages: unknown[], over: Partial<ChatBody> = {}): ChatBody => ({ model: 'g', messages, ...over });
// Long enough to be cached (MIN_CACHEABLE_CHARS): agents' system prompts are thousands of tokens.
const LONG = 'You are Cline, a coding agent. Follow the rules. '.repeat(100);
const sys = { role: 'system', content: LONG };

describe('cache affinity: the conversation key', () => {
  it('is the same as a conversation grows, and differs between conversations and models', () => {
    const first = chat([sys, { role: 'user', content: 'fix the bug' }]);
    const later = chat([sys, { role: 'user', content: 'fix the bug' }, { role: 'assistant', content: 'done' }, { role: 'user', content: 'thanks' }]);
    const other = chat([sys, { role: 'user', content: 'write docs' }]);
    assert.ok(cacheAffinityKey(first));
    assert.equal(cacheAffinityKey(later), cacheAffinityKey(first));
    assert.notEqual(cacheAffinityKey(other), cacheAffinityKey(first));
    assert.notEqual(cacheAffinityKey({ ...first, model: 'h' }), cacheAffinityKey(first));
  });

  it('takes prompt_cache_key as it is, over any prompt', () => {
    const a = chat([{ role: 'user', content: 'one' }], { prompt_cache_key: 'session-1' });
    const b = chat([{ role: 'user', content: 'two' }], { prompt_cache_key: 'session-1' });
    assert.equal(cacheAffinityKey(a), cacheAffinityKey(b));
    assert.notEqual(cacheAffinityKey(a), cacheAffinityKey({ ...a, prompt_cache_key: 'session-2' }));
  });

  it('hashes an Anthropic body up to its last cache_control breakpoint', () => {
    const native = (tail: string) => ({
      model: 'g',
      system: [{ type: 'text', text: LONG, cache_control: { type: 'ephemeral' } }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'first', cache_control: { type: 'ephemeral' } }] },
        { role: 'user', content: tail },
      ],
    });
    const body = chat([{ role: 'user', content: 'first' }]);
    assert.equal(cacheAffinityKey(body, native('a')), cacheAffinityKey(body, native('b')), 'what follows the breakpoint does not matter');
    const moved = native('a');
    moved.system[0].text = 'Another agent.';
    assert.notEqual(cacheAffinityKey(body, moved), cacheAffinityKey(body, native('a')));
  });

  it('is undefined without a user message or key to go by, and for a prompt too short to be cached', () => {
    assert.equal(cacheAffinityKey(chat([sys])), undefined);
    assert.equal(cacheAffinityKey(chat([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hi' }])), undefined);
    assert.ok(cacheAffinityKey(chat([{ role: 'user', content: 'hi' }], { prompt_cache_key: 's' })), 'an explicit key needs no length');
    let deep: unknown = 'x';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    assert.equal(cacheAffinityKey(chat([{ role: 'user', content: deep }])), undefined, 'too deep to serialise: no key, no throw');
  });
});

describe('cache affinity: the size check', () => {
  it('agrees with the JSON length on either side of the threshold, without serialising long prompts', () => {
    const values: unknown[] = [
      [undefined, 'x'.repeat(4000), [{ role: 'user', content: 'y'.repeat(90) }]],
      [[{ name: 't', input_schema: { type: 'object', n: 12345, flag: true, none: null } }], 'é"\\\n'.repeat(700), []],
      [undefined, { skipped: undefined, kept: 'z'.repeat(4060) }, []],
    ];
    for (const v of values) {
      const length = JSON.stringify(v).length;
      for (const min of [length - 1, length, length + 1, MIN_CACHEABLE_CHARS]) assert.equal(jsonAtLeast(v, min), length >= min, `${length} vs ${min}`);
    }
  });
});

describe('cache affinity: the table', () => {
  it('remembers the last deployment, forgets after the TTL and beyond its size (least recently used first)', () => {
    const t = new AffinityTable();
    t.remember('a', 'p/x', 0, 2);
    t.remember('b', 'p/y', 10, 2);
    assert.equal(t.get('a', 100, 1000), 'p/x');
    t.remember('a', 'p/z', 200, 2); // a used again: b is now the oldest
    t.remember('c', 'p/x', 300, 2);
    assert.equal(t.size, 2);
    assert.equal(t.get('b', 300, 1000), undefined);
    assert.equal(t.get('a', 300, 1000), 'p/z');
    assert.equal(t.get('a', 1201, 1000), undefined, 'idle longer than the TTL');
  });
});

describe('cache affinity: the plan', () => {
  const catalog = (): Catalog =>
    catalogOf({
      providers: { p: LOCAL },
      models: { g: { strategy: 'round-robin', deployments: [{ provider: 'p', model: 'a' }, { provider: 'p', model: 'b' }, { provider: 'p', model: 'c' }] } },
    });
  const ctxFor = (c: Catalog, over: Partial<PlanContext> = {}): PlanContext => ({
    catalog: c, health: new FakeHealth(), cursors: new RoutingCursors(), distances: distanceTable(c.routing.regionDistances), random: scripted(), ...over,
  });
  const ok = (r: PlanResult): Plan => {
    assert.ok(r.ok, JSON.stringify(r));
    return r.plan;
  };
  const body = chat([{ role: 'user', content: 'hi' }]);

  it('puts the deployment that served the conversation last first, saying so, the rest in strategy order', () => {
    const plan = ok(planRoute(ctxFor(catalog(), { affinity: 'p/c' }), 'g', body));
    assert.equal(plan.attempts[0].deployment.id, 'p/c');
    assert.equal(plan.attempts[0].reason, 'cache affinity: served this conversation last');
    assert.deepEqual(plan.attempts.map((a) => a.deployment.id).sort(), ['p/a', 'p/b', 'p/c']);
  });

  it('is ignored when that deployment is not eligible (circuit open), or unknown', () => {
    const health = new FakeHealth();
    health.health.set('p/c', { circuit: 'open' });
    const plan = ok(planRoute(ctxFor(catalog(), { affinity: 'p/c', health }), 'g', body));
    assert.ok(!plan.attempts.some((a) => a.deployment.id === 'p/c'));
    assert.ok(!plan.attempts.some((a) => a.reason.startsWith('cache affinity')));
    const unknown = ok(planRoute(ctxFor(catalog(), { affinity: 'q/zz' }), 'g', body));
    assert.ok(!unknown.attempts.some((a) => a.reason.startsWith('cache affinity')));
  });
});
