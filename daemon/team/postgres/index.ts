// Team mode's PostgreSQL ledger: migrations at start, the shipper of the local ledger (the outbox), and
// the team's spend. openTeamLedger is what the daemon calls (through dist/team.js, daemon/team/index.ts).
import { join } from 'node:path';
import type { TeamConfig } from '../../../shared/team-config';
import type { Logger } from '../../core/log';
import type { Bucket } from '../../spend/spend-index';
import type { TeamLedger } from '../../spend/team-ledger';
import type { LedgerEntry } from '../../../shared/ledger';
import { openPool, pgErrorText, postgresUrl, targetOf } from './connect';
import { migrate } from './migrate';
import { Outbox } from './outbox';
import { Shipper } from './shipper';
import { teamBuckets, teamEntries } from './spend';
import { membersOf, monthDays } from '../../spend/team-spend';
import type { TeamLedgerHealth, TeamSpend } from '../../../shared/team-ledger';

export interface TeamLedgerDeps {
  /** The daemon's data directory: the ledger (outbox) is its ledger/ folder; the cursor sits beside it. */
  dataDir: string;
  /** The member lines without one belong to (the daemon's own). */
  member: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** Told when shipping starts or stops failing, and when the team's month spend has been read anew. */
  onChange?: (health: TeamLedgerHealth) => void;
  /** Least time between two reads of this month's team spend by member for the status (default 15 s). */
  spendRefreshMs?: number;
  /** How long close() tries to ship what waits before giving up (it is shipped at the next start). Default 3 s. */
  closeMs?: number;
}

export interface TeamLedgerHandle extends TeamLedger {
  /** Team mode's `shepherd export --team`: the team's lines from PostgreSQL. */
  entries(range: { from?: string; to?: string }, onEntry: (e: LedgerEntry) => void): Promise<number>;
  /** Ships everything waiting now (tests). */
  flush(): Promise<void>;
}

export const CURSOR_FILE = 'team-ledger-cursor.json';

/**
 * Starts shipping the local ledger to PostgreSQL. Throws only for a config problem (no URL); a server
 * that is down is not an outage: migrations are retried by the shipper's rounds until they succeed.
 */
export async function openTeamLedger(team: TeamConfig, deps: TeamLedgerDeps): Promise<TeamLedgerHandle> {
  const pg = team.postgres;
  if (!pg) throw new Error('team.postgres: missing');
  const url = postgresUrl(pg, deps.env);
  const pool = openPool(url, (err) => deps.log.warn('team ledger: a PostgreSQL connection failed', { error: pgErrorText(err) }));
  const outbox = new Outbox(join(deps.dataDir, 'ledger'), join(deps.dataDir, CURSOR_FILE), targetOf(url, pg.table));
  await outbox.load();
  let migrated = false;
  const shipper = new Shipper({
    pool,
    outbox,
    table: pg.table,
    row: { team: team.name, member: deps.member },
    batchSize: pg.batchSize,
    flushMs: pg.flushMs,
    warn: (m, f) => deps.log.warn(m, f),
    info: (m, f) => deps.log.info(m, f),
    onState: (h) => deps.onChange?.(h),
    // The table must exist before the first shipment; until the server answers, each round tries again.
    before: async () => {
      if (migrated) return;
      const client = await pool.connect();
      try {
        const applied = await migrate(client, pg.table);
        if (applied.length > 0) deps.log.info('team ledger: migrations applied', { table: pg.table, versions: applied.map((a) => a.version).join(',') });
        migrated = true;
      } finally {
        client.release();
      }
    },
  });
  shipper.start();
  // This month's spend by member for the status and the extension. It aggregates the month's rows, so
  // it is read only when asked for (a status or snapshot), at most once per spendRefreshMs, and
  // answered from the last read meanwhile: a daemon nobody looks at never queries it.
  let monthByMember: TeamSpend | undefined;
  let readAt = -Infinity;
  const refresh = async () => {
    const now = Date.now();
    const { month, from, to } = monthDays(now);
    try {
      const read = membersOf(await teamBuckets(pool, pg.table, team.name, from, to), month, now);
      const changed = JSON.stringify(read.members) !== JSON.stringify(monthByMember?.members);
      monthByMember = read;
      // Whoever asked got the previous figures: a fresh snapshot follows when they changed.
      if (changed) deps.onChange?.(shipper.health());
    } catch {
      // Kept as it was; the shipper's state says why PostgreSQL fails.
    }
  };
  return {
    health: () => shipper.health(),
    monthByMember: () => {
      if (shipper.health().state === 'ok' && performance.now() - readAt >= (deps.spendRefreshMs ?? 15_000)) {
        readAt = performance.now();
        void refresh();
      }
      return monthByMember;
    },
    buckets: (fromDay: string, toDay: string): Promise<Bucket[]> => teamBuckets(pool, pg.table, team.name, fromDay, toDay),
    entries: (range, onEntry) => teamEntries(pool, pg.table, team.name, range, onEntry),
    flush: () => shipper.drain(),
    close: async () => {
      // The round under way, then a last shipment of what the final requests wrote; bounded, since
      // PostgreSQL may be down or slow (what is left is shipped at the next start).
      let timer: NodeJS.Timeout | undefined;
      const last = shipper.stop().then(() => shipper.drain());
      await Promise.race([last, new Promise((r) => (timer = setTimeout(r, deps.closeMs ?? 3_000)))]);
      clearTimeout(timer);
      await pool.end().catch(() => undefined);
    },
  };
}

/** The team ledger read-only, for the CLI when no daemon answers: spend buckets and lines, then close(). */
export function openTeamReader(team: TeamConfig, env: NodeJS.ProcessEnv): Pick<TeamLedgerHandle, 'buckets' | 'entries' | 'close'> {
  const pg = team.postgres;
  if (!pg) throw new Error('team.postgres: missing (the team\'s spend is read from the team ledger in PostgreSQL)');
  const pool = openPool(postgresUrl(pg, env), () => undefined);
  return {
    buckets: (fromDay, toDay) => teamBuckets(pool, pg.table, team.name, fromDay, toDay),
    entries: (range, onEntry) => teamEntries(pool, pg.table, team.name, range, onEntry),
    close: () => pool.end(),
  };
}
