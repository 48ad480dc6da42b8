// What a model group can take and do, as clients see it: the config's optional contextWindow,
// maxOutputTokens and capabilities, folded over the group's deployments. Failover may land on any
// deployment, so a group promises only what all of them do: the smallest limits, and a capability
// only when every deployment has it. Pure.
import type { ModelGroupConfig } from '../../shared/config';
import type { GroupSnapshot } from '../../shared/protocol';
import { TIERS, type AutoConfig } from '../../shared/routing-config';

export type ModelInfo = Pick<GroupSnapshot, 'contextWindow' | 'maxOutputTokens' | 'capabilities'>;

export function groupModelInfo(group: ModelGroupConfig): ModelInfo {
  const limit = (field: 'contextWindow' | 'maxOutputTokens'): number | undefined => {
    const values = group.deployments.map((d) => d[field] ?? group[field]).filter((v): v is number => v !== undefined);
    return values.length > 0 ? Math.min(...values) : undefined;
  };
  // false as soon as one deployment lacks it; unknown (absent) when some say nothing and none says no.
  const capability = (field: 'tools' | 'images'): boolean | undefined => {
    const values = group.deployments.map((d) => d.capabilities?.[field] ?? group.capabilities?.[field]);
    if (values.includes(false)) return false;
    return values.every((v) => v === true) ? true : undefined;
  };
  const contextWindow = limit('contextWindow');
  const maxOutputTokens = limit('maxOutputTokens');
  const tools = capability('tools');
  const images = capability('images');
  const capabilities = { ...(tools !== undefined ? { tools } : {}), ...(images !== undefined ? { images } : {}) };
  return {
    ...(contextWindow !== undefined ? { contextWindow } : {}),
    ...(maxOutputTokens !== undefined ? { maxOutputTokens } : {}),
    ...(Object.keys(capabilities).length > 0 ? { capabilities } : {}),
  };
}

/**
 * `auto` and every `auto:<profile>`, each with the group per tier (a profile falls back to `tiers`
 * for tiers it does not name), when at least one tier's group exists: as GET /v1/models lists them.
 */
export function autoModels(auto: AutoConfig, groups: ReadonlySet<string>): { name: string; tiers: Record<string, string> }[] {
  if (groups.has('auto') || !TIERS.some((t) => groups.has(auto.tiers[t]))) return [];
  const entries = [{ name: 'auto', tiers: { ...auto.tiers } }];
  for (const [profile, { cascade: _cascade, ...tiers }] of Object.entries(auto.profiles)) entries.push({ name: `auto:${profile}`, tiers: { ...auto.tiers, ...tiers } });
  // Built in: the base tiers, cascading (routing.auto.cascade), unless a profile takes the name.
  if (!Object.hasOwn(auto.profiles, 'cascade')) entries.push({ name: 'auto:cascade', tiers: { ...auto.tiers } });
  return entries;
}
