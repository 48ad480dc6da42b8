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
