// Which group a model name means. Clients resolve names themselves before sending (Claude Code sends
// `claude-opus-5-5` for its default, `claude-haiku-4-5-20251001` for `haiku`), so a name is looked up
// in steps, first hit wins: the exact group name or alias (case-insensitive); the same after
// normalising both sides (shared/model-names.ts: dates, `-latest`, `[1m]`, 4-5 vs 4.5); alias
// patterns (`claude-opus-*`), the most specific first; and last routing.unknownModel's rule. Pure.
import { compareSpecificity, isPattern, normaliseModelName, patternMatches } from '../../shared/model-names';
import type { UnknownModelRule } from '../../shared/routing-config';

export interface NameIndex {
  /** Lower-cased group names and exact aliases -> group. */
  exact: Map<string, string>;
  /** Normalised names and exact aliases -> group (the first to claim a normalised form keeps it). */
  normalised: Map<string, string>;
  /** Alias patterns, most specific first. */
  patterns: { pattern: string; group: string }[];
  unknown: UnknownModelRule;
}

export type Resolution =
  | { how: 'exact'; group: string }
  | { how: 'normalised'; group: string; via: string }
  | { how: 'pattern'; group: string; via: string }
  | { how: 'unknown-rule'; group: string }
  | { how: 'auto'; profile?: string };

export function buildNameIndex(groups: { name: string; aliases: string[] }[], unknown: UnknownModelRule): NameIndex {
  const exact = new Map<string, string>();
  const normalised = new Map<string, string>();
  const patterns: { pattern: string; group: string }[] = [];
  for (const g of groups) exact.set(g.name.toLowerCase(), g.name);
  for (const g of groups) {
    for (const alias of g.aliases) {
      if (isPattern(alias)) patterns.push({ pattern: alias.toLowerCase(), group: g.name });
      else if (!exact.has(alias.toLowerCase())) exact.set(alias.toLowerCase(), g.name);
    }
  }
  for (const [name, group] of exact) {
    const n = normaliseModelName(name);
    if (!normalised.has(n)) normalised.set(n, group);
  }
  // Most specific first; a stable sort keeps config order among equals (the config check refuses
  // equally specific patterns of different groups that overlap).
  patterns.sort((a, b) => compareSpecificity(b.pattern, a.pattern));
  return { exact, normalised, patterns, unknown };
}

/** The group a requested name resolves to, or undefined when nothing (not even the unknown rule) takes it. */
export function resolveName(index: NameIndex, requested: string): Resolution | undefined {
  const lower = requested.toLowerCase();
  const exact = index.exact.get(lower);
  if (exact !== undefined) return { how: 'exact', group: exact };
  const auto = /^auto(?::(.+))?$/.exec(lower);
  if (auto) return auto[1] === undefined ? { how: 'auto' } : { how: 'auto', profile: auto[1] };
  const n = normaliseModelName(requested);
  const norm = index.normalised.get(n);
  if (norm !== undefined) return { how: 'normalised', group: norm, via: n };
  // The raw name first (a pattern may rely on a date suffix), then the normalised one.
  const bare = lower.replace(/\[[^\]]*\]$/, '');
  for (const p of index.patterns) {
    if (patternMatches(p.pattern, bare) || patternMatches(p.pattern, n)) return { how: 'pattern', group: p.group, via: p.pattern };
  }
  if (index.unknown.action === 'group' && index.unknown.group !== undefined) return { how: 'unknown-rule', group: index.unknown.group };
  if (index.unknown.action === 'auto') return { how: 'auto' };
  return undefined;
}

/** One line for the x-shepherd-resolved header and the plan endpoint, e.g. `pattern claude-opus-* -> claude-opus-4.5`. */
export function describeResolution(requested: string, r: Resolution, group: string): string {
  switch (r.how) {
    case 'exact':
      return requested === group ? `exact ${group}` : `alias ${requested} -> ${group}`;
    case 'normalised':
      return `normalised ${r.via} -> ${group}`;
    case 'pattern':
      return `pattern ${r.via} -> ${group}`;
    case 'unknown-rule':
      return `unknown model, routing.unknownModel -> ${group}`;
    case 'auto':
      return requested.toLowerCase().startsWith('auto') ? `auto -> ${group}` : `unknown model, routing.unknownModel auto -> ${group}`;
  }
}
