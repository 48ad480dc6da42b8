// The ledger line for a finished request: built from the request and how it ended. Pure.
import type { LedgerEntry } from '../../shared/ledger';
import type { Deployment } from '../routing/catalog';
import { costUsd } from '../spend/cost';
import type { Arrival } from './exchange';
import type { CountedUsage } from './usage-fallback';

/** How a request ended, as far as its ledger line is concerned. */
export interface LineFacts {
  /** The model group it resolved to (null when the name matched none). */
  group: string | null;
  /** The deployment that answered or last failed. */
  deployment: Deployment | null;
  attempts: number;
  /** HTTP status the client received. */
  status: number;
  counted?: CountedUsage;
  /** performance.now() when it ended. */
  endedAt: number;
  firstTokenAt?: number;
  /** Why it failed (no prompt text, no keys). */
  error?: string;
  /** An extra upstream call made for another request: that request's id, and why it was made. */
  parent?: string;
  role?: 'hedge' | 'cascade';
  /** A cascade's outcome on this line (shared/ledger.ts `cascade`). */
  cascade?: string;
}

export function entryFor(id: string, arrival: Arrival, facts: LineFacts): LedgerEntry {
  const { deployment, counted } = facts;
  const usage = counted?.usage;
  const entry: LedgerEntry = {
    id,
    time: new Date().toISOString(),
    requestedModel: arrival.body.model,
    model: facts.group,
    servedModel: deployment?.upstreamModel ?? null,
    deployment: deployment?.id ?? null,
    provider: deployment?.providerName ?? null,
    attempts: facts.attempts,
    status: facts.status,
    ok: facts.status >= 200 && facts.status < 300 && facts.error === undefined,
    stream: arrival.body.stream === true,
    promptTokens: usage?.promptTokens ?? 0,
    completionTokens: usage?.completionTokens ?? 0,
    usageSource: counted ? (counted.estimated ? 'estimated' : 'upstream') : 'none',
    costUsd: usage && deployment ? costUsd(usage, deployment.price) : 0,
    latencyMs: round1(facts.endedAt - arrival.receivedAt),
  };
  // Optional fields are assigned rather than spread in: this runs for every request, and V8 builds
  // objects from conditional spreads far more slowly. The fields go in LEDGER_LINE_ORDER (shared/ledger.ts),
  // the order replay's fast path (spend/ledger-parse.ts) reads; test/unit/ledger-parse.test.ts holds this to it.
  if (usage?.cachedTokens) entry.cachedTokens = usage.cachedTokens;
  if (usage?.cacheWriteTokens) entry.cacheWriteTokens = usage.cacheWriteTokens;
  if (usage?.reasoningTokens) entry.reasoningTokens = usage.reasoningTokens;
  if (facts.firstTokenAt !== undefined) entry.ttftMs = round1(facts.firstTokenAt - arrival.receivedAt);
  if (deployment?.sandbox) entry.sandbox = true;
  if (arrival.clientKeyId) entry.key = arrival.clientKeyId;
  if (arrival.caller) entry.client = arrival.caller;
  if (facts.error !== undefined) entry.error = facts.error;
  if (facts.parent !== undefined) entry.parent = facts.parent;
  if (facts.role !== undefined) entry.role = facts.role;
  if (arrival.endpoint !== undefined && arrival.endpoint !== 'chat') entry.endpoint = arrival.endpoint;
  if (arrival.member !== undefined) entry.member = arrival.member;
  if (facts.cascade !== undefined) entry.cascade = facts.cascade;
  else if (arrival.cascade !== undefined && facts.parent === undefined) entry.cascade = arrival.cascade;
  return entry;
}

function round1(ms: number): number {
  return Math.round(ms * 10) / 10;
}
