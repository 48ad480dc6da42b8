// GET /v1/shepherd/spend (totals over UTC days, grouped) and GET /v1/shepherd/budgets (each budget's
// state in its current period). Both read the daemon's in-memory spend: no ledger I/O per query,
// except ?scope=team, which asks the team ledger in PostgreSQL for the whole team's spend.
import { cascadeBaseline, parseSpendQuery, reportContext, spendReport } from '../spend/spend-query';
import { SPEND_SCOPES, teamSpendReport } from '../spend/team-spend';
import { HttpError } from '../core/http-error';
import type { RouteContext } from './route';
import { sendJson } from './send-json';

export async function serveSpend(ctx: RouteContext): Promise<void> {
  const budgets = requireBudgets(ctx);
  const now = Date.now();
  let query;
  const scope = ctx.url.searchParams.get('scope') || 'local';
  try {
    query = parseSpendQuery((name) => ctx.url.searchParams.get(name), now);
    if (!(SPEND_SCOPES as readonly string[]).includes(scope)) throw new Error(`scope must be local or team, not "${scope}"`);
  } catch (err) {
    throw new HttpError(400, err instanceof Error ? err.message : String(err), 'invalid_request_error', 'invalid_query');
  }
  const context = reportContext(ctx.state.config, now);
  if (scope === 'local') {
    const local = spendReport(budgets.index, query, context);
    const cascade = budgets.cascade.report(query.from, query.to, cascadeBaseline(ctx.state.config));
    if (cascade.totals.requests > 0) local.cascade = cascade;
    sendJson(ctx.res, 200, local);
    return;
  }
  const team = ctx.deps.teamLedger;
  if (!team) throw new HttpError(400, 'scope=team needs the team ledger: set team.postgres in the config', 'invalid_request_error', 'team_ledger_not_configured');
  let report;
  try {
    report = await teamSpendReport(team, query, context);
  } catch (err) {
    throw new HttpError(503, `the team ledger (PostgreSQL) did not answer: ${err instanceof Error ? err.message : String(err)}`, 'api_error', 'team_ledger_unavailable');
  }
  sendJson(ctx.res, 200, report);
}

export function serveBudgets(ctx: RouteContext): void {
  sendJson(ctx.res, 200, requireBudgets(ctx).statuses());
}

function requireBudgets(ctx: RouteContext) {
  const budgets = ctx.deps.budgets;
  if (!budgets) throw new HttpError(404, 'spend tracking is not enabled in this daemon', 'not_found_error', 'unknown_route');
  return budgets;
}
