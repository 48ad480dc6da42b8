import assert from 'node:assert/strict';
import { Breaker } from '../../daemon/health/breaker';
import { HealthBoard } from '../../daemon/health/board';
import { BreakerSchema, type BreakerConfig } from '../../shared/routing-config';
import { catalogOf, FakeClock, LOCAL, upstream5xx } from '../support/routing-fixtures';

const T0 = 1_000_000;
const cfg = (over: Partial<BreakerConfig> = {}): BreakerConfig => ({
  ...BreakerSchema.parse({}),
  openMs: 1_000,
  maxOpenMs: 5_000,
  ...over,
});

/** A breaker tripped once at T0 (open until T0 + openMs). */
function tripped(over: Partial<BreakerConfig> = {}): Breaker {
  const b = new Breaker(cfg(over));
  const t = b.onFailure(T0, false, '3 consecutive failures');
  assert.deepEqual(t, { from: 'closed', to: 'open', reason: '3 consecutive failures; open for 1000 ms' });
  return b;
}

describe('breaker: closed', () => {
  it('starts closed and admits without trials', () => {
    const b = new Breaker(cfg());
    assert.equal(b.state(T0), 'closed');
    assert.deepEqual(b.admit(T0), { ok: true, trial: false });
    assert.equal(b.retryAt(), undefined);
  });

  it('stays closed on failures until the caller reports a crossed threshold', () => {
    const b = new Breaker(cfg());
    for (let i = 0; i < 10; i++) assert.equal(b.onFailure(T0, false, undefined), undefined);
    assert.equal(b.state(T0), 'closed');
    assert.equal(b.onFailure(T0, false, 'error rate 50%')?.to, 'open');
    assert.equal(b.state(T0), 'open');
  });

  it('a success while closed changes nothing', () => {
    assert.equal(new Breaker(cfg()).onSuccess(false), undefined);
  });
});

describe('breaker: open', () => {
  it('refuses requests until the open time passes, saying when to retry', () => {
    const b = tripped();
    assert.deepEqual(b.admit(T0 + 999), { ok: false, retryAt: T0 + 1_000, reason: 'circuit open' });
    assert.equal(b.retryAt(), T0 + 1_000);
  });

  it('ignores further failures while open (they neither extend nor re-trip it)', () => {
    const b = tripped();
    assert.equal(b.onFailure(T0 + 500, false, '4 consecutive failures'), undefined);
    assert.equal(b.retryAt(), T0 + 1_000);
  });

  it('reads as half-open once the open time is up (lazily, inclusive of the boundary)', () => {
    const b = tripped();
    assert.equal(b.state(T0 + 999), 'open');
    assert.equal(b.state(T0 + 1_000), 'half-open');
  });

  it('tick() applies the move once and reports it', () => {
    const b = tripped();
    assert.equal(b.tick(T0 + 999), undefined);
    assert.deepEqual(b.tick(T0 + 1_000), { from: 'open', to: 'half-open', reason: 'open time elapsed; allowing trial requests' });
    assert.equal(b.tick(T0 + 1_001), undefined);
    assert.equal(b.retryAt(), undefined);
  });

  it('a successful probe moves it to half-open before the open time is up', () => {
    const b = tripped();
    assert.deepEqual(b.probeSucceeded(T0 + 10), { from: 'open', to: 'half-open', reason: 'health probe succeeded' });
    assert.equal(b.state(T0 + 10), 'half-open');
    assert.deepEqual(b.admit(T0 + 10), { ok: true, trial: true });
  });

  it('a successful probe does nothing unless the circuit is open', () => {
    const b = new Breaker(cfg());
    assert.equal(b.probeSucceeded(T0), undefined);
    assert.equal(b.state(T0), 'closed');
  });
});

describe('breaker: open time', () => {
  it('doubles on each consecutive trip and is capped at maxOpenMs', () => {
    const b = new Breaker(cfg({ openMs: 1_000, maxOpenMs: 5_000 }));
    let now = T0;
    const openFor: number[] = [];
    let t = b.onFailure(now, false, 'tripped');
    for (let i = 0; i < 5; i++) {
      assert.equal(t?.to, 'open');
      const until = b.retryAt()!;
      openFor.push(until - now);
      now = until;
      assert.deepEqual(b.admit(now), { ok: true, trial: true });
      t = b.onFailure(now, true, undefined); // the trial fails
    }
    assert.deepEqual(openFor, [1_000, 2_000, 4_000, 5_000, 5_000]);
    assert.match(t!.reason, /^a trial request failed; open for 5000 ms$/);
  });

  it('starts again from openMs after the circuit closes', () => {
    const b = tripped();
    b.tick(T0 + 1_000);
    b.admit(T0 + 1_000);
    b.onFailure(T0 + 1_000, true, undefined); // reopens for 2,000
    assert.equal(b.retryAt(), T0 + 3_000);
    b.tick(T0 + 3_000);
    b.admit(T0 + 3_000);
    assert.equal(b.onSuccess(true)?.to, 'closed');
    assert.equal(b.onFailure(T0 + 4_000, false, 'tripped again')?.reason, 'tripped again; open for 1000 ms');
  });
});

describe('breaker: half-open', () => {
  it('admits at most halfOpenMax trials at once; release() frees a slot', () => {
    const b = tripped({ halfOpenMax: 2 });
    const at = T0 + 1_000;
    assert.deepEqual(b.admit(at), { ok: true, trial: true });
    assert.deepEqual(b.admit(at), { ok: true, trial: true });
    assert.deepEqual(b.admit(at), { ok: false, retryAt: at, reason: 'circuit half-open; trial slots taken' });
    b.release(false); // a non-trial ending frees nothing
    assert.equal(b.admit(at).ok, false);
    b.release(true);
    assert.deepEqual(b.admit(at), { ok: true, trial: true });
    assert.equal(b.admit(at).ok, false);
  });

  it('closes after successThreshold trial successes', () => {
    const b = tripped({ successThreshold: 2, halfOpenMax: 2 });
    const at = T0 + 1_000;
    b.admit(at);
    b.admit(at);
    assert.equal(b.onSuccess(true), undefined);
    assert.equal(b.state(at), 'half-open');
    assert.deepEqual(b.onSuccess(true), { from: 'half-open', to: 'closed', reason: '2 trial request(s) succeeded' });
    assert.equal(b.state(at), 'closed');
    assert.deepEqual(b.admit(at), { ok: true, trial: false });
  });

  it('a finished trial frees its slot for the next one', () => {
    const b = tripped({ successThreshold: 3, halfOpenMax: 1 });
    const at = T0 + 1_000;
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(b.admit(at), { ok: true, trial: true });
      assert.equal(b.admit(at).ok, false);
      assert.equal(b.onSuccess(true), undefined);
    }
    b.admit(at);
    assert.equal(b.onSuccess(true)?.to, 'closed');
  });

  it('a failed trial reopens for longer, and the successes so far do not carry over', () => {
    const b = tripped({ successThreshold: 2, halfOpenMax: 2 });
    let at = T0 + 1_000;
    b.admit(at);
    b.admit(at);
    b.onSuccess(true);
    assert.deepEqual(b.onFailure(at, true, undefined), { from: 'half-open', to: 'open', reason: 'a trial request failed; open for 2000 ms' });
    assert.equal(b.admit(at + 1_999).ok, false);
    at += 2_000;
    assert.deepEqual(b.admit(at), { ok: true, trial: true });
    assert.equal(b.onSuccess(true), undefined, 'one success is not enough after a reopen');
    b.admit(at);
    assert.equal(b.onSuccess(true)?.to, 'closed');
  });

  it('a failure in the lazily half-open state (before anyone ticked) also reopens for longer', () => {
    const b = tripped();
    assert.equal(b.onFailure(T0 + 1_500, false, undefined)?.reason, 'a trial request failed; open for 2000 ms');
    assert.equal(b.retryAt(), T0 + 3_500);
  });
});

describe('breaker: thresholds through the health board', () => {
  const board = (breaker: Record<string, number>, deploymentBreaker?: Record<string, number>) => {
    const catalog = catalogOf({
      providers: { p: LOCAL },
      models: { g: { deployments: [{ provider: 'p', model: 'a', ...(deploymentBreaker ? { breaker: deploymentBreaker } : {}) }] } },
      routing: { breaker },
    });
    return new HealthBoard(catalog, () => {}, new FakeClock(T0).now);
  };

  it('opens at failureThreshold consecutive failures, not before', () => {
    const h = board({ failureThreshold: 3, minRequests: 100 });
    h.failure('p/a', false, upstream5xx());
    h.failure('p/a', false, upstream5xx());
    assert.equal(h.get('p/a').circuit, 'closed');
    h.failure('p/a', false, upstream5xx());
    assert.equal(h.get('p/a').circuit, 'open');
  });

  it('a success in between resets the consecutive count', () => {
    const h = board({ failureThreshold: 3, minRequests: 100 });
    h.failure('p/a', false, upstream5xx());
    h.failure('p/a', false, upstream5xx());
    h.success('p/a', false, 100);
    h.failure('p/a', false, upstream5xx());
    h.failure('p/a', false, upstream5xx());
    assert.equal(h.get('p/a').circuit, 'closed');
  });

  it("applies a group's breaker override, and a deployment's over the group's", () => {
    const catalog = catalogOf({
      providers: { p: LOCAL },
      models: {
        g: {
          breaker: { failureThreshold: 2, openMs: 7_000 },
          deployments: [{ provider: 'p', model: 'a' }, { provider: 'p', model: 'b', breaker: { failureThreshold: 1 } }],
        },
      },
      routing: { breaker: { failureThreshold: 5 } },
    });
    const [a, b] = catalog.groups.get('g')!.deployments;
    assert.deepEqual([a.breaker.failureThreshold, a.breaker.openMs, a.breaker.maxOpenMs], [2, 7_000, 120_000]);
    assert.deepEqual([b.breaker.failureThreshold, b.breaker.openMs], [1, 7_000]);
  });

  it("a deployment's breaker override wins over the global setting", () => {
    const h = board({ failureThreshold: 5, minRequests: 100 }, { failureThreshold: 1 });
    h.failure('p/a', false, upstream5xx());
    assert.equal(h.get('p/a').circuit, 'open');
  });
});
