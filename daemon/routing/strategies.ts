// The strategies that order a group's eligible deployments, each with the reason for its choice.
// Pure apart from the cursors (round-robin position, weighted-round-robin credit), which the caller
// owns and passes in, and randomness, which is injected. Ties always fall back to priority order,
// so every ordering is deterministic for a given input.
import type { RoutingConfig, Strategy } from '../../shared/routing-config';
import type { HealthView } from './health-view';
import type { Deployment } from './catalog';
import type { DistanceTable } from './regions';

export interface Ordered {
  deployment: Deployment;
  reason: string;
}

/** Per-group state that strategies carry between requests. */
export class RoutingCursors {
  readonly roundRobin = new Map<string, number>();
  readonly weightCredit = new Map<string, Map<string, number>>();

  /** A copy for a dry run (POST /v1/shepherd/plan), so asking does not move anyone's turn. */
  clone(): RoutingCursors {
    const copy = new RoutingCursors();
    for (const [k, v] of this.roundRobin) copy.roundRobin.set(k, v);
    for (const [k, v] of this.weightCredit) copy.weightCredit.set(k, new Map(v));
    return copy;
  }
}

export interface StrategyContext {
  group: string;
  health: HealthView;
  routing: RoutingConfig;
  distances: DistanceTable;
  cursors: RoutingCursors;
  /** Uniform in [0, 1). */
  random: () => number;
}

export function order(strategy: Strategy, candidates: readonly Deployment[], ctx: StrategyContext): Ordered[] {
  const base = byPriority(candidates);
  if (base.length <= 1) return base.map((deployment) => ({ deployment, reason: `${strategy}: the only eligible deployment` }));
  switch (strategy) {
    case 'priority':
      return base.map((deployment, i) => ({ deployment, reason: i === 0 ? 'priority: first in order' : `priority: fallback ${i} of ${base.length - 1}` }));
    case 'round-robin':
      return roundRobin(base, ctx);
    case 'weighted':
      return weighted(base, ctx);
    case 'least-connections':
      return leastConnections(base, ctx);
    case 'latency':
      return explore(latency(base, ctx), ctx, 'latency');
    case 'cost':
      return cost(base);
    case 'adaptive':
      return explore(adaptive(base, ctx), ctx, 'adaptive');
    case 'geographic':
      return geographic(base, ctx);
  }
}

export function byPriority(candidates: readonly Deployment[]): Deployment[] {
  return [...candidates].sort((a, b) => a.priority - b.priority || a.index - b.index);
}

function roundRobin(base: Deployment[], ctx: StrategyContext): Ordered[] {
  const turn = ctx.cursors.roundRobin.get(ctx.group) ?? 0;
  ctx.cursors.roundRobin.set(ctx.group, (turn + 1) % 1_000_000_000);
  const start = turn % base.length;
  const rotated = [...base.slice(start), ...base.slice(0, start)];
  return rotated.map((deployment, i) => ({
    deployment,
    reason: i === 0 ? `round-robin: turn ${start + 1} of ${base.length}` : `round-robin: next in rotation (${i + 1} of ${base.length})`,
  }));
}

/**
 * Smooth weighted round robin: every candidate earns its weight in credit each turn, the richest
 * goes first and pays the total. Over any window the shares match the weights, without the bursts
 * of plain weighted rotation or the variance of weighted random.
 */
function weighted(base: Deployment[], ctx: StrategyContext): Ordered[] {
  let credit = ctx.cursors.weightCredit.get(ctx.group);
  // When the eligible set changes (an ejection, a recovery), start the credit afresh: credit earned
  // against another set would skew the shares of this one.
  if (!credit || credit.size !== base.length || base.some((d) => !credit!.has(d.id))) {
    credit = new Map(base.map((d) => [d.id, 0]));
    ctx.cursors.weightCredit.set(ctx.group, credit);
  }
  const total = base.reduce((sum, d) => sum + d.weight, 0);
  for (const d of base) credit.set(d.id, (credit.get(d.id) ?? 0) + d.weight);
  const ranked = [...base].sort((a, b) => (credit.get(b.id) ?? 0) - (credit.get(a.id) ?? 0) || a.priority - b.priority || a.index - b.index);
  credit.set(ranked[0].id, (credit.get(ranked[0].id) ?? 0) - total);
  return ranked.map((deployment, i) => ({
    deployment,
    reason: `weighted: weight ${deployment.weight} of ${total}${i === 0 ? ' (its turn)' : ''}`,
  }));
}

function leastConnections(base: Deployment[], ctx: StrategyContext): Ordered[] {
  const load = new Map(base.map((d) => [d.id, ctx.health.get(d.id).inflight]));
  return [...base]
    .sort((a, b) => (load.get(a.id) ?? 0) - (load.get(b.id) ?? 0))
    .map((deployment, i) => ({
      deployment,
      reason: `least-connections: ${load.get(deployment.id) ?? 0} in flight${i === 0 ? ' (fewest)' : ''}`,
    }));
}

/** Deployments with no latency sample yet go first: they must be measured before they can be judged. */
function latency(base: Deployment[], ctx: StrategyContext): Ordered[] {
  const ms = new Map(base.map((d) => [d.id, ctx.health.get(d.id).latencyMs]));
  return [...base]
    .sort((a, b) => (ms.get(a.id) ?? -1) - (ms.get(b.id) ?? -1))
    .map((deployment, i) => {
      const m = ms.get(deployment.id);
      return {
        deployment,
        reason: m === undefined ? 'latency: not measured yet' : `latency: ${Math.round(m)} ms EWMA${i === 0 ? ' (fastest)' : ''}`,
      };
    });
}

/** Blended price per 1M tokens, assuming three prompt tokens for each completion token. */
export function blendedPrice(d: Deployment): number | undefined {
  return d.price ? (3 * d.price.input + d.price.output) / 4 : undefined;
}

function cost(base: Deployment[]): Ordered[] {
  return [...base]
    .sort((a, b) => (blendedPrice(a) ?? Infinity) - (blendedPrice(b) ?? Infinity))
    .map((deployment, i) => {
      const p = blendedPrice(deployment);
      return {
        deployment,
        reason: p === undefined ? 'cost: no price configured' : `cost: $${p.toFixed(3)}/1M blended${i === 0 ? ' (cheapest)' : ''}`,
      };
    });
}

/**
 * Adaptive: a weighted sum of latency, load (in flight), error rate and cost, each scaled to 0..1
 * across the group (error rate is already a ratio); lowest score first. A deployment with no latency
 * sample scores 0 on latency, so new and recovered deployments get measured.
 */
function adaptive(base: Deployment[], ctx: StrategyContext): Ordered[] {
  const w = ctx.routing.adaptive;
  const rows = base.map((d) => {
    const h = ctx.health.get(d.id);
    return { d, latency: h.latencyMs, load: h.inflight, errors: h.errorRate, price: blendedPrice(d) };
  });
  const scale = (values: (number | undefined)[]) => {
    const known = values.filter((v): v is number => v !== undefined);
    const max = known.length ? Math.max(...known) : 0;
    const min = known.length ? Math.min(...known) : 0;
    return (v: number | undefined) => (v === undefined || max === min ? 0 : (v - min) / (max - min));
  };
  const sl = scale(rows.map((r) => r.latency));
  const sload = scale(rows.map((r) => r.load));
  const sc = scale(rows.map((r) => r.price));
  // An unpriced deployment counts as the most expensive, as the cost strategy puts it last.
  const costTerm = (price: number | undefined) => (price === undefined ? 1 : sc(price));
  const scored = rows.map((r) => ({
    ...r,
    score: w.latency * sl(r.latency) + w.load * sload(r.load) + w.errorRate * r.errors + w.cost * costTerm(r.price),
  }));
  scored.sort((a, b) => a.score - b.score);
  return scored.map((r) => ({
    deployment: r.d,
    reason:
      `adaptive: score ${r.score.toFixed(3)} (latency ${r.latency === undefined ? 'n/a' : `${Math.round(r.latency)} ms`}, ` +
      `${r.load} in flight, ${Math.round(r.errors * 100)}% errors, ${r.price === undefined ? 'no price' : `$${r.price.toFixed(2)}/1M`})`,
  }));
}

/** With probability `exploration`, a random other deployment goes first, so the order is re-measured. */
function explore(ordered: Ordered[], ctx: StrategyContext, name: string): Ordered[] {
  if (ordered.length < 2 || ctx.routing.exploration <= 0 || ctx.random() >= ctx.routing.exploration) return ordered;
  const pick = 1 + Math.floor(ctx.random() * (ordered.length - 1));
  const chosen = { ...ordered[pick], reason: `${name}: exploring (${ordered[pick].reason.replace(`${name}: `, '')})` };
  return [chosen, ...ordered.filter((_, i) => i !== pick)];
}

function geographic(base: Deployment[], ctx: StrategyContext): Ordered[] {
  const home = ctx.routing.region;
  if (!home) {
    return base.map((deployment) => ({ deployment, reason: 'geographic: routing.region is not set; priority order' }));
  }
  const dist = new Map(base.map((d) => [d.id, d.region ? ctx.distances(home, d.region) : undefined]));
  return [...base]
    .sort((a, b) => (dist.get(a.id) ?? Infinity) - (dist.get(b.id) ?? Infinity))
    .map((deployment) => {
      const d = dist.get(deployment.id);
      const region = deployment.region;
      return {
        deployment,
        reason:
          d === 0
            ? `geographic: in your region ${home}`
            : d !== undefined
              ? `geographic: ${region} is ${d} from ${home}`
              : `geographic: ${region ? `distance ${home} -> ${region} unknown` : 'no region'}; after known regions`,
      };
    });
}
