// Shared rate limits: a deployment's rpm/tpm are the provider's limits for its key, so every daemon of
// the team takes from the same GCRA state in Redis (one script per attempt). While Redis is
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

export class TeamRateLimits implements SharedRateLimits {
  constructor(
    private readonly redis: TeamRedis,
    private readonly keys: TeamKeys,
  ) {}

  async take(d: Deployment, tokens: number): Promise<number> {
    const rpm = d.rpm ?? 0;
    const tpm = d.tpm ?? 0;
    // The local buckets' sizes (health/rate-limit.ts): burst, else 10 seconds' worth, at least 1.
    const rBurst = rpm > 0 ? (d.burst ?? Math.max(1, Math.round(rpm / 6))) : 0;
    const tBurst = tpm > 0 ? Math.max(1, Math.round(tpm / 6)) : 0;
    const args = [rpm > 0 ? 60_000 / rpm : 0, rBurst, Math.min(Math.max(0, tokens), tBurst), tpm > 0 ? 60_000 / tpm : 0, tBurst];
    const wait = await this.redis.run((c) => c.shepRate(2, this.keys.rate(d.id, 'rpm'), this.keys.rate(d.id, 'tpm'), ...args));
    return wait ?? 0;
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
