// Scripted faults for the sandbox: their shapes (zod, so the HTTP control endpoint and setFaults
// validate the same way) and which rule applies to a request. Pure: the clock is injected.
import { z } from 'zod';

const StatusFault = z
  .object({
    type: z.literal('status'),
    status: z.number().int().min(400).max(599),
    retryAfterSeconds: z.number().int().nonnegative().optional(),
    retryAfterMs: z.number().nonnegative().optional(),
    message: z.string().optional(),
  })
  .strict();

export const FaultSchema = z.discriminatedUnion('type', [
  StatusFault,
  z.object({ type: z.literal('hang') }).strict(), // accept, never answer
  z.object({ type: z.literal('reset') }).strict(), // destroy the socket before any response byte
  z.object({ type: z.literal('reset-mid-stream'), afterChunks: z.number().int().nonnegative() }).strict(),
  z.object({ type: z.literal('refuse') }).strict(), // stop listening: ECONNREFUSED
]);
export type Fault = z.infer<typeof FaultSchema>;

const RuleObject = z
  .object({
    fault: FaultSchema,
    count: z.number().int().positive().optional().describe('applies to the next N matching requests'),
    model: z.string().min(1).optional().describe('only requests whose body.model equals it'),
    durationMs: z.number().positive().optional().describe('the rule expires this long after it is set'),
  })
  .strict();
export type FaultRule = z.infer<typeof RuleObject>;

// 'refuse' stops the whole listener, so no request is ever seen to count or match by model.
const RuleSchema = RuleObject.superRefine((rule, ctx) => {
  if (rule.fault.type !== 'refuse') return;
  for (const field of ['count', 'model'] as const) {
    if (rule[field] !== undefined) {
      ctx.addIssue({ code: 'custom', path: [field], message: `a refuse rule closes the whole listener; "${field}" cannot apply to it` });
    }
  }
});

/** Over HTTP nobody could clear a refusal (the control endpoint is refused too), so it must expire. */
const HttpRuleSchema = RuleSchema.superRefine((rule, ctx) => {
  if (rule.fault.type === 'refuse' && rule.durationMs === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['durationMs'],
      message: 'a refuse rule set over HTTP needs durationMs: the control endpoint cannot be reached to clear it',
    });
  }
});

const RulesSchema = z.array(RuleSchema);
const FaultsBodySchema = z.object({ rules: z.array(HttpRuleSchema) }).strict();

export type ParsedRules = { ok: true; rules: FaultRule[] } | { ok: false; message: string };

/** Validates rules given to setFaults. */
export function parseRules(rules: unknown): ParsedRules {
  const parsed = RulesSchema.safeParse(rules);
  return parsed.success ? { ok: true, rules: parsed.data } : { ok: false, message: describe(parsed.error.issues, 'rules') };
}

/** Validates the body of PUT /_sandbox/faults: {"rules":[...]}. */
export function parseFaultsBody(body: unknown): ParsedRules {
  const parsed = FaultsBodySchema.safeParse(body);
  return parsed.success ? { ok: true, rules: parsed.data.rules } : { ok: false, message: describe(parsed.error.issues, '') };
}

// Each problem names its field, e.g. "rules.0.fault.status: Too small: expected number to be >=400".
function describe(issues: readonly { path: PropertyKey[]; message: string }[], root: string): string {
  const text = issues.map((issue) => `${[root, ...issue.path.map(String)].filter(Boolean).join('.') || '(body)'}: ${issue.message}`);
  return `invalid fault rules: ${text.join('; ')}`;
}

interface ActiveRule {
  rule: FaultRule;
  remaining: number; // Infinity when the rule has no count
  expiresAt: number; // Infinity when the rule has no durationMs
}

/** The rules in force; `take` picks the fault for one request. */
export class FaultBook {
  private rules: ActiveRule[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** Replaces the rules; durations count from now. */
  set(rules: readonly FaultRule[]): void {
    const t = this.now();
    this.rules = rules.map((rule) => ({
      rule,
      remaining: rule.count ?? Infinity,
      expiresAt: rule.durationMs !== undefined ? t + rule.durationMs : Infinity,
    }));
  }

  clear(): void {
    this.rules = [];
  }

  /**
   * The fault for a request whose body named `model` (undefined for requests without one), or
   * undefined to answer normally. The first live matching rule wins and uses up one of its count.
   */
  take(model: string | undefined): Fault | undefined {
    if (this.rules.length === 0) return undefined; // the benchmark's hot path
    const t = this.now();
    for (let i = 0; i < this.rules.length; i++) {
      const r = this.rules[i];
      if (r.expiresAt <= t) {
        this.rules.splice(i--, 1);
        continue;
      }
      if (r.rule.fault.type === 'refuse') continue; // a listener state, not a per-request answer
      if (r.rule.model !== undefined && r.rule.model !== model) continue;
      if (--r.remaining <= 0) this.rules.splice(i, 1);
      return r.rule.fault;
    }
    return undefined;
  }

  /** While a refuse rule is in force: when the refusal ends (Infinity: until cleared). Else undefined. */
  refusingUntil(): number | undefined {
    const t = this.now();
    let until: number | undefined;
    for (const r of this.rules) {
      if (r.rule.fault.type === 'refuse' && r.expiresAt > t) until = Math.max(until ?? 0, r.expiresAt);
    }
    return until;
  }
}
