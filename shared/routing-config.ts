// Config for the routing engine: strategies, automatic model choice, health, circuit breakers,
// retries and rate limits. Part of the config file's schema (see config.ts); every default here is
// documented in the README's "Routing" section.
import { z } from 'zod';

const positiveInt = z.number().int().positive();
const ratio = z.number().min(0).max(1);

export const STRATEGIES = [
  'priority',
  'round-robin',
  'weighted',
  'least-connections',
  'latency',
  'cost',
  'adaptive',
  'geographic',
] as const;
export type Strategy = (typeof STRATEGIES)[number];

export const StrategySchema = z.enum(STRATEGIES, {
  error: `must be one of ${STRATEGIES.join(', ')}`,
});

export const TIERS = ['simple', 'medium', 'complex', 'reasoning'] as const;
export type Tier = (typeof TIERS)[number];

const breakerFields = {
  failureThreshold: positiveInt.describe('Consecutive failures that open the circuit'),
  errorRate: ratio.describe('Error rate over the health window that opens the circuit (with minRequests)'),
  minRequests: positiveInt.describe('Outcomes needed in the window before errorRate can open the circuit'),
  openMs: positiveInt.describe('How long the circuit stays open after its first trip'),
  maxOpenMs: positiveInt.describe('Cap on the open time, which doubles on each consecutive trip'),
  successThreshold: positiveInt.describe('Successful trial requests in half-open that close the circuit'),
  halfOpenMax: positiveInt.describe('Trial requests allowed at once while half-open'),
};

export const BreakerSchema = z
  .object({
    failureThreshold: breakerFields.failureThreshold.default(3),
    errorRate: breakerFields.errorRate.default(0.5),
    minRequests: breakerFields.minRequests.default(10),
    openMs: breakerFields.openMs.default(5_000),
    maxOpenMs: breakerFields.maxOpenMs.default(120_000),
    successThreshold: breakerFields.successThreshold.default(1),
    halfOpenMax: breakerFields.halfOpenMax.default(1),
  })
  .strict();
export type BreakerConfig = z.infer<typeof BreakerSchema>;

/** Per group or per deployment: any breaker field, overriding the global one. */
export const BreakerOverrideSchema = z.object(breakerFields).partial().strict();
export type BreakerOverride = z.infer<typeof BreakerOverrideSchema>;

const retryFields = {
  perDeployment: z
    .number()
    .int()
    .min(0)
    .describe('Extra tries on the same deployment before failing over (0: fail over at once, the fastest path to an answer)'),
  rounds: z.number().int().min(0).describe('Extra passes over the whole plan after every deployment failed, after a backoff'),
  baseMs: positiveInt.describe('Backoff base: try n waits a random time up to min(maxMs, baseMs * 2^n) (full jitter)'),
  maxMs: positiveInt.describe('Backoff cap'),
  maxRetryAfterMs: z
    .number()
    .int()
    .min(0)
    .describe('Longest Retry-After / retry-after-ms Shepherd will wait for; longer ones fail over instead'),
  retryableStatuses: z
    .array(z.number().int().min(400).max(599))
    .describe('Upstream statuses worth another try (default: 408, 409, 429 and every 5xx, 529 included)'),
};

export const RetrySchema = z
  .object({
    perDeployment: retryFields.perDeployment.default(0),
    rounds: retryFields.rounds.default(1),
    baseMs: retryFields.baseMs.default(250),
    maxMs: retryFields.maxMs.default(4_000),
    maxRetryAfterMs: retryFields.maxRetryAfterMs.default(10_000),
    retryableStatuses: retryFields.retryableStatuses.optional(),
  })
  .strict();
export type RetryConfig = z.infer<typeof RetrySchema>;
export const RetryOverrideSchema = z.object(retryFields).partial().strict();
export type RetryOverride = z.infer<typeof RetryOverrideSchema>;

const hedgeFields = {
  enabled: z.boolean().describe('Send a slow request to the next deployment as well, and keep whichever answers first'),
  quantile: ratio.describe("Hedge once the first deployment has taken longer than this quantile of its recent times to first byte"),
  minDelayMs: z.number().int().min(0).describe('Never hedge sooner than this'),
  coldDelayMs: positiveInt.describe('Streams only: the hedge delay for a deployment with too few measured requests to know its normal'),
  maxTokens: positiveInt.describe('Non-streaming requests are hedged only when they set max_tokens at or below this (their first byte comes after the whole answer)'),
  maxShare: ratio.describe('At most this share of the requests in flight may have a hedge out at once (at least one), so hedging cannot double the load of an overloaded upstream'),
};

export const HedgeSchema = z
  .object({
    enabled: hedgeFields.enabled.default(true),
    quantile: hedgeFields.quantile.default(0.95),
    minDelayMs: hedgeFields.minDelayMs.default(250),
    coldDelayMs: hedgeFields.coldDelayMs.default(2_000),
    maxTokens: hedgeFields.maxTokens.default(256),
    maxShare: hedgeFields.maxShare.default(0.1),
  })
  .strict();
export type HedgeConfig = z.infer<typeof HedgeSchema>;
export const HedgeOverrideSchema = z.object(hedgeFields).partial().strict();

export const CacheAffinitySchema = z
  .object({
    enabled: z.boolean().default(true).describe('Send consecutive requests of one conversation to the deployment that served the last one, while it is eligible, so its prompt cache is reused'),
    maxConversations: z.number().int().positive().default(10_000).describe('Conversations remembered; the least recently used is forgotten first'),
    ttlMs: z.number().int().positive().default(300_000).describe("Forget a conversation idle this long (Anthropic's default cache lives 5 minutes)"),
  })
  .strict();
export type CacheAffinityConfig = z.infer<typeof CacheAffinitySchema>;

export const FirstByteSchema = z
  .object({
    adaptive: z.boolean().default(true).describe('Give up on a deployment that is far slower to its first byte than usual, long before upstream.firstByteMs'),
    multiplier: z.number().min(1).default(4).describe('The adaptive deadline: this many times the deployment\'s recent p99 time to first byte'),
    floorMs: positiveInt.default(2_000).describe('The adaptive deadline is never shorter than this'),
    minSamples: positiveInt.default(10).describe('Measured requests (of the same kind: streamed or whole) before the deadline adapts'),
  })
  .strict();
export type FirstByteConfig = z.infer<typeof FirstByteSchema>;

export const HealthSchema = z
  .object({
    window: positiveInt.default(50).describe('Outcomes kept per deployment for error rate and latency'),
    degradedErrorRate: ratio.default(0.1).describe('Error rate in the window at which a deployment counts as degraded'),
    slowMs: positiveInt
      .default(10_000)
      .describe('Time to first byte (EWMA) above which a deployment counts as degraded (slow)'),
    latencyHalfLife: positiveInt
      .default(10)
      .describe('Requests after which an old latency sample weighs half as much in the EWMA'),
    keyRejectedMs: positiveInt
      .default(300_000)
      .describe('How long a deployment whose provider key was rejected (HTTP 401/403) is left out of plans; a reload that changes its key, or a success, clears it sooner'),
    probes: z
      .object({
        enabled: z.boolean().default(true),
        intervalMs: positiveInt.default(30_000).describe('Time between probes of a healthy deployment'),
        unhealthyIntervalMs: positiveInt.default(5_000).describe('Time between probes while ejected, to notice recovery'),
        timeoutMs: positiveInt.default(5_000),
        jitter: ratio.default(0.2).describe('Random spread of each interval, so probes never fire in step'),
        kind: z
          .enum(['models', 'completion'])
          .default('models')
          .describe('models: the model list (costs no tokens); completion: a one-token completion'),
      })
      .strict()
      .default({ enabled: true, intervalMs: 30_000, unhealthyIntervalMs: 5_000, timeoutMs: 5_000, jitter: 0.2, kind: 'models' }),
  })
  .strict();
export type HealthConfig = z.infer<typeof HealthSchema>;

const tierGroups = z
  .object({
    simple: z.string().min(1),
    medium: z.string().min(1),
    complex: z.string().min(1),
    reasoning: z.string().min(1),
  })
  .strict();

/** The checks a cascade runs on an answer before it is kept (daemon/routing/cascade/). */
export const DEFAULT_REFUSAL_PHRASES = [
  "i can't help with",
  "i can't assist with",
  'i cannot help with',
  'i cannot assist with',
  "i'm unable to",
  'i am unable to',
  "i'm not able to",
  'i am not able to',
  "i'm sorry, but i can't",
  "i'm sorry, but i cannot",
  'as an ai language model',
  "i don't have enough information",
  "i'm not sure",
  'i am not sure',
  "i don't know",
  'i do not know',
];

export const CascadeChecksSchema = z
  .object({
    arithmetic: z.boolean().default(true).describe('Escalate when an `a op b = c` chain in the prose does not hold (rounding to the stated digits allowed; silent when unsure)'),
    code: z.boolean().default(true).describe('Escalate when a fenced JavaScript, TypeScript or JSON block does not parse'),
    json: z.boolean().default(true).describe('Escalate when a JSON-mode or json_schema answer is not JSON or does not match the schema asked for'),
    toolArgs: z.boolean().default(true).describe("Escalate when a tool call names a tool not offered or its arguments do not match the tool's parameter schema"),
    truncated: z.boolean().default(true).describe('Escalate when the answer was cut off (finish_reason length) below any limit the client set'),
    refusal: z.boolean().default(true).describe('Escalate an empty answer, or a short one that opens with a phrase of refusalPhrases'),
    refusalPhrases: z
      .array(z.string().min(3))
      .default([...DEFAULT_REFUSAL_PHRASES])
      .describe('Refusal and non-answer openings (case-insensitive), looked for in the first 160 characters of an answer under refusalMaxChars'),
    refusalMaxChars: positiveInt.default(400).describe('Only answers shorter than this can count as refusals: a long answer that opens with a hedge is an answer'),
    minLength: z
      .object({ simple: positiveInt.optional(), medium: positiveInt.optional(), complex: positiveInt.optional(), reasoning: positiveInt.optional() })
      .strict()
      .default({})
      .describe("Minimum answer length in characters by the prompt's tier (the classifier's kind of prompt); off unless set"),
  })
  .strict();
export type CascadeChecks = z.infer<typeof CascadeChecksSchema>;

const cascadeFields = {
  chain: z
    .array(z.enum(TIERS))
    .min(2)
    .describe('The tiers tried in order, cheapest first: the answer of each but the last is checked, and a failed check moves to the next'),
  classifierStart: z
    .boolean()
    .describe("Start at the chain's highest tier not above the classifier's tier (false: always at the first)"),
  stream: z
    .enum(['hold', 'strong'])
    .describe('Streaming requests: hold = the cheap answer is held and checked, then the final one streams; strong = streams go straight to the last tier'),
  checks: CascadeChecksSchema,
};

export const CascadeSchema = z
  .object({
    enabled: z.boolean().default(false).describe('`auto` itself cascades (`auto:cascade` always does)'),
    chain: cascadeFields.chain.default(['simple', 'reasoning']),
    classifierStart: cascadeFields.classifierStart.default(true),
    stream: cascadeFields.stream.default('hold'),
    checks: CascadeChecksSchema.default(CascadeChecksSchema.parse({})),
  })
  .strict();
export type CascadeConfig = z.infer<typeof CascadeSchema>;

/** A profile's cascade: true, or the fields it changes from routing.auto.cascade (enabled unless it says false). */
const ProfileCascadeSchema = z.union([
  z.boolean(),
  z
    .object({
      enabled: z.boolean().optional(),
      chain: cascadeFields.chain.optional(),
      classifierStart: cascadeFields.classifierStart.optional(),
      stream: cascadeFields.stream.optional(),
      checks: CascadeChecksSchema.partial().optional(),
    })
    .strict(),
]);
export type ProfileCascade = z.infer<typeof ProfileCascadeSchema>;

const profileSchema = tierGroups.partial().extend({
  cascade: ProfileCascadeSchema.optional().describe('This profile cascades: true, or changes to routing.auto.cascade'),
});
export type AutoProfile = z.infer<typeof profileSchema>;

export const AutoSchema = z
  .object({
    tiers: tierGroups
      .default({ simple: 'deepseek-v3.2', medium: 'gemini-2.5-flash', complex: 'gpt-4.1', reasoning: 'claude-sonnet-4.5' })
      .describe('Model group for each complexity tier when a client asks for model "auto"'),
    profiles: z
      .record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lower-case letters, digits, - or _'), profileSchema)
      .default({})
      .describe('Named variants, used as model "auto:<name>": tier -> group, falling back to `tiers` for tiers not named; `cascade` makes one cascade'),
    cascade: CascadeSchema.default(CascadeSchema.parse({})).describe(
      'Cascade mode: the cheap tier answers first, its answer is checked, and a failed check escalates to the next tier of `chain` (model "auto:cascade", or `auto` itself with enabled)',
    ),
  })
  .strict();
export type AutoConfig = z.infer<typeof AutoSchema>;

export const UnknownModelSchema = z
  .object({
    action: z
      .enum(['error', 'group', 'auto'])
      .default('error')
      .describe('What a model name that no group, alias or pattern takes gets: error (404 listing the names), a given group, or auto'),
    group: z.string().min(1).optional().describe('action "group": the model group such names go to'),
  })
  .strict();
export type UnknownModelRule = z.infer<typeof UnknownModelSchema>;

export const AdaptiveWeightsSchema = z
  .object({
    latency: z.number().min(0).default(0.4),
    load: z.number().min(0).default(0.2),
    errorRate: z.number().min(0).default(0.3),
    cost: z.number().min(0).default(0.1),
  })
  .strict();

export const RoutingSchema = z
  .object({
    strategy: StrategySchema.default('priority').describe('Default strategy for groups that do not set one'),
    region: z.string().min(1).optional().describe('Your region, for the geographic strategy (e.g. eu-west)'),
    regionDistances: z
      .record(z.string(), z.record(z.string(), z.number().nonnegative()))
      .default({})
      .describe('Extra or corrected region distances (any unit, e.g. ms RTT), merged over the built-in table'),
    exploration: ratio
      .default(0.05)
      .describe('latency/adaptive: share of requests that try a deployment other than the best, so a recovered one is measured again'),
    adaptive: AdaptiveWeightsSchema.default({ latency: 0.4, load: 0.2, errorRate: 0.3, cost: 0.1 }).describe(
      'Weights of the adaptive score (each term normalised to 0..1 across the group; lowest score first)',
    ),
    auto: AutoSchema.default(AutoSchema.parse({})),
    unknownModel: UnknownModelSchema.default({ action: 'error' }).describe(
      'Model names that match no group, alias or alias pattern (after normalisation): error, a group, or auto',
    ),
    health: HealthSchema.default(HealthSchema.parse({})),
    breaker: BreakerSchema.default(BreakerSchema.parse({})),
    retry: RetrySchema.default(RetrySchema.parse({})),
    hedge: HedgeSchema.default(HedgeSchema.parse({})).describe('Hedged requests: a second deployment asked when the first is slower than usual'),
    firstByte: FirstByteSchema.default(FirstByteSchema.parse({})),
    cacheAffinity: CacheAffinitySchema.default(CacheAffinitySchema.parse({})).describe(
      'Cache affinity: a conversation (same prompt_cache_key, same prompt up to its cache breakpoints, or same system prompt and first message) stays on one deployment',
    ),
    waitWhenSaturatedMs: z
      .number()
      .int()
      .min(0)
      .default(2_000)
      .describe('When every deployment is at its rate limit, how long a request may wait for capacity before a 429'),
  })
  .strict();
export type RoutingConfig = z.infer<typeof RoutingSchema>;

/** Routing fields of one model group. */
export const GroupRoutingFields = {
  strategy: StrategySchema.optional().describe('Overrides routing.strategy for this group'),
  fallbacks: z
    .array(z.string().min(1))
    .optional()
    .describe('Model groups tried, in order, when every deployment of this group failed'),
  breaker: BreakerOverrideSchema.optional(),
  retry: RetryOverrideSchema.optional(),
  hedge: HedgeOverrideSchema.optional().describe('Overrides routing.hedge for this group'),
};

/** Routing fields of one deployment. */
export const DeploymentRoutingFields = {
  weight: z.number().positive().optional().describe('Share of traffic for the weighted strategy (default 1)'),
  priority: z.number().int().optional().describe('Lower is tried first by the priority strategy (default: config order)'),
  rpm: positiveInt.optional().describe('Requests per minute Shepherd sends here at most'),
  tpm: positiveInt.optional().describe('Tokens (prompt + max output, estimated) per minute Shepherd sends here at most'),
  burst: positiveInt.optional().describe('Requests allowed at once above the rpm pace (default: 10 seconds worth)'),
  breaker: BreakerOverrideSchema.optional(),
};
