// A fixed-size window of recent outcomes for one deployment: error rate over the last N outcomes,
// latency percentiles over the last N successes, and a recency-weighted latency average (EWMA).

export class OutcomeWindow {
  private readonly outcomes: boolean[] = [];
  private readonly latencies: number[] = [];
  private next = 0;
  private nextLatency = 0;
  private failuresInWindow = 0;
  private ewma: number | undefined;

  constructor(
    private size: number,
    /** Samples after which an old latency weighs half as much. */
    private halfLife: number,
  ) {}

  resize(size: number, halfLife: number): void {
    this.halfLife = halfLife;
    if (size === this.size) return;
    const keep = this.ordered(this.outcomes, this.next).slice(-size);
    const keepLatency = this.ordered(this.latencies, this.nextLatency).slice(-size);
    this.size = size;
    this.outcomes.length = 0;
    this.outcomes.push(...keep);
    this.latencies.length = 0;
    this.latencies.push(...keepLatency);
    this.next = this.outcomes.length % size;
    this.nextLatency = this.latencies.length % size;
    this.failuresInWindow = keep.filter((ok) => !ok).length;
  }

  push(ok: boolean, latencyMs?: number): void {
    if (this.outcomes.length < this.size) {
      this.outcomes.push(ok);
    } else {
      if (!this.outcomes[this.next]) this.failuresInWindow--;
      this.outcomes[this.next] = ok;
    }
    this.next = (this.next + 1) % this.size;
    if (!ok) this.failuresInWindow++;
    if (latencyMs !== undefined) {
      if (this.latencies.length < this.size) this.latencies.push(latencyMs);
      else this.latencies[this.nextLatency] = latencyMs;
      this.nextLatency = (this.nextLatency + 1) % this.size;
      const alpha = 1 - 2 ** (-1 / this.halfLife);
      this.ewma = this.ewma === undefined ? latencyMs : this.ewma + alpha * (latencyMs - this.ewma);
    }
  }

  /** Drops the outcomes (not the latency history): after a recovery, old errors must not re-trip the circuit. */
  forgetOutcomes(): void {
    this.outcomes.length = 0;
    this.next = 0;
    this.failuresInWindow = 0;
  }

  count(): number {
    return this.outcomes.length;
  }

  errorRate(): number {
    return this.outcomes.length === 0 ? 0 : this.failuresInWindow / this.outcomes.length;
  }

  latencyEwma(): number | undefined {
    return this.ewma;
  }

  /** Latency percentile (0..1) over the window's successes, or undefined with none. */
  percentile(p: number): number | undefined {
    if (this.latencies.length === 0) return undefined;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  }

  private ordered<T>(ring: T[], next: number): T[] {
    return ring.length < this.size ? [...ring] : [...ring.slice(next), ...ring.slice(0, next)];
  }
}
