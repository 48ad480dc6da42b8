// Team mode's entry: bundled apart as dist/team.js (esbuild.mjs) and required by the lifecycle only
// when the config has a `team` section, so local mode never loads ioredis or pg.
// Redis (shared budgets, rate limits, health) lives in ./redis/ and opens here; the PostgreSQL ledger
// lives in ./postgres/ and is opened on its own (openTeamLedger, from lifecycle/team-ledger.ts).
import type { ShepherdConfig } from '../../shared/config';
import type { TeamConfig } from '../../shared/team-config';
import type { SharedRateLimits } from '../health/shared-limits';
import type { TeamStatus } from '../health/status-report';
import type { SpendReserver } from '../spend/gate';
import { openRedisTeam, type RedisTeamDeps } from './redis';

export interface TeamDeps extends Omit<RedisTeamDeps, 'config' | 'team' | 'url'> {
  config: ShepherdConfig & { team: TeamConfig };
  /** The Redis URL, resolved from the config or its environment variable. */
  redisUrl?: string;
  member: string;
}

export { openTeamLedger, openTeamReader, type TeamLedgerHandle } from './postgres';
export { teamCheck, teamMigrate } from './check';

/** What the daemon holds while team mode runs; each part is absent when its server is not configured. */
export interface Team {
  config: TeamConfig;
  /** Redis: reservations against the team's hard budgets. */
  reserve?: SpendReserver;
  /** Redis with team.shareRateLimits: the team's buckets per deployment. */
  sharedLimits?: SharedRateLimits;
  status(): TeamStatus;
  /** A config reload (the team section itself is read at start only). */
  configure(config: ShepherdConfig): void;
  close(): Promise<void>;
}

const CLOSE_MS = 3_000;

export async function openTeam(deps: TeamDeps): Promise<Team> {
  const config = deps.config.team;
  const redis = config.redis && deps.redisUrl !== undefined ? await openRedisTeam({ ...deps, team: { ...config, redis: config.redis }, url: deps.redisUrl }) : undefined;
  return {
    config,
    reserve: redis?.reserve,
    sharedLimits: redis?.sharedLimits,
    status() {
      const r = redis?.status();
      return { name: config.name, member: deps.member, daemon: deps.daemonId, state: r?.state === 'degraded' ? 'degraded' : 'ok', ...(r ? { redis: r } : {}) };
    },
    configure: (c) => redis?.configure(c),
    // Bounded: a Redis that hangs must not hold up the daemon's shutdown.
    close: () => Promise.race([redis?.close(), new Promise<void>((r) => setTimeout(r, CLOSE_MS).unref())]),
  };
}
