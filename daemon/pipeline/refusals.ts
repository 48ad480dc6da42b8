// Requests refused before any attempt, as the status and error a client sees: the plan's verdicts
// (unknown model, nothing usable, saturated) and the spend rules' block (402).
import { HttpError } from '../core/http-error';
import type { PlanResult } from '../routing/plan';
import type { BudgetBlock } from '../spend/budget-rules';
import type { LedgerHealth } from '../../shared/ledger';

export function planError(planned: Exclude<PlanResult, { ok: true }>, id: string): HttpError {
  const headers = { 'x-request-id': id };
  switch (planned.reason) {
    case 'unknown_model':
      return new HttpError(404, planned.message, 'invalid_request_error', 'model_not_found', 'model', headers);
    case 'wrong_operation':
      return new HttpError(400, planned.message, 'invalid_request_error', 'model_not_supported', 'model', headers);
    case 'no_deployment':
      if (planned.keysRejected) return new HttpError(401, planned.message, 'authentication_error', 'upstream_key_rejected', null, headers);
      return new HttpError(503, planned.message, 'api_error', 'no_deployment', null, headers);
    case 'saturated':
      return new HttpError(429, planned.message, 'rate_limit_error', 'rate_limited_by_shepherd', null, {
        ...headers,
        'retry-after': String(Math.max(1, Math.ceil(planned.retryAfterMs / 1000))),
      });
  }
}

/** HTTP 503 while ledger lines cannot be written and the config says to refuse (ledger.onWriteFailure). */
export function ledgerError(health: LedgerHealth, id: string): HttpError {
  const message = `Shepherd is not taking requests: its ledger cannot be written since ${health.since ?? 'recently'} (${health.lastError ?? 'write failed'}), and ledger.onWriteFailure is "refuse". Free space on the data directory's disk or make it writable.`;
  return new HttpError(503, message, 'api_error', 'ledger_unavailable', null, { 'x-request-id': id, 'retry-after': '5' });
}

/** HTTP 402 with OpenAI's quota error type, the budget's name, and Retry-After until its period resets. */
export function budgetError(block: BudgetBlock, id: string, now: number): HttpError {
  return new HttpError(402, block.message, 'insufficient_quota', 'budget_exceeded', null, {
    'x-request-id': id,
    'x-shepherd-budget': block.budget,
    'retry-after': String(Math.max(1, Math.ceil((block.resetsAt - now) / 1000))),
  });
}
