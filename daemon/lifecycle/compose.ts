// Turns the config file into the effective config snapshot requests are served with: keys handed over
// by the extension (memory only, never written anywhere) in place of the file's, and the sandbox twin
// when no deployment can reach a real upstream (a provider that needs no key, like Ollama, can). Owns the upstream pools and the sandboxes it starts.
import type { ShepherdConfig } from '../../shared/config';
import { hostname, userInfo } from 'node:os';
import { resolveApiKey } from '../config/load';
import { keyLabel } from '../http/guard';
import { SANDBOX_ENDPOINTS, sandboxOverlay } from '../config/sandbox-overlay';
import type { ConfigSnapshot } from '../config/snapshot';
import { buildCatalog } from '../routing/catalog';
import { distanceTable } from '../routing/regions';
import { startSandbox, type Sandbox } from '../sandbox/server';
import { Upstreams } from '../upstream/pool';

export class Composer {
  readonly upstreams = new Upstreams();
  private readonly sandboxes: Sandbox[] = [];
  private readonly memoryKeys = new Map<string, string>();
  /** The providers the user configured (the sandbox overlay replaces them in the effective config). */
  configuredProviders: string[] = [];
  /** Why the sandbox serves, for the start-up line; undefined when real providers do. */
  sandboxReason: string | undefined;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly forceSandbox: boolean,
  ) {}

  /** Sets (or with null, forgets) a key handed over for `provider`; false if no such provider is configured. */
  setKey(provider: string, key: string | null): boolean {
    if (!this.configuredProviders.includes(provider)) return false;
    if (key === null) this.memoryKeys.delete(provider);
    else this.memoryKeys.set(provider, key);
    return true;
  }

  /** The embedded sandbox upstreams while the sandbox serves (none otherwise). */
  sandboxUpstreams(): { provider: string; region: string; url: string; setFaults: Sandbox['setFaults'] }[] {
    if (this.sandboxReason === undefined) return [];
    return this.sandboxes.map((s, i) => ({ ...SANDBOX_ENDPOINTS[i], url: s.url, setFaults: (rules) => s.setFaults(rules) }));
  }

  async compose(fileConfig: ShepherdConfig): Promise<ConfigSnapshot> {
    const cfg = withMemoryKeys(fileConfig, this.memoryKeys);
    this.configuredProviders = Object.keys(cfg.providers).filter((name) => !cfg.providers[name].sandbox);
    this.sandboxReason = this.whySandbox(cfg);
    let effective = cfg;
    if (this.sandboxReason !== undefined) {
      if (this.sandboxes.length === 0) {
        for (const e of SANDBOX_ENDPOINTS) {
          this.sandboxes.push(await startSandbox({ name: e.provider, ttftMs: 120, tokensPerSecond: 80, models: Object.keys(cfg.models) }));
        }
      }
      effective = sandboxOverlay(cfg, SANDBOX_ENDPOINTS.map((e, i) => ({ ...e, url: this.sandboxes[i].url })));
    }
    const catalog = buildCatalog(effective, (name) => resolveApiKey(effective.providers[name], this.env));
    this.upstreams.retain(new Set(Object.values(effective.providers).map((p) => new URL(p.baseUrl).origin)));
    return {
      config: effective,
      catalog,
      sandbox: this.sandboxReason !== undefined,
      clientKeys: [...clientKeys(cfg, this.env), ...memberKeys(cfg, this.env).keys()],
      memberKeys: new Map([...memberKeys(cfg, this.env)].map(([key, member]) => [keyLabel(key), member])),
      member: cfg.team ? (cfg.team.member ?? defaultMember()) : undefined,
      distances: distanceTable(effective.routing.regionDistances),
    };
  }

  async close(): Promise<void> {
    await this.upstreams.close();
    await Promise.all(this.sandboxes.splice(0).map((s) => s.close()));
  }

  private whySandbox(cfg: ShepherdConfig): string | undefined {
    if (this.forceSandbox) return 'started with --sandbox';
    if (cfg.sandbox === true) return 'config sets "sandbox": true';
    if (cfg.sandbox === 'auto' && !this.anyRealDeployment(cfg)) return 'no provider API keys are set';
    return undefined;
  }

  /** Some deployment can reach a real upstream: its provider has a key, or needs none (e.g. Ollama). */
  private anyRealDeployment(cfg: ShepherdConfig): boolean {
    const catalog = buildCatalog(cfg, (name) => resolveApiKey(cfg.providers[name], this.env));
    for (const group of catalog.groups.values()) {
      if (group.deployments.some((d) => !d.sandbox && d.unavailable === undefined)) return true;
    }
    return false;
  }
}

/** The config with keys set over the control channel in place of the file's or the environment's. */
function withMemoryKeys(config: ShepherdConfig, keys: ReadonlyMap<string, string>): ShepherdConfig {
  if (keys.size === 0) return config;
  const providers = { ...config.providers };
  for (const [name, key] of keys) if (providers[name]) providers[name] = { ...providers[name], apiKey: key };
  return { ...config, providers };
}

/** Keys clients must present: the config's list plus the comma-separated list in its environment variable. */
function clientKeys(config: ShepherdConfig, env: NodeJS.ProcessEnv): string[] {
  const fromEnv = config.server.apiKeysEnv ? (env[config.server.apiKeysEnv] ?? '').split(',') : [];
  return [...(config.server.apiKeys ?? []), ...fromEnv].map((k) => k.trim()).filter((k) => k.length > 0);
}

/** Team mode: each member's local API keys (from the config and its environment variable) -> the member. */
function memberKeys(config: ShepherdConfig, env: NodeJS.ProcessEnv): Map<string, string> {
  const keys = new Map<string, string>();
  for (const [member, m] of Object.entries(config.team?.members ?? {})) {
    const fromEnv = m.apiKeysEnv ? (env[m.apiKeysEnv] ?? '').split(',') : [];
    for (const key of [...(m.apiKeys ?? []), ...fromEnv].map((k) => k.trim()).filter((k) => k.length > 0)) keys.set(key, member);
  }
  return keys;
}

/** user@host, cut to the member name's 64 characters and its alphabet. */
export function defaultMember(): string {
  let user = 'user';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry for this uid (some containers): keep the neutral name.
  }
  return `${user}@${hostname()}`.replace(/[^\w.@-]/g, '_').slice(0, 64);
}
