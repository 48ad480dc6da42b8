// Active health checks: each deployment is probed on an interval with jitter (by default its model
// list, which costs no tokens), more often while ejected so a recovery is noticed. There is never
// more than one probe in flight per deployment, and a deployment that real traffic reached
// successfully within the interval is not probed at all: the traffic already answered the question.
import { adapterFor } from '../formats';
import { toUpstreamError, type Upstreams } from '../upstream/pool';
import type { Logger } from '../core/log';
import { upstreamTarget } from '../routing/catalog';
import type { ConfigSnapshot } from '../config/snapshot';
import type { HealthBoard } from './board';

const TICK_MS = 500;
/** The first probe of a deployment comes within this long of start-up (or of its appearance). */
const FIRST_PROBE_WITHIN_MS = 10_000;

export interface ProbeDeps {
  health: HealthBoard;
  upstreams: Upstreams;
  current: () => ConfigSnapshot;
  log: Logger;
  now?: () => number;
  random?: () => number;
}

export interface Probes {
  stop(): void;
}

export function startProbes(deps: ProbeDeps): Probes {
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const nextAt = new Map<string, number>();
  const inFlight = new Map<string, AbortController>();
  let stopped = false;

  const schedule = (id: string, intervalMs: number, jitter: number) => {
    const spread = intervalMs * jitter * (2 * random() - 1);
    nextAt.set(id, now() + Math.max(TICK_MS, intervalMs + spread));
  };

  const probe = async (id: string) => {
    const state = deps.current();
    const cfg = state.catalog.routing.health.probes;
    const d = deps.health.deployment(id);
    if (!d || d.unavailable !== undefined) return;
    const adapter = adapterFor(d.provider.type);
    const target = upstreamTarget(d);
    const request =
      cfg.kind === 'completion'
        ? adapter.chatRequest(target, { model: d.upstreamModel, messages: [{ role: 'user', content: 'ping' }], max_tokens: 1 })
        : adapter.probeRequest(target);
    const controller = new AbortController();
    inFlight.set(id, controller);
    const timer = setTimeout(() => controller.abort(new Error('probe timed out')), cfg.timeoutMs);
    try {
      const res = await deps.upstreams.send(
        target,
        request,
        { connectMs: cfg.timeoutMs, firstByteMs: cfg.timeoutMs, idleMs: cfg.timeoutMs },
        controller.signal,
      );
      await res.body.dump().catch(() => undefined);
      if (stopped) return;
      // 401/403 mean the key is wrong, not that the upstream is down; the request path reports those.
      const ok = res.status < 500 && res.status !== 408 && res.status !== 429;
      deps.health.probe(id, ok, ok ? undefined : `HTTP ${res.status}`);
    } catch (err) {
      if (stopped) return;
      const message = controller.signal.aborted ? `no answer within ${cfg.timeoutMs} ms` : toUpstreamError(err).failure.message;
      deps.health.probe(id, false, message);
    } finally {
      clearTimeout(timer);
      inFlight.delete(id);
    }
  };

  const tick = () => {
    if (stopped) return;
    deps.health.tick();
    const cfg = deps.current().catalog.routing.health.probes;
    if (!cfg.enabled) return;
    const t = now();
    const ids = new Set(deps.health.ids());
    for (const id of nextAt.keys()) if (!ids.has(id)) nextAt.delete(id);
    for (const id of ids) {
      const due = nextAt.get(id);
      if (due === undefined) {
        nextAt.set(id, t + random() * Math.min(cfg.intervalMs, FIRST_PROBE_WITHIN_MS));
        continue;
      }
      if (t < due || inFlight.has(id)) continue;
      const h = deps.health.get(id);
      const ejected = h.circuit !== 'closed';
      schedule(id, ejected ? cfg.unhealthyIntervalMs : cfg.intervalMs, cfg.jitter);
      const lastSuccess = deps.health.lastSuccess(id);
      const recentSuccess = lastSuccess !== undefined && t - lastSuccess < cfg.intervalMs;
      if (!ejected && recentSuccess) continue;
      void probe(id).catch((err: unknown) => deps.log.warn('health probe failed unexpectedly', { deployment: id, error: String(err) }));
    }
  };

  const interval = setInterval(tick, TICK_MS);
  interval.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(interval);
      for (const c of inFlight.values()) c.abort(new Error('shutting down'));
    },
  };
}
