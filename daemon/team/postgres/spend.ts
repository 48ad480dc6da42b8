// The team's spend from PostgreSQL, as buckets of the local spend index (daemon/spend/spend-index.ts),
// so the same report code (spend-query.ts) answers for one daemon and for the whole team.
import type { Pool } from 'pg';
import type { LedgerEntry } from '../../../shared/ledger';
import type { Bucket } from '../../spend/spend-index';
import { bucketsSql, exportSql } from './sql';

interface BucketRow {
  day: string;
  model: string | null;
  deployment: string | null;
  provider: string | null;
  key: string | null;
  member: string;
  sandbox: boolean;
  // bigint and count(*) arrive as strings from pg: exact, converted below.
  requests: string;
  errors: string;
  prompt_tokens: string;
  cached_tokens: string;
  cache_write_tokens: string;
  completion_tokens: string;
  reasoning_tokens: string;
  estimated: string;
  units: string;
}

const EXPORT_PAGE = 5_000;

/** [from 00:00 UTC of fromDay, to 00:00 UTC of the day after toDay). */
export function dayRange(fromDay: string, toDay: string): [string, string] {
  const end = new Date(Date.parse(`${toDay}T00:00:00Z`) + 86_400_000).toISOString();
  return [`${fromDay}T00:00:00Z`, end];
}

export async function teamBuckets(pool: Pool, table: string, team: string, fromDay: string, toDay: string): Promise<Bucket[]> {
  const [from, to] = dayRange(fromDay, toDay);
  const { rows } = await pool.query<BucketRow>(bucketsSql(table), [team, from, to]);
  return rows.map((r) => ({
    day: r.day,
    model: r.model,
    deployment: r.deployment,
    provider: r.provider,
    key: r.key,
    member: r.member,
    ...(r.sandbox ? { sandbox: true as const } : {}),
    requests: Number(r.requests),
    errors: Number(r.errors),
    promptTokens: Number(r.prompt_tokens),
    cachedTokens: Number(r.cached_tokens),
    cacheWriteTokens: Number(r.cache_write_tokens),
    completionTokens: Number(r.completion_tokens),
    reasoningTokens: Number(r.reasoning_tokens),
    estimated: Number(r.estimated),
    units: Number(r.units),
  }));
}

/** The team's ledger lines between two days (either open), oldest first, as ledger entries with their member. */
export async function teamEntries(pool: Pool, table: string, team: string, range: { from?: string; to?: string }, onEntry: (e: LedgerEntry) => void): Promise<number> {
  const from = range.from !== undefined ? `${range.from}T00:00:00Z` : '-infinity';
  const to = range.to !== undefined ? dayRange(range.to, range.to)[1] : 'infinity';
  // Page by (time, id), the primary key's order: a month of a large team does not sit in memory at once.
  let after: [Date | string, string] = [from, ''];
  let count = 0;
  for (;;) {
    const { rows } = await pool.query<Record<string, unknown>>(exportSql(table), [team, after[0], to, after[1], EXPORT_PAGE]);
    for (const r of rows) onEntry(entryOfRow(r));
    count += rows.length;
    if (rows.length < EXPORT_PAGE) return count;
    const lastRow = rows[rows.length - 1];
    after = [lastRow.time as Date, lastRow.id as string];
  }
}

/** A row back as a ledger entry (fields in the schema's order; absent optional fields left out). */
function entryOfRow(r: Record<string, unknown>): LedgerEntry {
  const e: Record<string, unknown> = {
    id: r.id,
    time: (r.time as Date).toISOString(),
    requestedModel: r.requested_model,
    model: r.model,
    servedModel: r.served_model,
    deployment: r.deployment,
    provider: r.provider,
    attempts: r.attempts,
    status: r.status,
    ok: r.ok,
    stream: r.stream,
    promptTokens: Number(r.prompt_tokens),
    completionTokens: Number(r.completion_tokens),
    cachedTokens: r.cached_tokens === null ? undefined : Number(r.cached_tokens),
    cacheWriteTokens: r.cache_write_tokens === null ? undefined : Number(r.cache_write_tokens),
    reasoningTokens: r.reasoning_tokens === null ? undefined : Number(r.reasoning_tokens),
    usageSource: r.usage_source,
    costUsd: r.cost_usd,
    latencyMs: r.latency_ms,
    ttftMs: r.ttft_ms ?? undefined,
    sandbox: r.sandbox === true ? true : undefined,
    key: r.key ?? undefined,
    client: r.client ?? undefined,
    error: r.error ?? undefined,
    parent: r.parent ?? undefined,
    role: r.role ?? undefined,
    endpoint: r.endpoint ?? undefined,
    member: r.member,
    cascade: r.cascade ?? undefined,
  };
  for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k];
  return e as LedgerEntry;
}
