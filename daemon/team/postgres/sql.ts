// The team ledger's SQL, built as text: the table's columns, ledger entry -> COPY row, the monthly
// partitions' DDL and the spend query. Pure, so it is unit-tested without a server.
import type { LedgerEntry } from '../../../shared/ledger';
import { COST_UNITS_PER_USD } from '../../spend/cost';

/** A column: its SQL type and how a ledger entry fills it (null = SQL NULL). */
interface Column {
  name: string;
  type: string;
  value: (e: LedgerEntry, ctx: RowContext) => string | number | boolean | null;
}

/** What a row holds beyond its entry: the team, and the member of lines written before team mode. */
export interface RowContext {
  team: string;
  member: string;
}

const opt = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

// Time first: it is the partition key, and the primary key (time, id) must include it.
export const COLUMNS: readonly Column[] = [
  { name: 'time', type: 'timestamptz not null', value: (e) => e.time },
  { name: 'id', type: 'text not null', value: (e) => e.id },
  { name: 'team', type: 'text not null', value: (_, c) => c.team },
  { name: 'member', type: 'text not null', value: (e, c) => e.member ?? c.member },
  { name: 'requested_model', type: 'text not null', value: (e) => e.requestedModel },
  { name: 'model', type: 'text', value: (e) => e.model },
  { name: 'served_model', type: 'text', value: (e) => e.servedModel },
  { name: 'deployment', type: 'text', value: (e) => e.deployment },
  { name: 'provider', type: 'text', value: (e) => e.provider },
  { name: 'key', type: 'text', value: (e) => opt(e.key) },
  { name: 'client', type: 'text', value: (e) => opt(e.client) },
  { name: 'endpoint', type: 'text', value: (e) => opt(e.endpoint) },
  { name: 'status', type: 'integer not null', value: (e) => e.status },
  { name: 'ok', type: 'boolean not null', value: (e) => e.ok },
  { name: 'stream', type: 'boolean not null', value: (e) => e.stream },
  { name: 'attempts', type: 'integer not null', value: (e) => e.attempts },
  { name: 'prompt_tokens', type: 'bigint not null', value: (e) => e.promptTokens },
  { name: 'completion_tokens', type: 'bigint not null', value: (e) => e.completionTokens },
  { name: 'cached_tokens', type: 'bigint', value: (e) => opt(e.cachedTokens) },
  { name: 'cache_write_tokens', type: 'bigint', value: (e) => opt(e.cacheWriteTokens) },
  { name: 'reasoning_tokens', type: 'bigint', value: (e) => opt(e.reasoningTokens) },
  { name: 'usage_source', type: 'text not null', value: (e) => e.usageSource },
  { name: 'cost_usd', type: 'double precision not null', value: (e) => e.costUsd },
  // The same cost in the spend index's integer units, rounded as it rounds, so team sums equal local ones exactly.
  { name: 'cost_units', type: 'bigint not null', value: (e) => Math.round(e.costUsd * COST_UNITS_PER_USD) },
  { name: 'latency_ms', type: 'double precision not null', value: (e) => e.latencyMs },
  { name: 'ttft_ms', type: 'double precision', value: (e) => opt(e.ttftMs) },
  { name: 'sandbox', type: 'boolean not null', value: (e) => e.sandbox === true },
  { name: 'error', type: 'text', value: (e) => opt(e.error) },
  { name: 'parent', type: 'text', value: (e) => opt(e.parent) },
  { name: 'role', type: 'text', value: (e) => opt(e.role) },
  // Added by migration 2 (migrate.ts): a table made by version 1 of the daemon lacks it.
  { name: 'cascade', type: 'text', value: (e) => opt(e.cascade) },
];

export const COLUMN_LIST = COLUMNS.map((c) => c.name).join(', ');

/** A SQL identifier, quoted (names come from the config's checked `table`, but quoting costs nothing). */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** One entry as a line of COPY ... (FORMAT csv): NULL is an empty unquoted field, text is always quoted. */
export function csvRow(e: LedgerEntry, ctx: RowContext): string {
  let line = '';
  for (let i = 0; i < COLUMNS.length; i++) {
    const v = COLUMNS[i].value(e, ctx);
    if (i > 0) line += ',';
    if (v === null) continue;
    // PostgreSQL text cannot hold NUL: dropped, rather than the whole batch refused.
    line += typeof v === 'string' ? `"${v.replaceAll('\0', '').replace(/"/g, '""')}"` : String(v);
  }
  return `${line}\n`;
}

/** The first day of `month` ("YYYY-MM") and of the month after, as the partition bounds. */
export function monthBounds(month: string): { from: string; to: string } {
  const [y, m] = month.split('-').map(Number);
  const next = new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 10);
  return { from: `${month}-01`, to: next };
}

/** The UTC month after `month`. */
export function nextMonth(month: string): string {
  return monthBounds(month).to.slice(0, 7);
}

export function partitionName(table: string, month: string): string {
  return `${table}_${month.replace('-', '_')}`;
}

/** Creates `month`'s partition unless it exists (the caller holds the table's advisory lock: creations race otherwise). */
export function createPartitionSql(table: string, month: string): string {
  const { from, to } = monthBounds(month);
  return `create table if not exists ${ident(partitionName(table, month))} partition of ${ident(table)} for values from ('${from} 00:00:00+00') to ('${to} 00:00:00+00')`;
}

/** The staging table a batch is COPYed into before it is inserted with ON CONFLICT DO NOTHING (COPY itself cannot skip duplicates). */
export function stagingName(table: string): string {
  return `${table}_staging`;
}

export function createStagingSql(table: string): string {
  return `create temp table if not exists ${ident(stagingName(table))} (like ${ident(table)}) on commit delete rows`;
}

export function copySql(table: string): string {
  return `copy ${ident(stagingName(table))} (${COLUMN_LIST}) from stdin with (format csv)`;
}

export function insertFromStagingSql(table: string): string {
  return `insert into ${ident(table)} (${COLUMN_LIST}) select ${COLUMN_LIST} from ${ident(stagingName(table))} on conflict (time, id) do nothing`;
}

/**
 * The same batch as one multi-row INSERT (the alternative to COPY; docs/SCALING.md compares them):
 * parameters $1..$n, row by row.
 */
export function multiInsertSql(table: string, rows: number): string {
  const n = COLUMNS.length;
  const values: string[] = [];
  for (let r = 0; r < rows; r++) values.push(`(${COLUMNS.map((_, i) => `$${r * n + i + 1}`).join(', ')})`);
  return `insert into ${ident(table)} (${COLUMN_LIST}) values ${values.join(', ')} on conflict (time, id) do nothing`;
}

export function rowValues(e: LedgerEntry, ctx: RowContext): (string | number | boolean | null)[] {
  return COLUMNS.map((c) => c.value(e, ctx));
}

/**
 * The team's spend between two UTC days (inclusive) in the shape of the local spend index's buckets:
 * one row per day and combination of model, deployment, provider, key, member and sandbox. A hedge's
 * loser (parent set) counts in tokens and cost but not as a request, as locally (spend-index.ts countEntry).
 */
export function bucketsSql(table: string): string {
  return `select to_char(time at time zone 'UTC', 'YYYY-MM-DD') as day, model, deployment, provider, key, member, sandbox,
  count(*) filter (where parent is null) as requests,
  count(*) filter (where parent is null and not ok) as errors,
  coalesce(sum(prompt_tokens), 0) as prompt_tokens,
  coalesce(sum(cached_tokens), 0) as cached_tokens,
  coalesce(sum(cache_write_tokens), 0) as cache_write_tokens,
  coalesce(sum(completion_tokens), 0) as completion_tokens,
  coalesce(sum(reasoning_tokens), 0) as reasoning_tokens,
  count(*) filter (where usage_source = 'estimated') as estimated,
  coalesce(sum(cost_units), 0) as units
from ${ident(table)}
where team = $1 and time >= $2 and time < $3
group by 1, 2, 3, 4, 5, 6, 7`;
}

/** A page of the team's rows between two instants after the row ($2, $4), oldest first, at most $5 (`shepherd export --team`). */
export function exportSql(table: string): string {
  return `select * from ${ident(table)} where team = $1 and (time, id) > ($2::timestamptz, $4::text) and time < $3 order by time, id limit $5`;
}
