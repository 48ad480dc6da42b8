// `shepherd team check` and `shepherd team migrate`: connect to the team's servers the way the daemon
// would and say what it would do. Here (in dist/team.js) because they need the Redis and PostgreSQL
// clients; daemon/cli/team.ts parses the flags and prints the lines.
import { join } from 'node:path';
import Redis from 'ioredis';
import { teamUrlProblem, type TeamConfig } from '../../shared/team-config';
import { openPool, pgErrorText, postgresUrl, targetOf } from './postgres/connect';
import { appliedVersions, LATEST_VERSION, migrate, partitions, type Applied } from './postgres/migrate';
import { Outbox } from './postgres/outbox';
import { CURSOR_FILE } from './postgres';

export interface CheckLine {
  ok: boolean;
  text: string;
}

export interface CheckOptions {
  env: NodeJS.ProcessEnv;
  dataDir: string;
  /** The member this daemon's own requests belong to (team.member or user@host). */
  member: string;
  timeoutMs?: number;
}

/** Round trips timed: the median of a few, so one slow packet does not decide. */
async function medianMs(n: number, run: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return Math.round(times[Math.floor(n / 2)] * 100) / 100;
}

function redisUrl(team: TeamConfig, env: NodeJS.ProcessEnv): string {
  const r = team.redis!;
  if (r.url !== undefined) return r.url;
  const url = env[r.urlEnv ?? ''];
  if (url === undefined || url === '') throw new Error(`team.redis.urlEnv: the environment variable ${r.urlEnv} is not set (it should hold redis://[:password@]host:6379)`);
  const problem = teamUrlProblem('redis', url);
  if (problem) throw new Error(`team.redis.urlEnv: the environment variable ${r.urlEnv} ${problem}`);
  return url;
}

/** Redis: PING round trip and the server version. */
async function checkRedis(team: TeamConfig, o: CheckOptions): Promise<CheckLine[]> {
  let url: string;
  try {
    url = redisUrl(team, o.env);
  } catch (err) {
    return [{ ok: false, text: `redis: ${pgErrorText(err)}` }];
  }
  const field = team.redis?.url !== undefined ? 'team.redis.url' : `team.redis.urlEnv (${team.redis?.urlEnv})`;
  const client = new Redis(url, { lazyConnect: true, connectTimeout: o.timeoutMs ?? 3_000, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  // The connection's own error (ECONNREFUSED, auth) is more telling than the "Connection is closed" a call then gets.
  let lastError: Error | undefined;
  client.on('error', (err: Error) => (lastError = err));
  try {
    await client.connect();
    const ms = await medianMs(5, () => client.ping());
    const info = await client.info('server');
    const version = /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? 'unknown';
    return [
      { ok: true, text: `redis: ${version} at ${safeUrl(url)}, round trip ${ms} ms` },
      { ok: true, text: `  shared budgets: on; shared rate limits: ${team.shareRateLimits ? 'on' : 'off'}; shared health: ${team.shareHealth ? 'on' : 'off'}` },
    ];
  } catch (err) {
    return [{ ok: false, text: `redis: cannot reach ${safeUrl(url)} (${field}): ${pgErrorText(lastError ?? err)}` }];
  } finally {
    client.disconnect();
  }
}

/** PostgreSQL: version, round trip, migrations, table and partitions, and what waits in the outbox. */
async function checkPostgres(team: TeamConfig, o: CheckOptions): Promise<CheckLine[]> {
  const pg = team.postgres!;
  let url: string;
  try {
    url = postgresUrl(pg, o.env);
  } catch (err) {
    return [{ ok: false, text: `postgres: ${pgErrorText(err)}` }];
  }
  const field = pg.url !== undefined ? 'team.postgres.url' : `team.postgres.urlEnv (${pg.urlEnv})`;
  const lines: CheckLine[] = [];
  const outbox = new Outbox(join(o.dataDir, 'ledger'), join(o.dataDir, CURSOR_FILE), targetOf(url, pg.table));
  await outbox.load();
  const waiting = await outbox.waiting();
  const pool = openPool(url, () => undefined);
  try {
    const client = await pool.connect();
    try {
      const version = (await client.query<{ v: string }>('select version() as v')).rows[0].v;
      const ms = await medianMs(5, () => client.query('select 1'));
      lines.push({ ok: true, text: `postgres: ${version.split(' on ')[0]} at ${safeUrl(url)}, round trip ${ms} ms` });
      const applied = await appliedVersions(client, pg.table);
      const current = applied.length > 0 ? Math.max(...applied) : 0;
      lines.push({
        ok: true,
        text: current >= LATEST_VERSION
          ? `  table ${pg.table}: migrations up to date (version ${current})`
          : `  table ${pg.table}: migrations at version ${current} of ${LATEST_VERSION}; the daemon applies the rest at start (or run: shepherd team migrate)`,
      });
      if (current > 0) {
        const parts = await partitions(client, pg.table);
        lines.push({ ok: true, text: `  partitions: ${parts.length === 0 ? 'none yet' : parts.join(', ')}` });
      }
    } finally {
      client.release();
    }
  } catch (err) {
    lines.push({ ok: false, text: `postgres: cannot reach ${safeUrl(url)} (${field}): ${pgErrorText(err)}` });
  } finally {
    await pool.end().catch(() => undefined);
  }
  lines.push({ ok: true, text: `  ledger lines waiting to be shipped from ${join(o.dataDir, 'ledger')}: ${waiting} (batches of ${pg.batchSize}, every ${pg.flushMs} ms)` });
  return lines;
}

export async function teamCheck(team: TeamConfig, o: CheckOptions): Promise<CheckLine[]> {
  const lines: CheckLine[] = [{ ok: true, text: `team ${team.name}, this daemon's member: ${o.member}, ${Object.keys(team.members).length} member(s) with their own keys` }];
  if (team.redis) lines.push(...(await checkRedis(team, o)));
  else lines.push({ ok: true, text: 'redis: not configured (budgets, rate limits and health stay local)' });
  if (team.postgres) lines.push(...(await checkPostgres(team, o)));
  else lines.push({ ok: true, text: 'postgres: not configured (the ledger stays local)' });
  return lines;
}

/** Applies the team ledger's migrations; returns those applied (none when up to date). */
export async function teamMigrate(team: TeamConfig, env: NodeJS.ProcessEnv): Promise<{ table: string; applied: Applied[] }> {
  if (!team.postgres) throw new Error('team.postgres: missing (migrations are for the team ledger in PostgreSQL)');
  const url = postgresUrl(team.postgres, env);
  const pool = openPool(url, () => undefined);
  try {
    const client = await pool.connect().catch((err: unknown) => {
      throw new Error(`cannot reach ${safeUrl(url)} (team.postgres.${team.postgres?.url !== undefined ? 'url' : 'urlEnv'}): ${pgErrorText(err)}`);
    });
    try {
      return { table: team.postgres.table, applied: await migrate(client, team.postgres.table) };
    } finally {
      client.release();
    }
  } finally {
    await pool.end().catch(() => undefined);
  }
}

/** The URL without its password, for messages. */
function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}
