// The catalog: what clients can ask for (model groups and aliases) and what serves it
// (deployments), resolved from a validated config. Pure: keys come in as a lookup result.
import type { Price, ProviderConfig, ShepherdConfig } from '../../shared/config';
import type { BreakerConfig, HedgeConfig, RetryConfig, RoutingConfig, Strategy } from '../../shared/routing-config';
import type { Operation } from '../core/chat';
import type { UpstreamTarget } from '../core/target';
import { isPattern } from '../../shared/model-names';
import { buildNameIndex, resolveName, type NameIndex, type Resolution } from './names';

export interface Deployment {
  /** Stable id used in headers, the ledger and status: provider/model, plus @region when set. */
  id: string;
  group: string;
  providerName: string;
  provider: ProviderConfig;
  upstreamModel: string;
  region: string | undefined;
  price: Price | undefined;
  /** Undefined when the provider's key is missing; such a deployment is skipped. */
  apiKey: string | undefined;
  /** Why this deployment cannot be used right now, if it cannot. */
  unavailable: string | undefined;
  sandbox: boolean;
  /** Position in the group's config list. */
  index: number;
  /** Lower is tried first by the priority strategy; defaults to the config position. */
  priority: number;
  weight: number;
  rpm: number | undefined;
  tpm: number | undefined;
  burst: number | undefined;
  /** The global breaker settings with the group's and then the deployment's overrides applied. */
  breaker: BreakerConfig;
  /** Serves POST /completions (text and fill-in-the-middle): an openai-compatible provider that says so. */
  completions: boolean;
  /** Anthropic: add cache_control breakpoints to translated OpenAI requests that set none (group over provider). */
  autoCacheBreakpoints: boolean;
}

export interface ModelGroup {
  name: string;
  aliases: string[];
  /** chat (also completions, where deployments serve them) or embedding. */
  kind: 'chat' | 'embedding';
  price: Price | undefined;
  deployments: Deployment[];
  strategy: Strategy;
  /** Groups tried in order when every deployment of this one failed. */
  fallbacks: string[];
  /** The global retry settings with the group's overrides applied. */
  retry: RetryConfig;
  /** The global hedging settings with the group's overrides applied. */
  hedge: HedgeConfig;
}

export interface Catalog {
  groups: Map<string, ModelGroup>;
  /** Lower-cased group names and aliases -> group name. */
  names: Map<string, string>;
  /** Exact, normalised and pattern lookups, and the rule for unknown names (names.ts). */
  index: NameIndex;
  routing: RoutingConfig;
}

export function buildCatalog(config: ShepherdConfig, keyFor: (providerName: string) => string | undefined): Catalog {
  const groups = new Map<string, ModelGroup>();
  const names = new Map<string, string>();
  for (const [name, model] of Object.entries(config.models)) {
    const deployments = model.deployments.map((d, index): Deployment => {
      const provider = config.providers[d.provider];
      const apiKey = keyFor(d.provider);
      const needsKey = !provider.sandbox && (provider.apiKey !== undefined || provider.apiKeyEnv !== undefined);
      return {
        id: `${d.provider}/${d.model}${d.region ? `@${d.region}` : ''}`,
        group: name,
        providerName: d.provider,
        provider,
        upstreamModel: d.model,
        region: d.region,
        price: d.price ?? model.price,
        apiKey,
        unavailable: needsKey && !apiKey ? missingKeyReason(d.provider, provider) : undefined,
        sandbox: provider.sandbox === true,
        index,
        priority: d.priority ?? index,
        weight: d.weight ?? 1,
        rpm: d.rpm,
        tpm: d.tpm,
        burst: d.burst,
        breaker: { ...config.routing.breaker, ...model.breaker, ...d.breaker },
        completions: provider.type === 'openai-compatible' && (d.completions ?? provider.completions ?? provider.completionsPath !== undefined),
        autoCacheBreakpoints: model.autoCacheBreakpoints ?? provider.autoCacheBreakpoints ?? false,
      };
    });
    const aliases = model.aliases ?? [];
    groups.set(name, {
      name,
      aliases,
      kind: model.kind ?? 'chat',
      price: model.price,
      deployments,
      strategy: model.strategy ?? config.routing.strategy,
      fallbacks: model.fallbacks ?? [],
      retry: { ...config.routing.retry, ...model.retry },
      hedge: { ...config.routing.hedge, ...model.hedge },
    });
    names.set(name.toLowerCase(), name);
    for (const alias of aliases) if (!isPattern(alias)) names.set(alias.toLowerCase(), name);
  }
  const index = buildNameIndex([...groups.values()], config.routing.unknownModel);
  return { groups, names, index, routing: config.routing };
}

/** Where an attempt at this deployment goes, as the provider adapters see it. */
export function upstreamTarget(d: Deployment): UpstreamTarget {
  return {
    deploymentId: d.id,
    providerName: d.providerName,
    provider: d.provider,
    upstreamModel: d.upstreamModel,
    apiKey: d.apiKey,
    ...(d.autoCacheBreakpoints ? { autoCacheBreakpoints: true } : {}),
  };
}

/** The group a name means (exact, normalised, pattern, or the unknown-model rule); undefined for auto or nothing. */
export function resolveGroup(catalog: Catalog, requested: string): ModelGroup | undefined {
  const r = resolveModel(catalog, requested);
  return r === undefined || r.how === 'auto' ? undefined : catalog.groups.get(r.group);
}

export function resolveModel(catalog: Catalog, requested: string): Resolution | undefined {
  return resolveName(catalog.index, requested);
}

/** Whether this deployment (of a group of its kind) can serve `operation`. */
export function deploymentServes(d: Deployment, kind: ModelGroup['kind'], operation: Operation): boolean {
  switch (operation) {
    case 'chat':
      return kind === 'chat';
    case 'embeddings':
      return kind === 'embedding' && d.provider.type !== 'anthropic'; // Anthropic has no embeddings API
    case 'completions':
      return kind === 'chat' && d.completions;
  }
}

/** Whether any deployment of the group can serve `operation`. */
export function groupServes(g: ModelGroup, operation: Operation): boolean {
  return g.deployments.some((d) => deploymentServes(d, g.kind, operation));
}

/** Every name a client may send, for GET /v1/models and for "did you mean" hints. */
export function listModelNames(catalog: Catalog): { id: string; group: string; alias: boolean }[] {
  const out: { id: string; group: string; alias: boolean }[] = [];
  for (const group of catalog.groups.values()) {
    out.push({ id: group.name, group: group.name, alias: false });
    // Patterns are not names a client can pick from a list.
    for (const alias of group.aliases) if (!isPattern(alias)) out.push({ id: alias, group: group.name, alias: true });
  }
  return out;
}

function missingKeyReason(providerName: string, provider: ProviderConfig): string {
  return provider.apiKeyEnv
    ? `no API key: environment variable ${provider.apiKeyEnv} is not set (provider "${providerName}")`
    : `no API key for provider "${providerName}"`;
}
