// The whole team's spend report: the buckets come from the team ledger in PostgreSQL instead of this
// daemon's index, and the same report code (spend-query.ts) adds them up, so a team report reads like
// a local one (plus `scope: "team"`), by member as well as by model, deployment, provider, key and day.
import type { TeamSpend } from '../../shared/team-ledger';
import { COST_UNITS_PER_USD } from './cost';
import { dayOf, periodAt } from './period';
import { SpendIndex, type Bucket } from './spend-index';
import { spendReport, type ReportContext, type SpendQuery, type SpendReport } from './spend-query';
import type { TeamLedger } from './team-ledger';

export const SPEND_SCOPES = ['local', 'team'] as const;
export type SpendScope = (typeof SPEND_SCOPES)[number];

export async function teamSpendReport(team: Pick<TeamLedger, 'buckets'>, q: SpendQuery, ctx: ReportContext): Promise<SpendReport & { scope: 'team' }> {
  // The range asked for, and this month too: the report's month-to-date and projection need it.
  const month = periodAt('monthly', 1, ctx.now);
  const from = [q.from, dayOf(month.start)].sort()[0];
  const to = [q.to, dayOf(month.end - 1)].sort()[1];
  const index = new SpendIndex();
  for (const b of await team.buckets(from, to)) index.addBucket(b);
  return { scope: 'team', ...spendReport(index, q, ctx) };
}

/** The month's buckets added up by member, most spent first (real spend; the sandbox's apart). */
export function membersOf(buckets: Iterable<Bucket>, month: string, asOf: number): TeamSpend {
  const by = new Map<string, { requests: number; units: number; sandboxRequests: number; sandboxUnits: number }>();
  for (const b of buckets) {
    const name = b.member ?? '(no member)';
    let m = by.get(name);
    if (!m) by.set(name, (m = { requests: 0, units: 0, sandboxRequests: 0, sandboxUnits: 0 }));
    if (b.sandbox) {
      m.sandboxRequests += b.requests;
      m.sandboxUnits += b.units;
    } else {
      m.requests += b.requests;
      m.units += b.units;
    }
  }
  const members = [...by].map(([member, m]) => ({
    member,
    requests: m.requests,
    costUsd: m.units / COST_UNITS_PER_USD,
    sandboxRequests: m.sandboxRequests,
    sandboxCostUsd: m.sandboxUnits / COST_UNITS_PER_USD,
  }));
  members.sort((a, b) => b.costUsd - a.costUsd || b.sandboxCostUsd - a.sandboxCostUsd || a.member.localeCompare(b.member));
  return { month, asOf: new Date(asOf).toISOString(), members };
}

/** This UTC month's first and last day. */
export function monthDays(now: number): { month: string; from: string; to: string } {
  const p = periodAt('monthly', 1, now);
  return { month: dayOf(p.start).slice(0, 7), from: dayOf(p.start), to: dayOf(p.end - 1) };
}
