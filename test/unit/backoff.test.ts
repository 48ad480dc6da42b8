import assert from 'node:assert/strict';
import { backoff } from '../../daemon/routing/backoff';
import { RetrySchema, type RetryConfig } from '../../shared/routing-config';

const retry = (over: Partial<RetryConfig> = {}): RetryConfig => ({ ...RetrySchema.parse({}), baseMs: 100, maxMs: 1_000, maxRetryAfterMs: 5_000, ...over });

function waitMs(b: ReturnType<typeof backoff>): number {
  assert.ok(b.wait, `expected a wait, got: ${b.reason}`);
  return b.ms;
}

describe('backoff: full jitter', () => {
  it('waits between 0 and just under the cap, from the injected randomness', () => {
    assert.equal(waitMs(backoff(retry(), 0, undefined, () => 0)), 0);
    assert.equal(waitMs(backoff(retry(), 0, undefined, () => 0.999)), 99);
    assert.equal(waitMs(backoff(retry(), 0, undefined, () => 0.5)), 50);
  });

  it('doubles the cap per try (baseMs * 2^n) up to maxMs', () => {
    const caps = [0, 1, 2, 3, 4, 5, 40].map((n) => waitMs(backoff(retry(), n, undefined, () => 0.999_999)) + 1);
    assert.deepEqual(caps, [100, 200, 400, 800, 1_000, 1_000, 1_000]);
  });

  it('explains the wait with the try number and cap', () => {
    const b = backoff(retry(), 2, undefined, () => 0.5);
    assert.deepEqual(b, { wait: true, ms: 200, reason: 'backoff 200 ms (try 3, cap 400 ms)' });
  });

  it('uses the schema defaults (250 ms base, 4 s cap)', () => {
    const defaults = RetrySchema.parse({});
    assert.equal(waitMs(backoff(defaults, 0, undefined, () => 0.999_999)), 249);
    assert.equal(waitMs(backoff(defaults, 10, undefined, () => 0.999_999)), 3_999);
  });
});

describe('backoff: Retry-After', () => {
  it('honours a Retry-After longer than the jitter', () => {
    assert.deepEqual(backoff(retry(), 0, 3_000, () => 0.999), { wait: true, ms: 3_000, reason: 'upstream asked to retry after 3000 ms' });
  });

  it('keeps the jittered wait when it is longer than the Retry-After', () => {
    assert.equal(waitMs(backoff(retry(), 3, 10, () => 0.5)), 400);
  });

  it('accepts a Retry-After of exactly maxRetryAfterMs and refuses anything longer (fail over instead)', () => {
    assert.equal(waitMs(backoff(retry(), 0, 5_000, () => 0)), 5_000);
    const refused = backoff(retry(), 0, 5_001, () => 0);
    assert.deepEqual(refused, { wait: false, reason: 'Retry-After 5001 ms exceeds retry.maxRetryAfterMs (5000 ms)' });
  });

  it('with maxRetryAfterMs 0, refuses any positive Retry-After', () => {
    assert.equal(backoff(retry({ maxRetryAfterMs: 0 }), 0, 1, () => 0).wait, false);
  });
});
