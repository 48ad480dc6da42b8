// Opens team mode's PostgreSQL ledger from dist/team.js, required here and only when the config names a
// PostgreSQL server: local mode never loads pg (esbuild.mjs keeps '../team' out of dist/daemon.js).
import type { TeamConfig } from '../../shared/team-config';
import type { TeamLedgerHealth } from '../../shared/team-ledger';
import type { Logger } from '../core/log';
import type { TeamLedgerHandle } from '../team';
import { StartError } from './start-error';

type TeamModule = typeof import('../team');

export function loadTeamModule(): TeamModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, from its own bundle
  return require('../team') as TeamModule;
}

export async function openTeamLedger(
  team: TeamConfig,
  deps: { dataDir: string; member: string; env: NodeJS.ProcessEnv; log: Logger; onChange?: (health: TeamLedgerHealth) => void },
): Promise<TeamLedgerHandle> {
  try {
    return await loadTeamModule().openTeamLedger(team, deps);
  } catch (err) {
    // Only a config problem gets here (a server that is down is retried, not fatal): say which field.
    throw new StartError(err instanceof Error ? err.message : String(err));
  }
}
