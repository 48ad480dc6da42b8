// Which groups a cascade tries, in order: the chain's tiers (routing.auto.cascade.chain, or a
// profile's), each through the profile's tier map, from the step the classifier points at. Pure.
import { TIERS, type AutoConfig, type AutoProfile, type CascadeConfig, type Tier } from '../../../shared/routing-config';

export interface CascadeStep {
  tier: Tier;
  group: string;
}

export interface CascadePlan {
  /** The groups to try, cheapest first, from where this request starts; the last one's answer is kept as it is. */
  steps: CascadeStep[];
  /** The whole chain, from its first tier (for the plan endpoint and the savings baseline). */
  chain: CascadeStep[];
  stream: CascadeConfig['stream'];
  checks: CascadeConfig['checks'];
  /** Why the cascade starts where it does. */
  reason: string;
}

/** The cascade settings in force for `auto` or `auto:<profile>`, or undefined when it does not cascade. */
export function cascadeSettings(auto: AutoConfig, profileName: string | undefined, profile: AutoProfile | undefined): CascadeConfig | undefined {
  const base = auto.cascade;
  if (profileName === undefined) return base.enabled ? base : undefined;
  // `auto:cascade` needs no profile of its own: the base tiers with routing.auto.cascade's settings.
  if (profile === undefined) return profileName === 'cascade' ? { ...base, enabled: true } : undefined;
  const own = profile.cascade;
  if (own === undefined || own === false) return undefined;
  if (own === true) return { ...base, enabled: true };
  if (own.enabled === false) return undefined;
  return {
    enabled: true,
    chain: own.chain ?? base.chain,
    classifierStart: own.classifierStart ?? base.classifierStart,
    stream: own.stream ?? base.stream,
    checks: { ...base.checks, ...own.checks },
  };
}

/**
 * The cascade's steps: the chain's tiers whose groups are configured (a group named twice in a row
 * once), from the highest step whose tier is not above the classifier's (with classifierStart).
 */
export function cascadeSteps(cfg: CascadeConfig, groupFor: (tier: Tier) => string, hasGroup: (name: string) => boolean, classified: Tier): CascadePlan | undefined {
  const chain: CascadeStep[] = [];
  for (const tier of cfg.chain) {
    const group = groupFor(tier);
    if (!hasGroup(group) || chain.at(-1)?.group === group) continue;
    chain.push({ tier, group });
  }
  if (chain.length === 0) return undefined;
  let start = 0;
  if (cfg.classifierStart) {
    const rank = TIERS.indexOf(classified);
    for (let i = 0; i < chain.length; i++) if (TIERS.indexOf(chain[i].tier) <= rank) start = i;
  }
  const steps = chain.slice(start);
  const path = chain.map((s) => s.group).join(' -> ');
  const reason =
    start === 0
      ? `cascade ${path}: starts at ${steps[0].group}${steps.length > 1 ? ', escalates when a check fails' : ''}`
      : `cascade ${path}: the classifier's tier ${classified} starts it at ${steps[0].group}${steps.length > 1 ? ', escalates when a check fails' : ' (the last step: no checks)'}`;
  return { steps, chain, stream: cfg.stream, checks: cfg.checks, reason };
}
