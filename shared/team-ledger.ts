// Team mode's PostgreSQL ledger as /v1/shepherd/status reports it: whether lines are being shipped, and
// how many wait in the local ledger (the outbox) for PostgreSQL.
import { z } from 'zod';

export const TeamLedgerHealthSchema = z.object({
  state: z
    .enum(['starting', 'ok', 'failing'])
    .describe('ok: the last shipment succeeded; failing: PostgreSQL cannot be reached or refused the lines (they wait in the local ledger and are shipped later)'),
  waiting: z.number().int().nonnegative().describe('Ledger lines written locally but not yet in PostgreSQL (as of the last look at the ledger files)'),
  shipped: z.number().int().nonnegative().describe('Lines shipped by this daemon since it started'),
  lastShippedAt: z.string().optional().describe('ISO-8601 time of the last successful shipment'),
  since: z.string().optional().describe('ISO-8601 time shipping started failing'),
  lastError: z.string().optional().describe('Why the last shipment or connection failed'),
  table: z.string().describe('The team ledger table'),
});
export type TeamLedgerHealth = z.infer<typeof TeamLedgerHealthSchema>;

/**
 * The whole team's spend this month by member, from the team ledger: in the status and the extension's
 * snapshot, refreshed every half minute or so (not per request). Sandbox spend apart, as everywhere.
 */
export const TeamSpendSchema = z.object({
  month: z.string().describe('The UTC month, YYYY-MM'),
  asOf: z.string().describe('ISO-8601 time PostgreSQL was asked'),
  members: z.array(
    z.object({
      member: z.string(),
      requests: z.number().int().nonnegative(),
      costUsd: z.number().nonnegative(),
      sandboxRequests: z.number().int().nonnegative(),
      sandboxCostUsd: z.number().nonnegative(),
    }),
  ),
});
export type TeamSpend = z.infer<typeof TeamSpendSchema>;
