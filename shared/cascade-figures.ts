// The cascade's figures (auto in cascade mode), by UTC day: in GET /v1/shepherd/spend (`cascade`),
// `shepherd spend --by escalation` and the extension's spend view (the snapshot's `spend.cascade`).
import { z } from 'zod';

const counts = {
  requests: z.number().int().nonnegative().describe('Cascaded requests (their own ledger lines)'),
  kept: z.number().int().nonnegative().describe("The first step's answer passed every check"),
  escalated: z.number().int().nonnegative().describe('A check failed and a later group answered'),
  direct: z.number().int().nonnegative().describe("Straight to the chain's last group (the classifier's tier, or cascade.stream strong)"),
  escalationRate: z.number().min(0).max(1).describe('escalated / (kept + escalated)'),
  caught: z.record(z.string(), z.number().int().nonnegative()).describe('Steps not kept, by the check their answer failed (failed: no answer)'),
  costUsd: z.number().nonnegative().describe('What cascaded requests cost, every step included'),
  baselineUsd: z.number().nonnegative().optional().describe('The same answers at the price of the baseline group'),
  savedUsd: z.number().optional().describe('baselineUsd - costUsd: negative when escalations cost more than the cheap answers saved'),
};

export const CascadeTotalsSchema = z.object(counts);
export const CascadeDaySchema = z.object({ day: z.string(), ...counts });

export const CascadeReportSchema = z.object({
  baseline: z.string().nullable().describe('The group the saving is measured against: savingsBaseline, else the strong end of routing.auto.cascade.chain'),
  totals: CascadeTotalsSchema,
  days: z.array(CascadeDaySchema),
});
export type CascadeReport = z.infer<typeof CascadeReportSchema>;
export type CascadeDayOut = z.infer<typeof CascadeDaySchema>;
