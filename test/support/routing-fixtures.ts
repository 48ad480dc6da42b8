// Small builders for routing and health unit tests: a catalog from a config literal, a fake health
// view, a controllable clock and scripted randomness. Nothing here reads the real clock.
import { ConfigSchema, type ShepherdConfigInput } from '../../shared/config';
import { buildCatalog, type Catalog, type Deployment, type ModelGroup } from '../../daemon/routing/catalog';
import { blankHealth as blank, type DeploymentHealth } from '../../daemon/health/board';
import type { HealthView } from '../../daemon/routing/health-view';
import { classForStatus, type UpstreamFailure } from '../../daemon/core/failure';

/** A keyless local provider: its deployments never miss a key. */
export const LOCAL = { baseUrl: 'http://127.0.0.1:9/v1' };

export function catalogOf(input: ShepherdConfigInput, keyFor: (provider: string) => string | undefined = () => 'k'): Catalog {
  return buildCatalog(ConfigSchema.parse(input), keyFor);
}

type DeploymentInput = NonNullable<ShepherdConfigInput['models']>[string]['deployments'][number];
type RoutingInput = NonNullable<ShepherdConfigInput['routing']>;

/** One group "g" on provider "p" with the given deployments (model names become ids p/<model>[@region]). */
export function groupOf(
  deployments: Partial<DeploymentInput>[],
  routing: RoutingInput = {},
  group: Record<string, unknown> = {},
): { catalog: Catalog; group: ModelGroup; byId: (id: string) => Deployment } {
  const catalog = catalogOf({
    providers: { p: LOCAL },
    models: { g: { ...group, deployments: deployments.map((d, i) => ({ provider: 'p', model: `m${i}`, ...d })) } },
    routing,
  });
  const g = catalog.groups.get('g')!;
  return {
    catalog,
    group: g,
    byId: (id) => {
      const d = g.deployments.find((x) => x.id === id);
      if (!d) throw new Error(`no deployment ${id}`);
      return d;
    },
  };
}

export function blankHealth(id: string, over: Partial<DeploymentHealth> = {}): DeploymentHealth {
  return { ...blank(id), ...over };
}

/** A health view whose answers are set by the test; it records the token estimates it was asked about. */
export class FakeHealth implements HealthView {
  readonly health = new Map<string, Partial<DeploymentHealth>>();
  readonly waits = new Map<string, number>();
  readonly asked: { id: string; tokens: number }[] = [];

  set(id: string, over: Partial<DeploymentHealth>): this {
    this.health.set(id, { ...this.health.get(id), ...over });
    return this;
  }

  wait(id: string, ms: number): this {
    this.waits.set(id, ms);
    return this;
  }

  get(id: string): DeploymentHealth {
    return blankHealth(id, this.health.get(id));
  }

  rateWaitMs(id: string, tokens: number): number {
    this.asked.push({ id, tokens });
    return this.waits.get(id) ?? 0;
  }
}

export class FakeClock {
  constructor(public t = Date.UTC(2026, 0, 1, 12, 0, 0)) {}
  readonly now = (): number => this.t;
  advance(ms: number): number {
    this.t += ms;
    return this.t;
  }
}

/** Randomness that returns the given values in turn and fails the test if asked for more. */
export function scripted(...values: number[]): (() => number) & { calls: () => number } {
  let i = 0;
  const f = () => {
    if (i >= values.length) throw new Error(`random() called ${i + 1} times; only ${values.length} value(s) scripted`);
    return values[i++];
  };
  return Object.assign(f, { calls: () => i });
}

export function upstream5xx(message = 'upstream 503'): UpstreamFailure {
  return { kind: 'status', class: 'outage', status: 503, retryable: true, message, type: 'upstream_error' };
}

export function statusFailure(status: number, extra: Partial<UpstreamFailure> = {}): UpstreamFailure {
  return { kind: 'status', class: classForStatus(status), status, retryable: status >= 500 || status === 429, message: `upstream ${status}`, type: 'upstream_error', ...extra };
}
