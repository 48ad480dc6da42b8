// Team mode's entry: bundled apart as dist/team.js (esbuild.mjs) and required by the lifecycle only
// when the config has a `team` section, so local mode never loads ioredis or pg.
// Redis (shared budgets, rate limits, health) lives in ./redis/, the PostgreSQL ledger in ./postgres/.
import type { TeamConfig } from '../../shared/team-config';

export { openTeamLedger, openTeamReader, type TeamLedgerHandle } from './postgres';
export { teamCheck, teamMigrate } from './check';

/** What the daemon holds while team mode runs; each part is absent when its server is not configured. */
export interface Team {
  config: TeamConfig;
  close(): Promise<void>;
}

export async function openTeam(config: TeamConfig): Promise<Team> {
  return { config, close: async () => undefined };
}
