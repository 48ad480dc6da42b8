// The control channel between the VS Code extension and the daemon: one WebSocket, JSON text frames,
// every message a member of a discriminated union on `type`. Both sides validate everything they
// receive against these schemas; the daemon disconnects a client that sends anything else.
import { z } from 'zod';
import { CascadeReportSchema } from './cascade-figures';
import { BudgetAlertSchema, BudgetStatusSchema } from './budget-status';
import { LedgerEntrySchema, LedgerHealthSchema } from './ledger';
import { TeamLedgerHealthSchema, TeamSpendSchema } from './team-ledger';
import { LmClientSchema, LmDeltaSchema, LmRequestBodySchema } from './lm-protocol';

/** Bumped when a message changes incompatibly; a mismatch ends the connection with a clear error. */
export const PROTOCOL_VERSION = 1;
/** The WebSocket path on the daemon's HTTP port. */
export const CONTROL_PATH = '/v1/shepherd/control';
/** A client that has not sent a valid hello by then is disconnected. */
export const AUTH_TIMEOUT_MS = 3_000;
/** Close codes: 4001 auth failed/timed out, 4002 invalid message, 4003 protocol version mismatch. */
export const CLOSE_AUTH = 4001;
export const CLOSE_INVALID = 4002;
export const CLOSE_VERSION = 4003;
/** Largest frame either side accepts (a chat prompt with a big selection fits easily). */
export const MAX_FRAME_BYTES = 4 * 1024 * 1024;

const name = z.string().min(1).max(200);
/** Request ids chosen by the client, echoed in the matching result / chat messages. */
const requestId = z.string().min(1).max(100);

// ---- the daemon's picture of itself --------------------------------------------------------------

/** One deployment's health. Health fields are optional: older daemons or unavailable deployments lack them. */
export const DeploymentSnapshotSchema = z.object({
  id: z.string(),
  group: z.string(),
  provider: z.string(),
  model: z.string(),
  region: z.string().nullable().optional(),
  sandbox: z.boolean().optional(),
  available: z.boolean(),
  unavailableReason: z.string().optional(),
  /** unknown | healthy | degraded | unhealthy (open strings: the health engine may add states). */
  state: z.string(),
  circuit: z.string().optional(),
  p50Ms: z.number().nullable().optional(),
  latencyMs: z.number().nullable().optional(),
  errorRate: z.number().nullable().optional(),
  /** Set while the provider rejects this deployment's key (401/403): what it said. */
  keyRejected: z.string().nullable().optional(),
  lastIncident: z.object({ start: z.string(), end: z.string().nullable().optional(), reason: z.string() }).nullable().optional(),
});
export type DeploymentSnapshot = z.infer<typeof DeploymentSnapshotSchema>;

export const GroupSnapshotSchema = z.object({
  name: z.string(),
  strategy: z.string().optional(),
  down: z.boolean().optional(),
  /** USD per 1M tokens. */
  price: z.object({ input: z.number(), output: z.number() }).partial().nullable().optional(),
  /** From the config, where set (see ModelGroupSchema): the smallest over the group's deployments. */
  contextWindow: z.number().int().positive().optional(),
  maxOutputTokens: z.number().int().positive().optional(),
  /** True only when every deployment of the group supports it; absent when the config does not say. */
  capabilities: z.object({ tools: z.boolean().optional(), images: z.boolean().optional() }).optional(),
  /** What the group serves: absent means chat; embedding groups are not chat models. */
  kind: z.enum(['chat', 'embedding']).optional(),
});
export type GroupSnapshot = z.infer<typeof GroupSnapshotSchema>;

export const SpendTotalsSchema = z.object({
  requests: z.number().int().nonnegative(),
  errors: z.number().int().nonnegative(),
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  costUsd: z.number().nonnegative(),
  // Optional, so a newer extension reads an older daemon's snapshot and the other way round.
  cachedTokens: z.number().int().nonnegative().optional().describe('Prompt tokens read from a prompt cache (absent: none)'),
  cacheWriteTokens: z.number().int().nonnegative().optional().describe('Prompt tokens written to a prompt cache (absent: none)'),
  cacheSavedUsd: z.number().optional().describe('What prompt caching saved at the groups\' current prices (negative: writes not read back); absent when nothing was cached'),
});
export type SpendTotals = z.infer<typeof SpendTotalsSchema>;

export const DaySpendSchema = SpendTotalsSchema.extend({ date: z.string().describe('YYYY-MM-DD, UTC') });
export type DaySpend = z.infer<typeof DaySpendSchema>;

export const SpendSnapshotSchema = z.object({
  today: SpendTotalsSchema,
  month: SpendTotalsSchema,
  /** Every day of the current UTC month so far, oldest first. */
  days: z.array(DaySpendSchema),
  /** This month, per model group. */
  byGroup: z.array(SpendTotalsSchema.extend({ group: z.string() })),
  /**
   * Requests the built-in sandbox answered (simulated, at the groups' prices): in none of the figures
   * above. Absent when there were none this month.
   */
  sandbox: z
    .object({ today: SpendTotalsSchema, month: SpendTotalsSchema, byGroup: z.array(SpendTotalsSchema.extend({ group: z.string() })) })
    .optional(),
  /** `auto` in cascade mode this month, by day (shared/cascade-figures.ts); absent without cascaded requests. */
  cascade: CascadeReportSchema.optional(),
});
export type SpendSnapshot = z.infer<typeof SpendSnapshotSchema>;

export const SnapshotSchema = z.object({
  version: z.string(),
  url: z.string(),
  sandbox: z.boolean(),
  startedAt: z.string(),
  /** The configured providers (not the sandbox's), for "Set API Key". */
  providers: z.array(z.string()),
  groups: z.array(GroupSnapshotSchema),
  deployments: z.array(DeploymentSnapshotSchema),
  budgets: z.array(BudgetStatusSchema),
  spend: SpendSnapshotSchema,
  /** The latest finished requests, newest last. */
  recent: z.array(LedgerEntrySchema),
  /** `auto` and each `auto:<profile>` a client may ask for, with the group each tier goes to. */
  auto: z.array(z.object({ name: z.string(), tiers: z.record(z.string(), z.string()) })).optional(),
  /** Whether ledger lines reach the disk (absent from daemons that do not say). */
  ledger: LedgerHealthSchema.optional(),
  /** Team mode only: whether the team's shared state (Redis) can be reached; degraded = local state serves. */
  team: z
    .object({ name: z.string(), member: z.string(), state: z.enum(['ok', 'degraded']), since: z.string().optional(), reason: z.string().optional() })
    .optional(),
  /** Team mode: whether the ledger is shipped to the team ledger in PostgreSQL, and how many lines wait. */
  teamLedger: TeamLedgerHealthSchema.optional(),
  /** Team mode: the whole team's spend this month, by member (refreshed every half minute or so). */
  teamSpend: TeamSpendSchema.optional(),
});
export type Snapshot = z.infer<typeof SnapshotSchema>;

export const DeploymentStateChangeSchema = z.object({
  deployment: z.string(),
  group: z.string(),
  from: z.string(),
  to: z.string(),
  circuit: z.string(),
  reason: z.string(),
  at: z.string(),
  keyRejected: z.string().nullable().optional(),
});

export const ChatMessageSchema = z.object({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.string().max(MAX_FRAME_BYTES),
});
export type ChatMessage = z.infer<typeof ChatMessageSchema>;

// ---- extension -> daemon -------------------------------------------------------------------------

export const ClientMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('hello'),
    protocol: z.number().int(),
    /** The control token from the daemon's owner-only state file. */
    token: z.string().min(1).max(200),
    client: z.string().max(100),
    version: z.string().max(50),
  }),
  z.object({ type: z.literal('snapshot.get') }),
  z.object({
    type: z.literal('chat.start'),
    id: requestId,
    /** A model group, an alias, or "auto". */
    model: name,
    messages: z.array(ChatMessageSchema).min(1).max(50),
    maxTokens: z.number().int().positive().optional(),
  }),
  z.object({ type: z.literal('chat.cancel'), id: requestId }),
  /** A request from VS Code's language model API; answered with lm.delta frames, then chat.done or chat.error. */
  z.object({
    type: z.literal('lm.start'),
    id: requestId,
    /** The extension that made the request, where VS Code says; recorded in the ledger line. */
    client: LmClientSchema.optional(),
    body: LmRequestBodySchema,
  }),
  z.object({
    type: z.literal('key.set'),
    id: requestId,
    provider: name,
    /** Null forgets the key set earlier (the environment's applies again). */
    key: z.string().min(1).max(1000).nullable(),
  }),
  z.object({ type: z.literal('budget.set'), id: requestId, budget: name, limitUsd: z.number().nonnegative().finite() }),
  z.object({
    type: z.literal('strategy.set'),
    id: requestId,
    /** Absent: the global default (routing.strategy); present: that group's override. */
    group: name.optional(),
    strategy: name,
  }),
  z.object({ type: z.literal('config.reload'), id: requestId }),
]);
export type ClientMessage = z.infer<typeof ClientMessageSchema>;

// ---- daemon -> extension -------------------------------------------------------------------------

export const ChatDoneSchema = z.object({
  type: z.literal('chat.done'),
  id: requestId,
  /** The model group that answered, the upstream model and the deployment. */
  model: z.string().nullable(),
  servedModel: z.string().nullable(),
  deployment: z.string().nullable(),
  costUsd: z.number().nonnegative(),
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  latencyMs: z.number().nonnegative(),
  sandbox: z.boolean(),
});
export type ChatDone = z.infer<typeof ChatDoneSchema>;

export const ServerMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('welcome'), protocol: z.number().int(), version: z.string(), pid: z.number().int() }),
  z.object({ type: z.literal('snapshot'), snapshot: SnapshotSchema }),
  z.object({ type: z.literal('deployment.state'), change: DeploymentStateChangeSchema }),
  z.object({
    type: z.literal('request.finished'),
    entry: LedgerEntrySchema,
    /** What prompt caching saved on this request at its group's current price, as the snapshot counts it; absent when it cached nothing. */
    cacheSavedUsd: z.number().optional(),
    /** The health rows (one per group it serves) of the deployment that served it, as they are now: latency and state move with every request. */
    deployments: z.array(DeploymentSnapshotSchema).optional(),
  }),
  z.object({ type: z.literal('budget.alert'), alert: BudgetAlertSchema }),
  z.object({ type: z.literal('config.reloaded'), groups: z.array(z.string()), sandbox: z.boolean() }),
  z.object({ type: z.literal('chat.delta'), id: requestId, text: z.string() }),
  z.object({ type: z.literal('lm.delta'), id: requestId, delta: LmDeltaSchema }),
  ChatDoneSchema,
  z.object({
    type: z.literal('chat.error'),
    id: requestId,
    message: z.string(),
    cancelled: z.boolean(),
    /** The HTTP status and error code the daemon's port answered with, when it did (e.g. 402 budget_exceeded). */
    status: z.number().int().optional(),
    code: z.string().nullable().optional(),
  }),
  /** The answer to key.set, budget.set, strategy.set and config.reload. */
  z.object({ type: z.literal('result'), id: requestId, ok: z.boolean(), message: z.string().optional() }),
  /** Why the daemon is about to close the connection (or refuses one message). */
  z.object({ type: z.literal('error'), message: z.string() }),
]);
export type ServerMessage = z.infer<typeof ServerMessageSchema>;

export type ParseResult<T> = { ok: true; message: T } | { ok: false; error: string };

/** Parses one text frame; the error names the offending field, never echoes the frame (it may hold a key). */
export function parseClientMessage(text: string): ParseResult<ClientMessage> {
  return parseWith(ClientMessageSchema, text);
}

export function parseServerMessage(text: string): ParseResult<ServerMessage> {
  return parseWith(ServerMessageSchema, text);
}

function parseWith<T>(schema: z.ZodType<T>, text: string): ParseResult<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  const result = schema.safeParse(raw);
  if (result.success) return { ok: true, message: result.data };
  const issue = result.error.issues[0];
  const where = issue.path.length > 0 ? issue.path.map(String).join('.') : 'message';
  return { ok: false, error: `invalid ${where}: ${issue.message}` };
}

// ---- the daemon's state file (<dataDir>/daemon.json, owner-only) ---------------------------------

export const DaemonStateSchema = z.object({
  pid: z.number().int(),
  version: z.string(),
  host: z.string(),
  port: z.number().int(),
  url: z.string(),
  sandbox: z.boolean(),
  startedAt: z.string(),
  /** Presented in the hello; whoever can read this owner-only file may control the daemon. */
  controlToken: z.string().min(32),
  /** Protocol version of the control channel. */
  protocol: z.number().int(),
});
export type DaemonState = z.infer<typeof DaemonStateSchema>;
export const STATE_FILE_NAME = 'daemon.json';
/**
 * `shepherd start` exits with this code when another live daemon holds the data directory: a caller
 * that only needs *a* daemon (the extension) attaches to that one instead of failing.
 */
export const EXIT_ALREADY_RUNNING = 3;
