// The Shepherd config file's shape. This zod schema is the single source of truth: the daemon
// validates with it, `shepherd config schema` derives the JSON Schema from it for editor IntelliSense,
// and the extension imports the inferred types.
import { z } from 'zod';
import { closest } from './closest';
import { isPattern, normaliseModelName, patternClashes } from './model-names';
import { isRecord } from './is-record';
import { DeploymentRoutingFields, GroupRoutingFields, RoutingSchema } from './routing-config';
import { TeamSchema } from './team-config';

const positiveInt = z.number().int().positive();
const usdPerMillion = z.number().nonnegative().describe('USD per 1M tokens');

export const PriceSchema = z
  .object({
    input: usdPerMillion.describe('USD per 1M input (prompt) tokens'),
    output: usdPerMillion.describe('USD per 1M output (completion) tokens'),
    cachedInput: usdPerMillion.optional().describe('USD per 1M cached input tokens (cache reads); defaults to the input price'),
    cacheWrite: usdPerMillion
      .optional()
      .describe("USD per 1M input tokens written to a prompt cache (Anthropic's cache_creation_input_tokens, billed above the input price); defaults to the input price"),
    cacheWrite1h: usdPerMillion
      .optional()
      .describe("USD per 1M input tokens written to a prompt cache for an hour (Anthropic's ephemeral_1h_input_tokens, 2x input); defaults to cacheWrite"),
    reasoning: usdPerMillion
      .optional()
      .describe('USD per 1M reasoning tokens, where a provider bills them apart from output; defaults to the output price'),
    checked: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date, YYYY-MM-DD')
      .optional()
      .describe('Date the price was published or last verified (YYYY-MM-DD)'),
  })
  .strict();
export type Price = z.infer<typeof PriceSchema>;

export const TimeoutsSchema = z
  .object({
    connectMs: positiveInt.optional().describe('TCP/TLS connect timeout'),
    firstByteMs: positiveInt.optional().describe('Time allowed until the upstream sends response headers'),
    idleMs: positiveInt.optional().describe('Longest silence allowed between body chunks'),
  })
  .strict();
export type Timeouts = z.infer<typeof TimeoutsSchema>;

export const PROVIDER_TYPES = ['openai-compatible', 'anthropic', 'gemini'] as const;

export const ProviderSchema = z
  .object({
    type: z.enum(PROVIDER_TYPES).default('openai-compatible').describe('Wire format the upstream speaks'),
    baseUrl: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://api.openai.com/v1' })
      .describe('Base URL including the API version path, e.g. https://api.openai.com/v1'),
    apiKey: z.string().min(1).optional().describe('Inline API key (prefer apiKeyEnv)'),
    apiKeyEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
      .optional()
      .describe('Name of the environment variable that holds the API key'),
    headers: z.record(z.string(), z.string()).optional().describe('Extra headers sent with every upstream request'),
    timeouts: TimeoutsSchema.optional(),
    sandbox: z.boolean().optional().describe('Set by Shepherd for its simulated upstreams; such a provider needs no key'),
    anthropicVersion: z
      .string()
      .min(1)
      .optional()
      .describe('type "anthropic" only: the anthropic-version header sent upstream (default 2023-06-01)'),
    defaultMaxTokens: positiveInt
      .optional()
      .describe('type "anthropic" only: max_tokens sent when the client set none (default 4096; Anthropic requires one)'),
    autoCacheBreakpoints: z
      .boolean()
      .optional()
      .describe(
        'type "anthropic" only: an OpenAI-format request (Cline, Continue...) that set no cache_control gets one on its last system block and its last tool, so its long prompt is cached (default false; on in the presets); a model group may override it',
      ),
    completions: z
      .boolean()
      .optional()
      .describe(
        'type "openai-compatible" only: the provider serves POST /completions (legacy text completions, `suffix` for fill-in-the-middle), as Ollama, vLLM, LM Studio and DeepSeek\'s /beta do; a deployment may override it',
      ),
    responsesApi: z
      .boolean()
      .optional()
      .describe(
        'type "openai-compatible" only: the provider serves the Responses API (POST /responses) natively, as OpenAI does; POST /v1/responses then passes through to it unchanged apart from the model name, and its events come back unchanged (default false; true for the preset `openai` provider)',
      ),
    completionsPath: z
      .string()
      .regex(/^\/[^?#]*$/, 'must be a path starting with "/", e.g. /fim/completions')
      .optional()
      .describe('type "openai-compatible" only: where completions go, appended to baseUrl (default /completions; Mistral\'s Codestral FIM API is /fim/completions). Setting it implies completions: true'),
  })
  .strict();
export type ProviderConfig = z.infer<typeof ProviderSchema>;

/**
 * What the models behind a group can take and do. Optional: they describe the model to clients (the
 * VS Code language-model provider shows them to the editor) and never change routing. A deployment may
 * override the group's values; a group advertises only what every one of its deployments supports,
 * since failover may land on any of them.
 */
export const CapabilitiesSchema = z
  .object({
    tools: z.boolean().optional().describe('Tool (function) calling'),
    images: z.boolean().optional().describe('Image input'),
  })
  .strict();
export type Capabilities = z.infer<typeof CapabilitiesSchema>;

const ModelLimitsFields = {
  contextWindow: positiveInt
    .optional()
    .describe("Most tokens one request may hold, prompt and answer together (the model's context window)"),
  maxOutputTokens: positiveInt.optional().describe('Most tokens the model writes in one answer'),
  capabilities: CapabilitiesSchema.optional().describe('What the model supports beyond text chat'),
};

export const DeploymentSchema = z
  .object({
    provider: z.string().min(1).describe('A key of `providers`'),
    model: z.string().min(1).describe('The model name the upstream expects'),
    region: z.string().min(1).optional().describe('Free-form region label, e.g. us-east'),
    price: PriceSchema.optional().describe("Overrides the group's price for this deployment"),
    completions: z
      .boolean()
      .optional()
      .describe("This deployment serves POST /v1/completions (text and fill-in-the-middle); overrides its provider's `completions`"),
    ...ModelLimitsFields,
    ...DeploymentRoutingFields,
  })
  .strict();
export type DeploymentConfig = z.infer<typeof DeploymentSchema>;

export const ModelGroupSchema = z
  .object({
    autoCacheBreakpoints: z
      .boolean()
      .optional()
      .describe("Overrides its providers' autoCacheBreakpoints for this group's Anthropic deployments"),
    aliases: z
      .array(z.string().min(1))
      .optional()
      .describe('Other names clients may use for this group; `*` and `?` make a pattern (e.g. claude-opus-*), the most specific pattern wins'),
    kind: z
      .enum(['chat', 'embedding'])
      .optional()
      .describe('What the group serves: chat (the default; also /v1/completions where its deployments do) or embedding (/v1/embeddings; price.input per 1M input tokens, price.output unused)'),
    price: PriceSchema.optional(),
    deployments: z.array(DeploymentSchema).min(1, 'a model group needs at least one deployment'),
    ...ModelLimitsFields,
    ...GroupRoutingFields,
  })
  .strict();
export type ModelGroupConfig = z.infer<typeof ModelGroupSchema>;

export const ServerSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(4210),
    bodyLimitBytes: positiveInt.default(8 * 1024 * 1024).describe('Largest request body accepted'),
    maxJsonDepth: positiveInt.default(100).describe('Deepest nesting of arrays and objects accepted in a request body'),
    allowedOrigins: z
      .array(z.string())
      .default([])
      .describe('Browser origins allowed to call the daemon (exact match, e.g. http://localhost:3000)'),
    allowedHosts: z
      .array(z.string())
      .default([])
      .describe('Host header names accepted besides loopback names (needed only when binding beyond loopback)'),
    apiKeys: z.array(z.string().min(8)).optional().describe('If set, clients must send one of these as a Bearer token'),
    apiKeysEnv: z.string().optional().describe('Environment variable holding a comma-separated list of local API keys'),
  })
  .strict();
export type ServerConfig = z.infer<typeof ServerSchema>;

export const UpstreamSchema = z
  .object({
    connectMs: positiveInt.default(5_000),
    firstByteMs: positiveInt.default(120_000),
    firstBytePerTokenMs: z
      .number()
      .min(0)
      .default(20)
      .describe('Non-streaming requests: extra first-byte time per requested max token (the answer is generated before headers)'),
    idleMs: positiveInt.default(60_000),
    totalMs: positiveInt
      .default(600_000)
      .describe('Deadline for one client request across every attempt, retry and wait'),
  })
  .strict();

export const BudgetSchema = z
  .object({
    limitUsd: z.number().nonnegative().finite().describe('Most the budget allows per period, in USD'),
    period: z.enum(['monthly', 'daily']).default('monthly').describe('How often the budget starts again (UTC)'),
    startDay: z
      .number()
      .int()
      .min(1)
      .max(28)
      .default(1)
      .describe('monthly only: the day of the month (UTC) each period starts'),
    scope: z
      .object({
        group: z.string().min(1).optional().describe('Count only this model group'),
        provider: z.string().min(1).optional().describe('Count only this provider'),
        key: z.string().min(1).optional().describe('Count only this local API key, by its label (key-xxxxxxxx, as in the ledger)'),
        member: z.string().min(1).optional().describe('Team mode: count only this team member (as in the ledger)'),
      })
      .strict()
      .optional()
      .describe('What the budget counts: one of group, provider, key or member; absent means all spend (in team mode, the whole team\'s)'),
    thresholds: z
      .array(z.number().positive().max(1000))
      .min(1)
      .default([50, 75, 90, 100])
      .describe('Alert thresholds in percent of the limit; each fires once per period'),
    action: z
      .enum(['alert', 'downgrade', 'block'])
      .default('alert')
      .describe('At 100 %: only alert, route to the cheaper group downgradeTo, or refuse requests with HTTP 402'),
    downgradeTo: z
      .string()
      .min(1)
      .optional()
      .describe('action "downgrade": the model group to use instead (default: the group of routing.auto.tiers.simple)'),
  })
  .strict();
export type BudgetConfig = z.infer<typeof BudgetSchema>;

export const WebhookSchema = z
  .object({
    url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).describe('Where budget alerts are POSTed'),
    format: z.enum(['json', 'slack']).default('json').describe('json: the alert object; slack: a Slack-compatible {"text": ...}'),
    headers: z.record(z.string(), z.string()).optional().describe('Extra headers, e.g. an authorization header'),
  })
  .strict();

export const AlertsSchema = z
  .object({
    webhooks: z.array(WebhookSchema).default([]).describe('Budget alerts are sent to each of these, retried with backoff'),
    retries: z.number().int().min(0).max(10).default(5).describe('Further tries after a failed webhook delivery'),
  })
  .strict();

export const CurrencySchema = z
  .object({
    code: z
      .string()
      .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD or CNY')
      .default('USD')
      .describe('Currency amounts are shown in (the ledger always stays in USD)'),
    rate: z.number().positive().finite().default(1).describe('Units of the display currency per 1 USD, e.g. 7.1 for CNY'),
  })
  .strict();

export const LedgerConfigSchema = z
  .object({
    onWriteFailure: z
      .enum(['serve', 'refuse'])
      .default('serve')
      .describe(
        'While ledger lines cannot be written (disk full or read-only): serve keeps answering (lines wait in memory and are written when the disk recovers); refuse answers new requests with 503 ledger_unavailable',
      ),
  })
  .strict();

const ConfigObject = z
  .object({
    $schema: z.string().optional(),
    server: ServerSchema.default(ServerSchema.parse({})),
    upstream: UpstreamSchema.default(UpstreamSchema.parse({})).describe('Default upstream timeouts'),
    sandbox: z
      .union([z.boolean(), z.literal('auto')], { error: 'must be true, false or "auto"' })
      .default('auto')
      .describe('auto: run the simulated upstreams when no provider has a key; true: always; false: never'),
    providers: z.record(z.string().min(1), ProviderSchema).default({}),
    models: z.record(z.string().min(1), ModelGroupSchema).default({}),
    routing: RoutingSchema.default(RoutingSchema.parse({})).describe(
      'Strategies, automatic model choice, health checks, circuit breakers and retries',
    ),
    budgets: z.record(z.string().min(1), BudgetSchema).default({}).describe('Spending limits by name, with alerts and what happens at 100 %'),
    alerts: AlertsSchema.default(AlertsSchema.parse({})).describe('Where budget alerts go besides connected editors'),
    currency: CurrencySchema.default(CurrencySchema.parse({})).describe('Display currency; applied when amounts are shown, never to the ledger'),
    ledger: LedgerConfigSchema.default(LedgerConfigSchema.parse({})).describe('The request ledger: what happens while its lines cannot be written'),
    savingsBaseline: z
      .string()
      .min(1)
      .optional()
      .describe('A model group to compare spend with: "what if every request had gone to this group"'),
    team: TeamSchema.optional().describe('Team mode: share budgets, rate limits and health through Redis and one ledger in PostgreSQL; absent means local mode'),
  })
  .strict();

/** Cross-field rules the per-field schema cannot express; each issue names the exact path. */
// They run even when other fields are invalid (`when`), so one pass lists every problem; the value may
// then be only partly valid, hence the defensive reads.
export const ConfigSchema = ConfigObject.superRefine(
  (cfg, ctx) => {
    const providers = isRecord(cfg.providers) ? cfg.providers : {};
    const models = isRecord(cfg.models) ? cfg.models : {};
    const providerNames = Object.keys(providers);
    for (const [name, provider] of Object.entries(providers)) {
      if (isRecord(provider) && provider.apiKey && provider.apiKeyEnv) {
        ctx.addIssue({ code: 'custom', path: ['providers', name], message: 'set apiKey or apiKeyEnv, not both' });
      }
    }
    const names = new Map<string, string>(); // lower-cased name or alias -> owning group
    for (const group of Object.keys(models)) names.set(group.toLowerCase(), group);
    for (const [group, model] of Object.entries(models)) {
      if (!isRecord(model)) continue;
      const deployments = Array.isArray(model.deployments) ? model.deployments : [];
      deployments.forEach((d, i) => {
        if (isRecord(d) && typeof d.provider === 'string' && !Object.hasOwn(providers, d.provider)) {
          const hint = closest(d.provider, providerNames);
          ctx.addIssue({
            code: 'custom',
            path: ['models', group, 'deployments', i, 'provider'],
            message: `unknown provider "${d.provider}"${hint ? ` (did you mean "${hint}"?)` : ''}`,
          });
        }
      });
      const fallbacks = Array.isArray(model.fallbacks) ? model.fallbacks : [];
      fallbacks.forEach((fallback, i) => {
        if (typeof fallback !== 'string') return;
        const problem =
          fallback === group
            ? 'a group cannot fall back to itself'
            : !Object.hasOwn(models, fallback)
              ? unknownGroup(fallback, Object.keys(models))
              : undefined;
        if (problem) ctx.addIssue({ code: 'custom', path: ['models', group, 'fallbacks', i], message: problem });
      });
      const aliases = Array.isArray(model.aliases) ? model.aliases : [];
      aliases.forEach((alias, i) => {
        if (typeof alias !== 'string') return;
        const owner = names.get(alias.toLowerCase());
        if (owner && owner !== group) {
          ctx.addIssue({
            code: 'custom',
            path: ['models', group, 'aliases', i],
            message: `alias "${alias}" is already used by model group "${owner}"`,
          });
        } else {
          names.set(alias.toLowerCase(), group);
        }
      });
    }
    checkNames(models, ctx);
    const routing: Record<string, unknown> = isRecord(cfg.routing) ? cfg.routing : {};
    const unknownModel: Record<string, unknown> = isRecord(routing.unknownModel) ? routing.unknownModel : {};
    if (unknownModel.action === 'group') {
      if (typeof unknownModel.group !== 'string') {
        ctx.addIssue({ code: 'custom', path: ['routing', 'unknownModel', 'group'], message: 'missing: action "group" needs the group unknown names go to' });
      } else if (!Object.hasOwn(models, unknownModel.group)) {
        ctx.addIssue({ code: 'custom', path: ['routing', 'unknownModel', 'group'], message: unknownGroup(unknownModel.group, Object.keys(models)) });
      }
    }
    const auto: Record<string, unknown> = isRecord(routing.auto) ? routing.auto : {};
    const profiles: Record<string, unknown> = isRecord(auto.profiles) ? auto.profiles : {};
    for (const [profile, tiers] of Object.entries(profiles)) {
      if (!isRecord(tiers)) continue;
      for (const [tier, target] of Object.entries(tiers)) {
        if (typeof target === 'string' && !Object.hasOwn(models, target)) {
          ctx.addIssue({ code: 'custom', path: ['routing', 'auto', 'profiles', profile, tier], message: unknownGroup(target, Object.keys(models)) });
        }
      }
    }
    const budgets: Record<string, unknown> = isRecord(cfg.budgets) ? cfg.budgets : {};
    for (const [name, budget] of Object.entries(budgets)) {
      if (!isRecord(budget)) continue;
      const scope: Record<string, unknown> = isRecord(budget.scope) ? budget.scope : {};
      const set = ['group', 'provider', 'key', 'member'].filter((k) => scope[k] !== undefined);
      if (set.length > 1) ctx.addIssue({ code: 'custom', path: ['budgets', name, 'scope'], message: `set one of group, provider, key or member, not ${set.join(' and ')}` });
      if (scope.member !== undefined && cfg.team === undefined) {
        ctx.addIssue({ code: 'custom', path: ['budgets', name, 'scope', 'member'], message: 'a member scope needs team mode (a team section)' });
      }
      if (typeof scope.group === 'string' && !Object.hasOwn(models, scope.group)) {
        ctx.addIssue({ code: 'custom', path: ['budgets', name, 'scope', 'group'], message: unknownGroup(scope.group, Object.keys(models)) });
      }
      if (typeof scope.provider === 'string' && !Object.hasOwn(providers, scope.provider)) {
        const hint = closest(scope.provider, providerNames);
        ctx.addIssue({
          code: 'custom',
          path: ['budgets', name, 'scope', 'provider'],
          message: `unknown provider "${scope.provider}"${hint ? ` (did you mean "${hint}"?)` : ''}`,
        });
      }
      if (typeof budget.downgradeTo === 'string' && !Object.hasOwn(models, budget.downgradeTo)) {
        ctx.addIssue({ code: 'custom', path: ['budgets', name, 'downgradeTo'], message: unknownGroup(budget.downgradeTo, Object.keys(models)) });
      }
      // Without downgradeTo a downgrade goes to auto's simple tier, which must then be a group.
      const tiers: Record<string, unknown> = isRecord(auto.tiers) ? auto.tiers : {};
      if (budget.action === 'downgrade' && budget.downgradeTo === undefined && !(typeof tiers.simple === 'string' && Object.hasOwn(models, tiers.simple))) {
        ctx.addIssue({
          code: 'custom',
          path: ['budgets', name, 'downgradeTo'],
          message: `missing: name the group to downgrade to (routing.auto.tiers.simple${typeof tiers.simple === 'string' ? `, "${tiers.simple}",` : ''} is not a configured group)`,
        });
      }
    }
    if (typeof cfg.savingsBaseline === 'string' && !Object.hasOwn(models, cfg.savingsBaseline)) {
      ctx.addIssue({ code: 'custom', path: ['savingsBaseline'], message: unknownGroup(cfg.savingsBaseline, Object.keys(models)) });
    }
  },
  // Runs even when other fields are invalid, but only on an object: there is nothing to cross-check otherwise.
  { when: (payload) => isRecord(payload.value) },
);

export type ShepherdConfig = z.infer<typeof ConfigSchema>;
export type ShepherdConfigInput = z.input<typeof ConfigSchema>;

/** JSON Schema (draft 2020-12) for the config file, derived from the zod schema. */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ConfigObject, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, title: 'Shepherd config' };
}

/**
 * Names that resolve in two ways: exact names of different groups that normalise to the same name,
 * and equally specific alias patterns of different groups that can match the same name.
 */
function checkNames(models: Record<string, unknown>, ctx: z.core.$RefinementCtx): void {
  const patterns: { pattern: string; group: string; path: (string | number)[] }[] = [];
  const normalised = new Map<string, { name: string; group: string }>();
  for (const [group, model] of Object.entries(models)) {
    const aliases = isRecord(model) && Array.isArray(model.aliases) ? model.aliases : [];
    const exact: { name: string; path: (string | number)[] }[] = [{ name: group, path: ['models', group] }];
    aliases.forEach((alias, i) => {
      if (typeof alias !== 'string') return;
      if (isPattern(alias)) patterns.push({ pattern: alias, group, path: ['models', group, 'aliases', i] });
      else exact.push({ name: alias, path: ['models', group, 'aliases', i] });
    });
    for (const e of exact) {
      const n = normaliseModelName(e.name);
      const owner = normalised.get(n);
      if (owner && owner.group !== group && owner.name.toLowerCase() !== e.name.toLowerCase()) {
        ctx.addIssue({
          code: 'custom',
          path: e.path,
          message: `"${e.name}" and "${owner.name}" (model group "${owner.group}") are the same name once normalised ("${n}"); rename one`,
        });
      } else if (!owner) normalised.set(n, { name: e.name, group });
    }
  }
  for (const { a, b } of patternClashes(patterns)) {
    if (a.pattern.toLowerCase() === b.pattern.toLowerCase()) continue; // the same alias twice: reported above
    const pathB = patterns.find((p) => p === b || (p.pattern === b.pattern && p.group === b.group))?.path ?? ['models', b.group, 'aliases'];
    ctx.addIssue({
      code: 'custom',
      path: pathB,
      message: `alias pattern "${b.pattern}" (model group "${b.group}") clashes with "${a.pattern}" (model group "${a.group}"): a name can match both and neither is more specific; make one of them more specific`,
    });
  }
}

function unknownGroup(name: string, groups: string[]): string {
  const hint = closest(name, groups);
  return `unknown model group "${name}"${hint ? ` (did you mean "${hint}"?)` : ''}`;
}
