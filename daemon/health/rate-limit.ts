// Token buckets per deployment (requests and tokens per minute), so Shepherd routes around a
// deployment before its provider answers 429. An upstream 429 empties the buckets and holds them
// shut until its Retry-After passes. Pure: the caller passes the time in.

export interface RateLimits {
  rpm?: number;
  tpm?: number;
  /** Requests allowed at once above the rpm pace; default 10 seconds worth (at least 1). */
  burst?: number;
}

class Bucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly capacity: number,
    private readonly perMs: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.last = now;
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.capacity, this.tokens + (now - this.last) * this.perMs);
      this.last = now;
    }
  }

  /** Milliseconds until `amount` is available (0 = now). A request larger than the bucket waits for a full one. */
  waitFor(now: number, amount: number): number {
    this.refill(now);
    const need = Math.min(amount, this.capacity) - this.tokens;
    return need <= 0 ? 0 : Math.ceil(need / this.perMs);
  }

  /** Takes `amount` (at most a full bucket) and says how much was taken. */
  take(now: number, amount: number): number {
    this.refill(now);
    const taken = Math.min(amount, this.capacity);
    this.tokens -= taken;
    return taken;
  }

  /** Returns tokens that were taken for an estimate larger than what was used. */
  give(amount: number): void {
    this.tokens = Math.min(this.capacity, this.tokens + amount);
  }

  /** Charges use beyond the estimate; the bucket may go below zero, which delays what follows. */
  charge(now: number, amount: number): void {
    this.refill(now);
    this.tokens -= amount;
  }

  empty(now: number): void {
    this.refill(now);
    this.tokens = Math.min(this.tokens, 0);
  }
}

export class RateLimiter {
  private requests: Bucket | undefined;
  private tokens: Bucket | undefined;
  private blockedUntil = 0;

  constructor(limits: RateLimits, now: number) {
    if (limits.rpm) {
      const capacity = limits.burst ?? Math.max(1, Math.round(limits.rpm / 6));
      this.requests = new Bucket(capacity, limits.rpm / 60_000, now);
    }
    if (limits.tpm) this.tokens = new Bucket(Math.max(1, Math.round(limits.tpm / 6)), limits.tpm / 60_000, now);
  }

  /** Milliseconds until a request of `tokens` estimated tokens may go (0 = now). */
  waitFor(now: number, tokens: number): number {
    const blocked = Math.max(0, this.blockedUntil - now);
    return Math.max(blocked, this.requests?.waitFor(now, 1) ?? 0, this.tokens?.waitFor(now, tokens) ?? 0);
  }

  /** Takes one request and the estimate; returns the tokens actually charged, for settle(). */
  take(now: number, tokens: number): number {
    this.requests?.take(now, 1);
    return this.tokens?.take(now, tokens) ?? 0;
  }

  /**
   * After the answer: `charged` is what take() returned. Unused tokens go back; use beyond the charge
   * is charged now, so requests that underestimate still count against tpm.
   */
  settle(now: number, charged: number, actual: number): void {
    if (!this.tokens) return;
    if (actual < charged) this.tokens.give(charged - actual);
    else if (actual > charged) this.tokens.charge(now, actual - charged);
  }

  /** The upstream said 429: hold this deployment until Retry-After (or a short default) passes. */
  rateLimited(now: number, retryAfterMs: number | undefined): void {
    this.blockedUntil = Math.max(this.blockedUntil, now + (retryAfterMs ?? 1_000));
    this.requests?.empty(now);
    this.tokens?.empty(now);
  }

  /** Hold requests until `now + ms` without emptying the buckets: a hint (the team's limiter said wait). */
  hold(now: number, ms: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, now + ms);
  }

  blockedUntilMs(): number {
    return this.blockedUntil;
  }
}
