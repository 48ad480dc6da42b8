// How many hedges may be out at once: a share of the requests in flight (at least one). An upstream
// that slows down under load makes every request look slow; without a budget, hedging would then
// double the load on it. (Envoy and gRPC bound hedging and retries the same way.)

export class HedgeBudget {
  private requests = 0;
  private hedges = 0;

  /** A request entered the pipeline's attempts; call the result when it is done. */
  enter(): () => void {
    this.requests++;
    return () => void this.requests--;
  }

  /** Takes a hedge slot when the share allows one; call the result when the hedge is done. */
  take(maxShare: number): (() => void) | undefined {
    if (this.hedges + 1 > Math.max(1, Math.floor(maxShare * this.requests))) return undefined;
    this.hedges++;
    return () => void this.hedges--;
  }
}
