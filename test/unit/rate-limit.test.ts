import assert from 'node:assert/strict';
import { RateLimiter } from '../../daemon/health/rate-limit';

const T0 = 1_000_000;

/** Takes requests of `tokens` until the limiter asks to wait; returns how many went through. */
function drain(limiter: RateLimiter, now: number, tokens = 1, max = 10_000): number {
  let n = 0;
  while (n < max && limiter.waitFor(now, tokens) === 0) {
    limiter.take(now, tokens);
    n++;
  }
  return n;
}

describe('rate limits: requests per minute', () => {
  it('admits a burst of 10 seconds worth (rpm/6) at once, then paces at rpm', () => {
    const l = new RateLimiter({ rpm: 60 }, T0);
    assert.equal(drain(l, T0), 10);
    assert.equal(l.waitFor(T0, 1), 1_000, 'one request per second at 60 rpm');
    assert.equal(l.waitFor(T0 + 400, 1), 600);
    assert.equal(l.waitFor(T0 + 1_000, 1), 0);
    assert.equal(drain(l, T0 + 1_000), 1);
    assert.equal(drain(l, T0 + 4_000), 3, 'three seconds refill three requests');
  });

  it('never holds more than its burst, however long it was idle', () => {
    const l = new RateLimiter({ rpm: 60 }, T0);
    assert.equal(drain(l, T0 + 3_600_000), 10);
  });

  it('admits at least one request for small limits', () => {
    assert.equal(drain(new RateLimiter({ rpm: 2 }, T0), T0), 1);
    assert.equal(drain(new RateLimiter({ rpm: 1 }, T0), T0), 1);
    const slow = new RateLimiter({ rpm: 2 }, T0);
    slow.take(T0, 1);
    assert.equal(slow.waitFor(T0, 1), 30_000);
  });

  it('uses an explicit burst instead of the default', () => {
    const l = new RateLimiter({ rpm: 600, burst: 2 }, T0);
    assert.equal(drain(l, T0), 2);
    assert.equal(l.waitFor(T0, 1), 100);
  });

  it('does not limit a deployment with no limits', () => {
    assert.equal(drain(new RateLimiter({}, T0), T0, 1_000_000, 500), 500);
  });
});

describe('rate limits: tokens per minute', () => {
  it('holds 10 seconds of tokens and refills at tpm', () => {
    const l = new RateLimiter({ tpm: 6_000 }, T0); // 1,000 tokens at once, 0.1 per ms
    assert.equal(l.waitFor(T0, 1_000), 0);
    l.take(T0, 800);
    assert.equal(l.waitFor(T0, 200), 0);
    assert.equal(l.waitFor(T0, 300), 1_000, '100 tokens short at 0.1 tokens/ms');
    assert.equal(l.waitFor(T0 + 1_000, 300), 0);
  });

  it('lets a request larger than the bucket go once the bucket is full, then empties it', () => {
    const l = new RateLimiter({ tpm: 6_000 }, T0);
    assert.equal(l.waitFor(T0, 50_000), 0);
    l.take(T0, 50_000);
    assert.equal(l.waitFor(T0, 1), 10);
    assert.equal(l.waitFor(T0, 50_000), 10_000, 'a big one waits for a full bucket, not forever');
  });

  it('settle() returns estimated tokens that were not used', () => {
    const l = new RateLimiter({ tpm: 6_000 }, T0);
    l.settle(T0, l.take(T0, 800), 300);
    assert.equal(l.waitFor(T0, 700), 0);
    assert.equal(l.waitFor(T0, 701), 10);
  });

  it('settle() charges use beyond the estimate, so underestimated requests still count', () => {
    const l = new RateLimiter({ tpm: 6_000 }, T0);
    l.settle(T0, l.take(T0, 800), 900);
    assert.equal(l.waitFor(T0, 100), 0, '1,000 - 900 used = 100 left');
    assert.equal(l.waitFor(T0, 101), 10);
  });

  // take() charges at most a full bucket (1,000 here) for a 5,000-token estimate; the request used
  // 4,500, so nothing comes back and the 3,500 beyond the charge are owed: the bucket stands at -3,500.
  it('settle() squares against what take() charged for a request larger than the bucket', () => {
    const l = new RateLimiter({ tpm: 6_000 }, T0);
    const charged = l.take(T0, 5_000);
    assert.equal(charged, 1_000);
    l.settle(T0, charged, 4_500);
    assert.equal(l.waitFor(T0, 500), 40_000, '(500 + 3,500) tokens at 0.1 per ms');
  });

  it('checks requests and tokens together: the longer wait wins', () => {
    const l = new RateLimiter({ rpm: 600, tpm: 6_000 }, T0);
    l.take(T0, 1_000);
    assert.equal(l.waitFor(T0, 500), 5_000);
    assert.equal(l.waitFor(T0, 0), 0);
  });
});

describe('rate limits: upstream 429', () => {
  it('holds the deployment until Retry-After passes, with the buckets emptied', () => {
    const l = new RateLimiter({ rpm: 60 }, T0);
    l.rateLimited(T0, 3_000);
    assert.equal(l.waitFor(T0, 1), 3_000);
    assert.equal(l.waitFor(T0 + 2_999, 1), 1);
    assert.equal(l.waitFor(T0 + 3_000, 1), 0);
    assert.equal(drain(l, T0 + 3_000), 3, 'the bucket refilled from empty during the hold, not from full');
    assert.equal(l.blockedUntilMs(), T0 + 3_000);
  });

  it('holds for 1 s when the upstream sent no Retry-After', () => {
    const l = new RateLimiter({}, T0);
    l.rateLimited(T0, undefined);
    assert.equal(l.waitFor(T0, 1), 1_000);
    assert.equal(l.waitFor(T0 + 1_000, 1), 0);
  });

  it('a shorter Retry-After does not shorten an earlier, longer hold', () => {
    const l = new RateLimiter({}, T0);
    l.rateLimited(T0, 10_000);
    l.rateLimited(T0 + 1_000, 1_000);
    assert.equal(l.waitFor(T0 + 2_000, 1), 8_000);
  });
});
