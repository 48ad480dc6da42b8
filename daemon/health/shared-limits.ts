// The seam for team mode's shared rate limits: a deployment's rpm/tpm are the provider's limits for
// its key, so with several daemons the buckets live in Redis (daemon/team/redis/). Absent in local
// mode, where the HealthBoard's own buckets are the whole story.
import type { Deployment } from '../routing/catalog';

export interface SharedRateLimits {
  /**
   * Takes one request and `tokens` estimated tokens from the team's buckets of this deployment:
   * 0 = go, otherwise how many ms until there is room. 0 when the team's limiter cannot be reached
   * (the local buckets, at this daemon's share, decide then). A number, not a promise, when it is
   * answered from what this daemon already holds: no await then.
   */
  take(deployment: Deployment, tokens: number): number | Promise<number>;
}
