// The seam between routing and budgets: before any attempt, the spend rules look at the planned
// request and allow it (possibly skipping some deployments), send it to a cheaper group, or refuse it.
// The budgets module (budgets.ts) implements SpendGate; with no budget configured it always allows.
import type { Price } from '../../shared/config';
import type { ChatBody } from '../core/chat';
import type { BudgetBlock } from './budget-rules';

export interface SpendCheck {
  /** The model group the plan resolved to (after `auto` classification). */
  group: string;
  /** The auto tier, when the client asked for `auto`. */
  tier?: string;
  /** Label of the local API key, when keys are in use. */
  clientKeyId?: string;
  /** Team mode: the member the request belongs to. */
  member?: string;
  body: ChatBody;
  /** The plan's deployments in order, for per-provider budgets and the pre-request cost estimate. */
  deployments: readonly { id: string; providerName: string; price: Price | undefined; sandbox?: boolean }[];
}

export type SpendVerdict =
  /** Go ahead; `skip` names deployments to leave out (deployment id -> reason), e.g. a provider over budget. */
  | { action: 'allow'; skip?: ReadonlyMap<string, string> }
  /** Route to this cheaper group instead (a budget in downgrade mode is exhausted). */
  | { action: 'downgrade'; toGroup: string; reason: string }
  /** Refuse: names the budget, its limit and when it resets (the pipeline answers HTTP 402). */
  | { action: 'block'; block: BudgetBlock };

export interface SpendGate {
  check(request: SpendCheck): SpendVerdict;
}

/**
 * Team mode: reserves a planned request's estimated cost against the team's hard budgets (kept in
 * Redis), so daemons running at once cannot overshoot one by more than the requests in flight. Given
 * the local verdict (an allow), it answers that verdict, or a block or downgrade from the team's
 * spend. The reservation is settled by the request's ledger line (its id), released if it cost nothing.
 * A verdict rather than a promise when this daemon's lease on the budgets covers the request (no
 * await then). Absent in local mode: the pipeline then awaits nothing extra.
 */
export interface SpendReserver {
  reserve(request: SpendCheck, requestId: string, local: SpendVerdict): SpendVerdict | Promise<SpendVerdict>;
}
