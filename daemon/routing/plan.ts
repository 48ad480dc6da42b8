// Decides, for one request, which deployments to try and in what order, with the reason for each.
// Pure: it reads the request, the catalog and a health snapshot; the clock sits behind the health
// view and randomness and strategy cursors are passed in, so every decision is unit-tested.
//
// Order of a plan: the group's eligible deployments in its strategy's order, then each fallback
// group's (transitively, each group once). A deployment is eligible when it has its key, its circuit
// is not open and its rate limits admit the request. With none eligible: when some are only at their
// rate limit, the request may wait (`saturated`); when every one is ejected, the panic rule tries the
// ejected ones anyway, soonest-to-recover first, rather than failing every request.
import type { Strategy, Tier } from '../../shared/routing-config';
import { TIERS } from '../../shared/routing-config';
import type { HealthView } from './health-view';
import type { ChatBody, Operation } from '../core/chat';
import { deploymentServes, groupServes, resolveModel, type Catalog, type Deployment, type ModelGroup } from './catalog';
import { describeResolution } from './names';
import { classify, messageText } from './classify';
import type { DistanceTable } from './regions';
import { order, type RoutingCursors } from './strategies';
import { AFFINITY_REASON } from './affinity';
import { cascadeSettings, cascadeSteps, type CascadePlan } from './cascade/chain';

export interface PlannedAttempt {
  deployment: Deployment;
  /** The group this deployment serves (differs from the plan's group for fallbacks). */
  group: string;
  reason: string;
  /** Put back by the panic rule: its circuit is open, and it is tried anyway. */
  panic?: true;
}

export interface SkippedDeployment {
  deployment: Deployment;
  reason: string;
  /** Left out because the provider rejected its key (401/403). */
  keyRejected?: true;
}

export interface Plan {
  requestedModel: string;
  group: ModelGroup;
  /** How the requested name found its group, e.g. `pattern claude-opus-* -> claude-opus-4.5`. */
  resolved: string;
  strategy: Strategy;
  /** Set when the client asked for `auto` (or `auto:<profile>`). */
  auto?: { tier: Tier; profile?: string; score: number; reasons: string[] };
  /** Set when `auto` cascades (daemon/routing/cascade/): this plan is for its first step's group. */
  cascade?: CascadePlan;
  attempts: PlannedAttempt[];
  /** Deployments left out, with why (missing key, circuit open, rate limited, over budget). */
  skipped: SkippedDeployment[];
  /** True when every deployment was ejected and the panic rule put them back. */
  panic: boolean;
  /** Tokens this request is expected to use (prompt estimate + max output), for rate limits. */
  estimatedTokens: number;
}

export type PlanResult =
  | { ok: true; plan: Plan }
  | { ok: false; reason: 'unknown_model'; message: string }
  /** The group exists but serves another operation (a chat group asked for embeddings, say). */
  | { ok: false; reason: 'wrong_operation'; group: string; message: string }
  | { ok: false; reason: 'no_deployment'; group: string; message: string; skipped: SkippedDeployment[]; keysRejected: boolean }
  | { ok: false; reason: 'saturated'; group: string; message: string; retryAfterMs: number; skipped: SkippedDeployment[] };

export interface PlanContext {
  catalog: Catalog;
  health: HealthView;
  cursors: RoutingCursors;
  distances: DistanceTable;
  random: () => number;
  /** The deployment that served this conversation last (cache affinity, affinity.ts): first when eligible. */
  affinity?: string;
}

/** Output tokens assumed for the rate-limit estimate when a request sets no max. */
const DEFAULT_OUTPUT_ESTIMATE = 256;

export function planRoute(ctx: PlanContext, requestedModel: string, body: ChatBody, operation: Operation = 'chat'): PlanResult {
  const chosen = chooseGroup(ctx.catalog, requestedModel, body);
  if (!chosen.ok) return chosen;
  const { group, auto, resolved, cascade } = chosen;
  if (!groupServes(group, operation)) return wrongOperation(ctx.catalog, group, operation);
  const estimatedTokens = needsTokenEstimate(ctx.catalog, group)
    ? (auto?.estimatedPromptTokens ?? Math.ceil(messageText(body.messages).length / 4)) + outputEstimate(body)
    : 0;

  const attempts: PlannedAttempt[] = [];
  const skipped: SkippedDeployment[] = [];
  const ejected: { deployment: Deployment; group: string; retryAt: number }[] = [];
  const waits: number[] = [];
  // A deployment listed in a group and in its fallback is one upstream: consider it once.
  const considered = new Set<string>();
  for (const g of withFallbacks(ctx.catalog, group)) {
    const eligible: Deployment[] = [];
    for (const d of g.deployments) {
      if (considered.has(d.id)) continue;
      considered.add(d.id);
      if (!deploymentServes(d, g.kind, operation)) {
        skipped.push({ deployment: d, reason: `does not serve ${operation}` });
        continue;
      }
      if (d.unavailable !== undefined) {
        skipped.push({ deployment: d, reason: d.unavailable });
        continue;
      }
      const h = ctx.health.get(d.id);
      if (h.keyRejected !== undefined) {
        skipped.push({ deployment: d, reason: `its provider key was rejected (${h.keyRejected})`, keyRejected: true });
        continue;
      }
      if (h.circuit === 'open') {
        skipped.push({ deployment: d, reason: `circuit open (${h.lastError ?? 'failing'})` });
        ejected.push({ deployment: d, group: g.name, retryAt: h.circuitRetryAt ?? 0 });
        continue;
      }
      const wait = ctx.health.rateWaitMs(d.id, estimatedTokens);
      if (wait > 0) {
        skipped.push({ deployment: d, reason: `at its rate limit for another ${wait} ms` });
        waits.push(wait);
        continue;
      }
      eligible.push(d);
    }
    const ordered = order(g.strategy, eligible, {
      group: g.name,
      health: ctx.health,
      routing: ctx.catalog.routing,
      distances: ctx.distances,
      cursors: ctx.cursors,
      random: ctx.random,
    });
    // Cache affinity: the conversation's last deployment first, while eligible (healthy, circuit
    // closed, within its rate limits); the strategy's order follows for failover.
    const sticky = ctx.affinity === undefined ? -1 : ordered.findIndex((o) => o.deployment.id === ctx.affinity);
    if (sticky > 0) ordered.unshift(...ordered.splice(sticky, 1));
    if (sticky >= 0) ordered[0] = { ...ordered[0], reason: AFFINITY_REASON };
    for (const o of ordered) {
      attempts.push({ deployment: o.deployment, group: g.name, reason: g === group ? o.reason : `fallback group ${g.name}: ${o.reason}` });
    }
  }

  let panic = false;
  if (attempts.length === 0) {
    if (waits.length > 0) {
      const retryAfterMs = Math.min(...waits);
      return {
        ok: false,
        reason: 'saturated',
        group: group.name,
        message: `every deployment of "${group.name}" is at its rate limit; capacity frees in ${retryAfterMs} ms`,
        retryAfterMs,
        skipped,
      };
    }
    if (ejected.length === 0) {
      return {
        ok: false,
        reason: 'no_deployment',
        group: group.name,
        message: `model group "${group.name}" has no usable deployment: ${skipped.map((s) => `${s.deployment.id}: ${s.reason}`).join('; ')}`,
        skipped,
        // Every deployment that has a key had it rejected: an authentication problem, not an outage.
        keysRejected: skipped.some((s) => s.keyRejected) && skipped.every((s) => s.keyRejected || s.deployment.unavailable !== undefined),
      };
    }
    panic = true;
    ejected.sort((a, b) => a.retryAt - b.retryAt);
    for (const e of ejected) {
      attempts.push({ deployment: e.deployment, group: e.group, reason: 'panic: every deployment is ejected; trying it anyway', panic: true });
    }
  }
  return {
    ok: true,
    plan: {
      requestedModel,
      group,
      resolved,
      strategy: group.strategy,
      ...(auto ? { auto: { tier: auto.tier, ...(auto.profile ? { profile: auto.profile } : {}), score: auto.score, reasons: auto.reasons } } : {}),
      ...(cascade ? { cascade } : {}),
      attempts,
      skipped,
      panic,
      estimatedTokens,
    },
  };
}

type Chosen =
  | { ok: true; group: ModelGroup; resolved: string; auto?: { tier: Tier; profile?: string; score: number; reasons: string[]; estimatedPromptTokens: number }; cascade?: CascadePlan }
  | { ok: false; reason: 'unknown_model'; message: string };

/** A configured group by name, alias, normalised name or pattern (names.ts); otherwise `auto` / `auto:<profile>` through the classifier. */
function chooseGroup(catalog: Catalog, requestedModel: string, body: ChatBody): Chosen {
  const resolution = resolveModel(catalog, requestedModel);
  if (resolution !== undefined && resolution.how !== 'auto') {
    const direct = catalog.groups.get(resolution.group);
    if (direct) return { ok: true, group: direct, resolved: describeResolution(requestedModel, resolution, direct.name) };
  }
  if (resolution === undefined) {
    const known = [...catalog.groups.keys()];
    return {
      ok: false,
      reason: 'unknown_model',
      message: `model "${requestedModel}" is not configured; available: ${known.length ? [...known, 'auto'].join(', ') : '(none)'} (an alias, an alias pattern such as "claude-opus-*" or routing.unknownModel can take other names)`,
    };
  }
  const autoCfg = catalog.routing.auto;
  const profileName = resolution.how === 'auto' ? resolution.profile : undefined;
  const configured = profileName !== undefined && Object.hasOwn(autoCfg.profiles, profileName) ? autoCfg.profiles[profileName] : undefined;
  // `auto:cascade` is built in: the base tiers, cascading, unless a profile takes the name.
  const profile = profileName === undefined || (profileName === 'cascade' && configured === undefined) ? {} : configured;
  if (profile === undefined) {
    const names = Object.keys(autoCfg.profiles);
    return {
      ok: false,
      reason: 'unknown_model',
      message: `auto profile "${profileName}" is not configured (routing.auto.profiles); available: ${names.length ? names.map((n) => `auto:${n}`).join(', ') : '(none)'}`,
    };
  }
  const c = classify(body);
  const reasons = [...c.reasons];
  const groupFor = (tier: Tier) => profile[tier] ?? autoCfg.tiers[tier];
  const cascadeCfg = cascadeSettings(autoCfg, profileName, configured);
  const cascade = cascadeCfg ? cascadeSteps(cascadeCfg, groupFor, (name) => catalog.groups.has(name), c.tier) : undefined;
  if (cascade) {
    const group = catalog.groups.get(cascade.steps[0].group) as ModelGroup;
    reasons.push(cascade.reason);
    return {
      ok: true,
      group,
      resolved: describeResolution(requestedModel, resolution, group.name),
      auto: { tier: c.tier, ...(profileName ? { profile: profileName } : {}), score: c.score, reasons, estimatedPromptTokens: c.estimatedPromptTokens },
      cascade,
    };
  }
  // The tier's own group, else the nearest configured tier above it, else below it.
  const at = TIERS.indexOf(c.tier);
  const search = [...TIERS.slice(at), ...TIERS.slice(0, at).reverse()];
  for (const tier of search) {
    const group = catalog.groups.get(groupFor(tier));
    if (!group) continue;
    if (tier !== c.tier) reasons.push(`tier ${c.tier}'s group "${groupFor(c.tier)}" is not configured; using tier ${tier}`);
    return {
      ok: true,
      group,
      resolved: describeResolution(requestedModel, resolution, group.name),
      auto: { tier: c.tier, ...(profileName ? { profile: profileName } : {}), score: c.score, reasons, estimatedPromptTokens: c.estimatedPromptTokens },
    };
  }
  return {
    ok: false,
    reason: 'unknown_model',
    message: `"${requestedModel}" needs the groups named in routing.auto.tiers (${TIERS.map(groupFor).join(', ')}); none is configured`,
  };
}

const OPERATION_NAMES: Record<Operation, string> = {
  chat: 'chat (/v1/chat/completions)',
  embeddings: 'embeddings (/v1/embeddings)',
  completions: 'text completions (/v1/completions)',
};

/** A 400's words: what the group serves, and which groups serve what was asked. */
function wrongOperation(catalog: Catalog, group: ModelGroup, operation: Operation): PlanResult {
  const able = [...catalog.groups.values()].filter((g) => groupServes(g, operation)).map((g) => g.name);
  const what = group.kind === 'embedding' ? 'is an embedding model group' : operation === 'completions' ? 'has no deployment that serves text completions (set `completions: true` on a provider or deployment that does)' : 'is a chat model group';
  return {
    ok: false,
    reason: 'wrong_operation',
    group: group.name,
    message: `model "${group.name}" ${what}; groups that serve ${OPERATION_NAMES[operation]}: ${able.length ? able.join(', ') : '(none configured)'}`,
  };
}

function withFallbacks(catalog: Catalog, first: ModelGroup): ModelGroup[] {
  const out: ModelGroup[] = [];
  const seen = new Set<string>();
  const visit = (g: ModelGroup) => {
    if (seen.has(g.name)) return;
    seen.add(g.name);
    out.push(g);
  };
  visit(first);
  // Breadth first: the group's own fallbacks in order, then theirs.
  for (let i = 0; i < out.length; i++) {
    for (const name of out[i].fallbacks) {
      const g = catalog.groups.get(name);
      if (g) visit(g);
    }
  }
  return out;
}

function needsTokenEstimate(catalog: Catalog, group: ModelGroup): boolean {
  return withFallbacks(catalog, group).some((g) => g.deployments.some((d) => d.tpm !== undefined));
}

function outputEstimate(body: ChatBody): number {
  const max = body.max_completion_tokens ?? body.max_tokens;
  return typeof max === 'number' && Number.isFinite(max) && max > 0 ? max : DEFAULT_OUTPUT_ESTIMATE;
}
