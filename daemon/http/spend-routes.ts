// GET /v1/shepherd/spend (totals over UTC days, grouped) and GET /v1/shepherd/budgets (each budget's
// state in its current period). Both read the daemon's in-memory spend: no ledger I/O per query.
import { cascadeBaseline, parseSpendQuery, reportContext, spendReport } from '../spend/spend-query';
import { HttpError } from '../core/http-error';
import type { RouteContext } from './route';
import { sendJson } from './send-json';

export function serveSpend(ctx: RouteContext): void {
  const budgets = requireBudgets(ctx);
  const now = Date.now();
  let query;
  try {
    query = parseSpendQuery((name) => ctx.url.searchParams.get(name), now);
  } catch (err) {
    throw new HttpError(400, err instanceof Error ? err.message : String(err), 'invalid_request_error', 'invalid_query');
  }
  const report = spendReport(budgets.index, query, reportContext(ctx.state.config, now));
  const cascade = budgets.cascade.report(query.from, query.to, cascadeBaseline(ctx.state.config));
  if (cascade.totals.requests > 0) report.cascade = cascade;
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
