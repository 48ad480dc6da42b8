// Shared rate limits: a deployment's rpm/tpm are the provider's limits for its key, so every daemon of
// the team takes from the same GCRA state in Redis, one script per batch: a batch is about 100 ms of
// the limit (one request for an rpm under 600), admitted locally, so at a high rate most attempts need
// no round trip, and the team can be over by at most one batch per daemon. While Redis is
// unreachable the attempt goes on under the local buckets, sized to this daemon's share of the team:
// the limit divided by the daemons alive at the last heartbeat (at least 1).
import type { HealthBoard } from '../../health/board';
import type { SharedRateLimits } from '../../health/shared-limits';
import type { Deployment } from '../../routing/catalog';
import type { TeamRedis } from './connection';
import type { TeamKeys } from './keys';

const HEARTBEAT_MS = 5_000;
/** A daemon missing three heartbeats no longer counts as alive. */
const HEARTBEAT_TTL_MS = 15_000;

/** A batch of a deployment's limits taken from the team's GCRA, admitted locally until used or stale. */
interface Batch {
  requests: number;
  tokens: number;
  until: number;
  /** Redis said there is no room before this time. */
  waitUntil: number;
  refilling?: Promise<void>;
}

/** A batch is spent within this long, or its rest is dropped (unused: the team is never over, only under). */
const BATCH_MS = 1_000;
/** A batch is about this long's worth of the limit (at least one request): small enough to be fair. */
const BATCH_SHARE_MS = 100;

export class TeamRateLimits implements SharedRateLimits {
  private readonly batches = new Map<string, Batch>();

  constructor(
    private readonly redis: TeamRedis,
    private readonly keys: TeamKeys,
    private readonly now: () => number = Date.now,
  ) {}

  take(d: Deployment, tokens: number): number | Promise<number> {
    // Redis unreachable: the local buckets, at this daemon's share, decide alone.
    if (!this.redis.ready()) return 0;
    const b = this.batches.get(d.id);
    const now = this.now();
    const need = d.tpm ? Math.max(0, tokens) : 0;
    if (b && b.until > now && b.requests >= 1 && b.tokens >= need) {
      b.requests--;
      b.tokens -= need;
      return 0;
    }
    if (b && b.waitUntil > now) return b.waitUntil - now;
    return this.refill(d, need).then(() => {
      const again = this.batches.get(d.id);
      const t = this.now();
      if (!again || !this.redis.ready()) return 0;
      if (again.until > t && again.requests >= 1 && again.tokens >= need) {
        again.requests--;
        again.tokens -= need;
        return 0;
      }
      return again.waitUntil > t ? again.waitUntil - t : 0;
    });
  }

  private refill(d: Deployment, need: number): Promise<void> {
    const b = this.batches.get(d.id) ?? { requests: 0, tokens: 0, until: 0, waitUntil: 0 };
    this.batches.set(d.id, b);
    b.refilling ??= (async () => {
      const rpm = d.rpm ?? 0;
      const tpm = d.tpm ?? 0;
      // The local buckets' sizes (health/rate-limit.ts): burst, else 10 seconds' worth, at least 1.
      const rBurst = rpm > 0 ? (d.burst ?? Math.max(1, Math.round(rpm / 6))) : 0;
      const tBurst = tpm > 0 ? Math.max(1, Math.round(tpm / 6)) : 0;
      const rWant = Math.max(1, Math.floor((rpm * BATCH_SHARE_MS) / 60_000));
      const tNeed = Math.min(need, tBurst);
      const tWant = Math.max(tNeed, Math.floor((tpm * BATCH_SHARE_MS) / 60_000));
      const args = [rpm > 0 ? 60_000 / rpm : 0, rBurst, rWant, tpm > 0 ? 60_000 / tpm : 0, tBurst, tWant, tNeed];
      const reply = await this.redis.run((c) => c.shepRate(2, this.keys.rate(d.id, 'rpm'), this.keys.rate(d.id, 'tpm'), ...args));
      const now = this.now();
      if (!reply) return; // unreachable: the local buckets decide
      const [requests, tokens, wait] = reply.map(Number);
      if (wait > 0) b.waitUntil = now + wait;
      else Object.assign(b, { requests: rpm > 0 ? requests : Infinity, tokens: tpm > 0 ? Math.max(tokens, tNeed) : Infinity, until: now + BATCH_MS, waitUntil: 0 });
    })().finally(() => {
      b.refilling = undefined;
    });
    return b.refilling;
  }
}

/** Says every few seconds that this daemon is alive, and learns how many of the team are. */
export class Presence {
  daemons = 1;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly redis: TeamRedis,
    private readonly keys: TeamKeys,
    private readonly id: string,
    private readonly onBeat: () => void,
  ) {
    this.timer = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.timer.unref();
  }

  async beat(): Promise<void> {
    const n = await this.redis.run((c) => c.shepHeartbeat(1, this.keys.daemons, this.id, HEARTBEAT_TTL_MS));
    if (n !== undefined) this.daemons = Math.max(1, Number(n));
    this.onBeat();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.redis.run((c) => c.zrem(this.keys.daemons, this.id));
  }
}

/** While Redis is unreachable each daemon keeps to its share of every limit; when it answers, the team's buckets rule. */
export function applyShare(board: HealthBoard, degraded: boolean, daemons: number): void {
  board.setLimitShare(degraded ? 1 / Math.max(1, daemons) : 1);
}
