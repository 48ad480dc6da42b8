// What a budget looks like from outside: the daemon computes these, GET /v1/shepherd/budgets serves
// them, and the extension receives them in its snapshot and as alert events. Amounts are USD.
import { z } from 'zod';

export const BudgetScopeSchema = z.object({
  kind: z.enum(['global', 'group', 'provider', 'key', 'member']),
  /** The group, provider, key label or team member the budget covers; absent for global. */
  value: z.string().optional(),
});

export const BudgetStatusSchema = z.object({
  name: z.string(),
  scope: BudgetScopeSchema,
  period: z.enum(['monthly', 'daily']),
  limitUsd: z.number().nonnegative(),
  spentUsd: z.number().nonnegative(),
  remainingUsd: z.number(),
  /** Spend at the end of the period at the current burn rate. */
  projectedUsd: z.number().nonnegative(),
  /** spent / limit (may exceed 1). */
  usedRatio: z.number().nonnegative(),
  periodStart: z.string().describe('ISO-8601'),
  resetsAt: z.string().describe('ISO-8601'),
  state: z.enum(['ok', 'warning', 'exhausted']),
  /** What happens at 100 %. */
  action: z.enum(['alert', 'downgrade', 'block']),
  /** Alert thresholds (percent) already crossed in this period. */
  thresholdsHit: z.array(z.number()),
});
export type BudgetStatus = z.infer<typeof BudgetStatusSchema>;

/** Fired once per budget, threshold and period. */
export const BudgetAlertSchema = z.object({
  budget: z.string(),
  scope: BudgetScopeSchema,
  threshold: z.number().describe('Percent of the limit, e.g. 75'),
  spentUsd: z.number().nonnegative(),
  limitUsd: z.number().nonnegative(),
  periodStart: z.string(),
  action: z.enum(['alert', 'downgrade', 'block']),
  at: z.string(),
});
export type BudgetAlert = z.infer<typeof BudgetAlertSchema>;
