// The adaptive first-byte deadline and the hedge delay, decided from a deployment's own history.
import assert from 'node:assert/strict';
import { FirstByteWindow } from '../../daemon/health/first-byte';
import { HedgeBudget } from '../../daemon/pipeline/hedge-budget';
import { firstByteDeadline, hedgeDelay, slowAfterMs } from '../../daemon/routing/timing';
import { FirstByteSchema, HedgeSchema } from '../../shared/routing-config';

const first = FirstByteSchema.parse({});
const hedge = HedgeSchema.parse({});

function figures(samples: number[]): FirstByteWindow {
  const w = new FirstByteWindow(100);
  for (const s of samples) w.push(s);
  return w;
}

describe('routing timing: the adaptive first-byte deadline', () => {
  it('stays at the configured ceiling until enough requests were measured', () => {
    assert.equal(firstByteDeadline(figures([100, 120]), first, 120_000), 120_000);
  });

  it('is a multiple of the recent p99, never below the floor nor above the ceiling', () => {
    const steady = figures(Array.from({ length: 50 }, (_, i) => 300 + i * 10)); // p99 = 790 ms
    assert.equal(firstByteDeadline(steady, first, 120_000), 4 * 790);
    const fast = figures(Array.from({ length: 50 }, () => 20));
    assert.equal(firstByteDeadline(fast, first, 120_000), first.floorMs);
    assert.equal(firstByteDeadline(steady, first, 1_000), 1_000);
    assert.equal(firstByteDeadline(steady, { ...first, adaptive: false }, 120_000), 120_000);
  });
});

describe('routing timing: when to hedge', () => {
  const warm = figures(Array.from({ length: 40 }, (_, i) => 100 + i)); // p95 = 138 ms

  it('hedges a stream after the quantile of its first bytes, not sooner than minDelayMs', () => {
    assert.equal(hedgeDelay(warm, hedge, first.minSamples, 'stream', undefined), hedge.minDelayMs);
    const slow = figures(Array.from({ length: 40 }, (_, i) => 1_000 + 10 * i)); // p95 = 1380 ms
    assert.equal(hedgeDelay(slow, hedge, first.minSamples, 'stream', undefined), 1_380);
  });

  it('hedges a cold stream after coldDelayMs, and a whole answer only when small and warm', () => {
    assert.equal(hedgeDelay(figures([]), hedge, first.minSamples, 'stream', undefined), hedge.coldDelayMs);
    assert.equal(hedgeDelay(figures([]), hedge, first.minSamples, 'whole', 100), undefined, 'cold: its normal is unknown');
    assert.equal(hedgeDelay(warm, hedge, first.minSamples, 'whole', undefined), undefined, 'no max_tokens: its length is unknown');
    assert.equal(hedgeDelay(warm, hedge, first.minSamples, 'whole', 4_000), undefined, 'a long answer');
    assert.equal(hedgeDelay(warm, hedge, first.minSamples, 'whole', 100), hedge.minDelayMs);
    assert.equal(hedgeDelay(warm, { ...hedge, enabled: false }, first.minSamples, 'stream', undefined), undefined);
  });

  it('counts a loser as slow only past what its own history calls abnormal', () => {
    assert.equal(slowAfterMs(warm, first, hedge, 'stream'), first.floorMs);
    assert.equal(slowAfterMs(figures([]), first, hedge, 'stream'), Math.max(first.floorMs, hedge.coldDelayMs));
    assert.equal(slowAfterMs(figures([]), first, hedge, 'whole'), undefined);
  });
});

describe('health: the first-byte window', () => {
  it('gives the same quantiles as sorting its last N samples, as samples come and go', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const w = new FirstByteWindow(20);
    const all: number[] = [];
    for (let i = 0; i < 500; i++) {
      const ms = Math.round(random() * 1_000) / 10;
      w.push(ms);
      all.push(ms);
      const last = all.slice(-20).sort((a, b) => a - b);
      for (const q of [0, 0.5, 0.95, 0.99, 1]) assert.equal(w.quantile(q), last[Math.min(last.length - 1, Math.floor(q * last.length))], `after ${i + 1}, q ${q}`);
    }
    assert.equal(w.samples, 20);
  });
});

describe('pipeline: the hedge budget', () => {
  it('lets at most maxShare of the requests in flight have a hedge out, and at least one', () => {
    const budget = new HedgeBudget();
    const leave = Array.from({ length: 20 }, () => budget.enter());
    const first = budget.take(0.1);
    const second = budget.take(0.1);
    assert.ok(first && second, '10 % of 20 requests: two hedges');
    assert.equal(budget.take(0.1), undefined, 'a third waits');
    first();
    const third = budget.take(0.1);
    assert.ok(third, 'a slot freed');
    leave.forEach((l) => l());
    second();
    third();
    const alone = budget.enter();
    assert.ok(budget.take(0.1), 'one request alone may still hedge');
    alone();
  });
});
