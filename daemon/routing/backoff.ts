// How long to wait before the next try: exponential backoff with full jitter (a uniformly random
// wait up to min(maxMs, baseMs * 2^n)), so clients that failed together do not retry together.
// An upstream's Retry-After wins when it is longer, up to maxRetryAfterMs; beyond that, waiting
// is pointless and the caller should move on. Pure: randomness is injected.
import type { RetryConfig } from '../../shared/routing-config';

export type Backoff = { wait: true; ms: number; reason: string } | { wait: false; reason: string };

export function backoff(retry: RetryConfig, tryNumber: number, retryAfterMs: number | undefined, random: () => number): Backoff {
  if (retryAfterMs !== undefined && retryAfterMs > retry.maxRetryAfterMs) {
    return { wait: false, reason: `Retry-After ${retryAfterMs} ms exceeds retry.maxRetryAfterMs (${retry.maxRetryAfterMs} ms)` };
  }
  const ceiling = Math.min(retry.maxMs, retry.baseMs * 2 ** Math.min(tryNumber, 30));
  const jittered = Math.floor(random() * ceiling);
  if (retryAfterMs !== undefined && retryAfterMs >= jittered) {
    return { wait: true, ms: retryAfterMs, reason: `upstream asked to retry after ${retryAfterMs} ms` };
  }
  return { wait: true, ms: jittered, reason: `backoff ${jittered} ms (try ${tryNumber + 1}, cap ${ceiling} ms)` };
}
