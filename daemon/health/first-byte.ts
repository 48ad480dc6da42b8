// Recent times to first byte of one deployment for one kind of request (streamed or whole), for the
// adaptive deadline and hedging (routing/timing.ts). A ring of the last N samples; the sorted copy
// quantiles need is made at most once per new sample, when someone asks.
import type { FirstByteFigures } from '../routing/timing';

export class FirstByteWindow implements FirstByteFigures {
  private readonly ring: number[] = [];
  private next = 0;
  private sorted: number[] | undefined;

  constructor(private readonly size: number) {}

  get samples(): number {
    return this.ring.length;
  }

  push(ms: number): void {
    if (this.ring.length < this.size) this.ring.push(ms);
    else this.ring[this.next] = ms;
    this.next = (this.next + 1) % this.size;
    this.sorted = undefined;
  }

  quantile(q: number): number | undefined {
    if (this.ring.length === 0) return undefined;
    this.sorted ??= [...this.ring].sort((a, b) => a - b);
    return this.sorted[Math.min(this.sorted.length - 1, Math.floor(q * this.sorted.length))];
  }
}
