// The no-keys default: the same model groups, names, aliases and prices as the user's config, served
// by two simulated upstreams on loopback instead of real providers. Pure.
import type { ProviderConfig, ShepherdConfig } from '../../shared/config';

export interface SandboxEndpoint {
  provider: string; // provider name, e.g. "sandbox-us"
  region: string;
  url: string; // base URL of a running sandbox
}

/** Two of them, so failover between deployments can be tried without any key. */
export const SANDBOX_ENDPOINTS = [
  { provider: 'sandbox-us', region: 'us-east' },
  { provider: 'sandbox-eu', region: 'eu-west' },
] as const;

export function sandboxOverlay(config: ShepherdConfig, endpoints: SandboxEndpoint[]): ShepherdConfig {
  const providers: Record<string, ProviderConfig> = {};
  for (const e of endpoints) providers[e.provider] = { type: 'openai-compatible', baseUrl: e.url, sandbox: true };
  const models: ShepherdConfig['models'] = {};
  for (const [name, group] of Object.entries(config.models)) {
    // A group whose real deployments serve text completions keeps that in the sandbox.
    const completions = group.deployments.some((d) => {
      const p = config.providers[d.provider];
      return p?.type === 'openai-compatible' && (d.completions ?? p.completions ?? p.completionsPath !== undefined);
    });
    // A group served natively by Anthropic gets the sandbox's Anthropic wire, so Anthropic clients
    // (Claude Code) see the same passthrough they would against the real API.
    const anthropic = config.providers[group.deployments[0]?.provider]?.type === 'anthropic';
    if (anthropic) for (const e of endpoints) providers[`${e.provider}-anthropic`] ??= { type: 'anthropic', baseUrl: e.url, sandbox: true };
    models[name] = {
      ...group,
      deployments: endpoints.map((e) => ({
        provider: anthropic ? `${e.provider}-anthropic` : e.provider,
        model: name,
        region: e.region,
        ...(completions ? { completions: true } : {}),
      })),
    };
  }
  return { ...config, providers, models };
}
