// Recent times to first byte of one deployment for one kind of request (streamed or whole), for the
// adaptive deadline and hedging (routing/timing.ts). A ring of the last N samples, and the same samples
// kept sorted as they come and go (a binary search and a short splice each), because quantiles are
// read on every request of a group that can hedge: re-sorting there would cost microseconds each time.
import type { FirstByteFigures } from '../routing/timing';

export class FirstByteWindow implements FirstByteFigures {
  private readonly ring: number[] = [];
  private readonly sorted: number[] = [];
  private next = 0;

  constructor(private readonly size: number) {}

  get samples(): number {
    return this.ring.length;
  }

  push(ms: number): void {
    if (this.ring.length < this.size) {
      this.ring.push(ms);
    } else {
      this.sorted.splice(lowerBound(this.sorted, this.ring[this.next]), 1);
      this.ring[this.next] = ms;
    }
    this.next = (this.next + 1) % this.size;
    this.sorted.splice(lowerBound(this.sorted, ms), 0, ms);
  }

  quantile(q: number): number | undefined {
    const n = this.sorted.length;
    return n === 0 ? undefined : this.sorted[Math.min(n - 1, Math.floor(q * n))];
  }
}

/** The first index whose value is not below `value`. */
function lowerBound(sorted: number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
