// Team mode's Redis half put together: the connection, shared budgets, shared rate limits, presence
// and shared health, and what happens when Redis goes away and comes back.
import type { ShepherdConfig } from '../../../shared/config';
import type { TeamConfig } from '../../../shared/team-config';
import type { EventBus } from '../../core/events';
import type { Logger } from '../../core/log';
import type { HealthBoard } from '../../health/board';
import type { TeamStatus } from '../../health/status-report';
import type { Budgets } from '../../spend/budgets';
import { TeamBudgets } from './budgets';
import { TeamRedis } from './connection';
import { TeamHealth } from './health';
import { teamKeys } from './keys';
import { applyShare, Presence, TeamRateLimits } from './limits';
import type { BudgetAlert } from '../../../shared/budget-status';

export interface RedisTeamDeps {
  config: ShepherdConfig;
  team: TeamConfig & { redis: NonNullable<TeamConfig['redis']> };
  url: string;
  daemonId: string;
  log: Logger;
  budgets: Budgets;
  claimAlerts(claim: (alert: BudgetAlert) => Promise<boolean>): void;
  health: HealthBoard;
  events: EventBus;
}

export type RedisTeam = Awaited<ReturnType<typeof openRedisTeam>>;

export async function openRedisTeam(deps: RedisTeamDeps) {
  const { team, log } = deps;
  const redis = new TeamRedis(deps.url, team.redis.timeoutMs, log);
  const keys = teamKeys(team.redis.keyPrefix, team.name);
  const budgets = new TeamBudgets(redis, keys, deps.daemonId, deps.budgets, log);
  budgets.configure(deps.config);
  deps.claimAlerts((alert) => budgets.claimAlert(alert));
  const unsubscribe = deps.events.on('request.finished', (entry) => budgets.finished(entry));
  const limits = team.shareRateLimits ? new TeamRateLimits(redis, keys) : undefined;
  const share = () => {
    if (limits) applyShare(deps.health, redis.state === 'degraded', presence.daemons);
  };
  const presence = new Presence(redis, keys, deps.daemonId, share);
  // Budgets read the team's spend now and then: other daemons spend while this one is idle.
  const refresh = setInterval(() => void budgets.refresh(), 2_000);
  refresh.unref();
  redis.onState((state) => {
    share();
    deps.events.emit('team.state', { state, reason: redis.reason });
    if (state === 'ok') void presence.beat().then(() => budgets.reconcile());
  });
  const health = team.shareHealth ? new TeamHealth(redis, keys.health, deps.daemonId, deps.health, log) : undefined;
  await redis.connect();
  if (redis.state === 'ok') await presence.beat();
  else log.warn('team: Redis cannot be reached at start; serving on local state until it can (team state degraded)', { reason: redis.reason });
  share();

  return {
    reserve: budgets,
    sharedLimits: limits,
    degraded: () => redis.state === 'degraded',
    status: (): NonNullable<TeamStatus['redis']> => ({
      state: redis.state,
      since: new Date(redis.since).toISOString(),
      reason: redis.reason,
      daemons: presence.daemons,
      unsyncedUsd: budgets.unsynced(),
    }),
    configure: (config: ShepherdConfig) => budgets.configure(config),
    async close() {
      unsubscribe();
      clearInterval(refresh);
      await budgets.close();
      await presence.close();
      await health?.close();
      await redis.close();
    },
  };
}
