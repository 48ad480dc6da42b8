// The whole team's spend report: the buckets come from the team ledger in PostgreSQL instead of this
// daemon's index, and the same report code (spend-query.ts) adds them up, so a team report reads like
// a local one (plus `scope: "team"`), by member as well as by model, deployment, provider, key and day.
import { dayOf, periodAt } from './period';
import { SpendIndex } from './spend-index';
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
