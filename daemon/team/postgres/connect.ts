// The PostgreSQL server of the team ledger: its URL (from team.postgres.url, or the environment variable
// team.postgres.urlEnv names, which keeps the password out of the config file) and a small pool.
import { Pool } from 'pg';
import { teamUrlProblem, type TeamConfig } from '../../../shared/team-config';

type PostgresConfig = NonNullable<TeamConfig['postgres']>;

/** The URL to connect to; throws an Error naming the config field or environment variable at fault. */
export function postgresUrl(config: PostgresConfig, env: NodeJS.ProcessEnv): string {
  if (config.url !== undefined) return config.url;
  const name = config.urlEnv ?? '';
  const url = env[name];
  if (url === undefined || url === '') throw new Error(`team.postgres.urlEnv: the environment variable ${name} is not set (it should hold postgres://user:password@host:5432/db)`);
  const problem = teamUrlProblem('postgres', url);
  if (problem) throw new Error(`team.postgres.urlEnv: the environment variable ${name} ${problem}`);
  return url;
}

/** Where lines are shipped, without the password: the cursor is kept per target (a new database starts again from the first line). */
export function targetOf(url: string, table: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || '5432'}${u.pathname}#${table}`;
}

export function openPool(url: string, onError: (err: Error) => void): Pool {
  // Few connections: one ships, the others answer spend queries. Connect attempts fail fast, so a
  // down server shows as "failing" within seconds (the shipper backs off and tries again).
  // A query that hangs (a stopped server, a lock held elsewhere) fails after query_timeout instead of
  // holding the shipper, and so the daemon's shutdown, forever.
  const pool = new Pool({ connectionString: url, max: 3, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000, query_timeout: 60_000, application_name: 'shepherd' });
  // An idle connection's error (the server restarted) is emitted on the pool: without a listener it would kill the daemon.
  pool.on('error', onError);
  return pool;
}

/** The server's error text with its host: "connect ECONNREFUSED 127.0.0.1:5432" says more than "". */
export function pgErrorText(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return pgErrorText(err.errors[0]);
  if (err instanceof Error) return err.message || (err as NodeJS.ErrnoException).code || err.name;
  return String(err);
}
