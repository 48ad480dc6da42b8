// Versioned migrations of the team ledger, and its monthly partitions. Several daemons may start at
// once against one database: each runs the migrations under a session advisory lock, so one applies
// them and the others find them applied. Migrations only ever get appended to MIGRATIONS.
import type { PoolClient } from 'pg';
import { COLUMNS, createPartitionSql, ident, nextMonth } from './sql';

export const MIGRATIONS_TABLE = 'shepherd_schema_migrations';

interface Migration {
  version: number;
  name: string;
  sql: (table: string) => string[];
}

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'create the ledger table, partitioned by month, with the spend queries\' indexes',
    sql: (t) => [
      `create table ${ident(t)} (${COLUMNS.map((c) => `${ident(c.name)} ${c.type}`).join(', ')}, primary key (time, id)) partition by range (time)`,
      // Every spend query filters by team and time; the others narrow to one member, model, provider or key.
      `create index ${ident(`${t}_team_time`)} on ${ident(t)} (team, time)`,
      `create index ${ident(`${t}_member`)} on ${ident(t)} (team, member, time)`,
      `create index ${ident(`${t}_model`)} on ${ident(t)} (team, model, time)`,
      `create index ${ident(`${t}_provider`)} on ${ident(t)} (team, provider, time)`,
      `create index ${ident(`${t}_key`)} on ${ident(t)} (team, key, time)`,
    ],
  },
  {
    version: 2,
    name: "add the cascade column (auto in cascade mode: a request's outcome, or the check a step failed)",
    // Version 1 builds its table from COLUMNS, which now includes this column: hence "if not exists".
    sql: (t) => [`alter table ${ident(t)} add column if not exists ${ident('cascade')} text`],
  },
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** A 64-bit advisory lock key per table (two ledgers in one database do not wait for each other). */
export function lockKey(table: string): string {
  let h = 0n;
  for (const ch of `shepherd:${table}`) h = (h * 131n + BigInt(ch.codePointAt(0) ?? 0)) & 0x7fffffffffffffffn;
  return h.toString();
}

export interface Applied {
  version: number;
  name: string;
}

/** Applies the migrations `table` lacks, each in its own transaction; returns those it applied (none when up to date). */
export async function migrate(client: PoolClient, table: string): Promise<Applied[]> {
  await client.query('select pg_advisory_lock($1)', [lockKey(table)]);
  try {
    await client.query(
      `create table if not exists ${ident(MIGRATIONS_TABLE)} (ledger_table text not null, version integer not null, name text not null, applied_at timestamptz not null default now(), primary key (ledger_table, version))`,
    );
    const done = new Set((await client.query<{ version: number }>(`select version from ${ident(MIGRATIONS_TABLE)} where ledger_table = $1`, [table])).rows.map((r) => r.version));
    const applied: Applied[] = [];
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await client.query('begin');
      try {
        for (const statement of m.sql(table)) await client.query(statement);
        await client.query(`insert into ${ident(MIGRATIONS_TABLE)} (ledger_table, version, name) values ($1, $2, $3)`, [table, m.version, m.name]);
        await client.query('commit');
      } catch (err) {
        await client.query('rollback').catch(() => undefined);
        throw new Error(`migration ${m.version} (${m.name}) of ${table} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      applied.push({ version: m.version, name: m.name });
    }
    return applied;
  } finally {
    await client.query('select pg_advisory_unlock($1)', [lockKey(table)]).catch(() => undefined);
  }
}

/** The versions applied to `table` (empty when none, or the migrations table is missing). */
export async function appliedVersions(client: PoolClient, table: string): Promise<number[]> {
  const exists = await client.query(`select to_regclass($1) as t`, [MIGRATIONS_TABLE]);
  if (exists.rows[0]?.t === null) return [];
  const { rows } = await client.query<{ version: number }>(`select version from ${ident(MIGRATIONS_TABLE)} where ledger_table = $1 order by version`, [table]);
  return rows.map((r) => r.version);
}

/** Creates the partitions of these months unless they exist, under the table's advisory lock (in a transaction). */
export async function ensurePartitions(client: PoolClient, table: string, months: Iterable<string>): Promise<void> {
  await client.query('begin');
  try {
    await client.query('select pg_advisory_xact_lock($1)', [lockKey(table)]);
    for (const month of months) await client.query(createPartitionSql(table, month));
    await client.query('commit');
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  }
}

/** This month and the next: created ahead, so the first request of a month never waits for DDL. */
export function monthsAhead(now: number): string[] {
  const month = new Date(now).toISOString().slice(0, 7);
  return [month, nextMonth(month)];
}

/** The partitions of `table` that exist, by name. */
export async function partitions(client: PoolClient, table: string): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent where p.relname = $1 order by 1`,
    [table],
  );
  return rows.map((r) => r.name);
}
