// What spend, the status report and the HTTP routes see of team mode's PostgreSQL ledger
// (daemon/team/postgres/): an interface here, so none of them imports the pg client (dist/team.js).
import type { TeamLedgerHealth, TeamSpend } from '../../shared/team-ledger';
import type { Bucket } from './spend-index';

export interface TeamLedger {
  health(): TeamLedgerHealth;
  /** The whole team's spend by day and by who spent it, for UTC days [fromDay, toDay] (inclusive), from PostgreSQL. */
  buckets(fromDay: string, toDay: string): Promise<Bucket[]>;
  /** This month's team spend by member as last read from PostgreSQL (undefined before the first read). */
  monthByMember(): TeamSpend | undefined;
  /** Ships what is waiting (a last try) and disconnects. */
  close(): Promise<void>;
}
