// One line of the request ledger: a finished request, success or failure. The daemon appends these
// and replays them at start-up; the extension receives them as "request finished" events.
import { z } from 'zod';

/** The inbound endpoints a ledger line can name (`endpoint`; absent = chat). */
export const LEDGER_ENDPOINTS = ['chat', 'responses', 'embeddings', 'completions', 'messages'] as const;
export type LedgerEndpoint = (typeof LEDGER_ENDPOINTS)[number];

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
  stream: z.boolean(),
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  cachedTokens: z.number().int().nonnegative().optional(),
  cacheWriteTokens: z.number().int().nonnegative().optional().describe('Part of promptTokens written to a prompt cache (Anthropic bills these above the input price)'),
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
  // After the other fields, where the daemon writes it (failures only). Earlier daemons wrote the fields in an order with
  // `error` after `ok` and cachedTokens/reasoningTokens after completionTokens; replay reads both.
  error: z.string().optional().describe('Why it failed (no prompt text, no keys)'),
  parent: z.string().optional().describe('Set on an extra upstream call made for another request (its id): the losing attempt of a hedged request, or a cascade step whose answer was not kept'),
  role: z
    .enum(['hedge', 'cascade'])
    .optional()
    .describe('Why this extra upstream call was made: hedge = the slower attempt of a hedged pair, cancelled when the other answered; cascade = an earlier step of a cascade, whose answer failed a check'),
  endpoint: z
    .enum(LEDGER_ENDPOINTS)
    .optional()
    .describe('Which inbound endpoint was called: absent means chat (/v1/chat/completions); embeddings, completions, responses, messages'),
  member: z.string().optional().describe('Team mode: the team member the request belongs to (by the local API key used, else the daemon\'s own member)'),
  cascade: z
    .string()
    .optional()
    .describe(
      "A cascade's outcome (auto in cascade mode). On the request's own line: kept (the first step's answer passed every check), escalated (a later step answered), direct (it went straight to the last step). On a step's line (role cascade): the check its answer failed, or failed when it got no answer",
    ),
});
export type LedgerEntry = z.infer<typeof LedgerEntrySchema>;

/** The schema's fields, in its order. */
export const LEDGER_FIELDS: readonly (keyof LedgerEntry)[] = Object.keys(LedgerEntrySchema.shape) as (keyof LedgerEntry)[];

/**
 * The order a ledger line's fields are written in (entryFor in daemon/pipeline/ledger-line.ts) and the
 * replay's fast path expects (daemon/spend/ledger-parse.ts): the required fields in the schema's order,
 * then the optional ones present, in the schema's order. Derived once here; tests hold the writer and
 * the fast path to it, so adding a field to the schema fails the build until both know it.
 */
export const LEDGER_LINE_ORDER: readonly (keyof LedgerEntry)[] = [
  ...LEDGER_FIELDS.filter((k) => !LedgerEntrySchema.shape[k].safeParse(undefined).success),
  ...LEDGER_FIELDS.filter((k) => LedgerEntrySchema.shape[k].safeParse(undefined).success),
];

/** Whether ledger lines reach the disk: in /v1/shepherd/status, the control snapshot and the `ledger.state` event. */
export const LedgerHealthSchema = z.object({
  state: z.enum(['ok', 'failing']).describe('failing: lines cannot be written now; they wait in memory and are written, in order, when the disk accepts them'),
  since: z.string().optional().describe('ISO-8601 time writes started failing'),
  waiting: z.number().int().nonnegative().describe('Lines not yet written'),
  dropped: z.number().int().nonnegative().optional().describe('Lines given up since writes started failing: the wait queue was full'),
  lastError: z.string().optional().describe('Why the last write failed, e.g. ENOSPC'),
});
export type LedgerHealth = z.infer<typeof LedgerHealthSchema>;
