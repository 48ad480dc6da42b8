// One line of the request ledger: a finished request, success or failure. The daemon appends these
// and replays them at start-up; the extension receives them as "request finished" events.
import { z } from 'zod';

export const LedgerEntrySchema = z.object({
  id: z.string().describe('Request id, also sent to the client as x-request-id'),
  time: z.string().describe('ISO-8601 time the request finished'),
  requestedModel: z.string().describe('The model name the client asked for'),
  model: z.string().nullable().describe('The model group it resolved to (null when unknown)'),
  servedModel: z.string().nullable().describe('The upstream model name of the deployment that answered'),
  deployment: z.string().nullable().describe('Deployment id (provider/model@region) that answered or last failed'),
  provider: z.string().nullable(),
  attempts: z.number().int().nonnegative(),
  status: z.number().int().describe('HTTP status the client received'),
  ok: z.boolean(),
  error: z.string().optional().describe('Why it failed (no prompt text, no keys)'),
  stream: z.boolean(),
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  cachedTokens: z.number().int().nonnegative().optional(),
  reasoningTokens: z.number().int().nonnegative().optional().describe('Part of completionTokens spent on reasoning, when reported'),
  usageSource: z
    .enum(['upstream', 'estimated', 'none'])
    .describe('Where the token counts came from: the upstream, a local tokenizer estimate (no usage reported), or nowhere'),
  costUsd: z.number().nonnegative(),
  latencyMs: z.number().nonnegative().describe('From request received to last byte'),
  ttftMs: z.number().nonnegative().optional().describe('Time to first token (streaming) or to the full answer'),
  sandbox: z.boolean().optional().describe('Served by the built-in sandbox, not a real provider'),
  key: z.string().optional().describe('Label of the local API key the client used (never the key itself)'),
  // A label, not a fact the totals depend on: a malformed one is dropped rather than making the whole
  // line invalid (the ledger's fast replay check, which keeps fields it does not know, agrees).
  client: z
    .string()
    .optional()
    .catch(undefined)
    .describe('Who asked, as the caller named itself in the x-shepherd-client header (e.g. the VS Code extension that used a Shepherd model)'),
  parent: z.string().optional().describe('Set on an extra upstream call made for another request (its id): the losing attempt of a hedged request'),
  role: z.enum(['hedge']).optional().describe('Why this extra upstream call was made: hedge = the slower attempt of a hedged pair, cancelled when the other answered'),
});
export type LedgerEntry = z.infer<typeof LedgerEntrySchema>;
