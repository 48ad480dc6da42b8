// Prometheus metrics with prom-client on a registry of our own (not the global one, so two daemons in
// one process, as in the tests, never share series). Counters and histograms are fed by finished
// requests; circuit states, in-flight counts and budget ratios are read from the daemon at scrape time.
// Labels are only names from the config (group, deployment, provider, budget) and HTTP statuses:
// never the requested model name, a prompt or a request id, so the number of series stays bounded.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BudgetStatus } from '../../shared/budget-status';
import type { LedgerEntry, LedgerHealth } from '../../shared/ledger';
import type { TeamLedgerHealth } from '../../shared/team-ledger';

/** One deployment as the status report describes it; `circuit` may be absent in older reports. */
export interface DeploymentGaugeSource {
  id: string;
  group: string;
  provider: string;
  inflight?: number;
  circuit?: string;
}

export interface MetricsSources {
  deployments(): readonly DeploymentGaugeSource[];
  /** Requests the gateway is serving right now. */
  inflight(): number;
  budgets(): readonly BudgetStatus[];
  /** Whether ledger lines reach the disk. */
  ledger?(): LedgerHealth;
  /** Team mode only: whether the team's shared state (Redis) cannot be reached. */
  teamDegraded?(): boolean;
  /** Team mode: whether ledger lines reach the team ledger in PostgreSQL (undefined until it is open). */
  teamLedger?(): TeamLedgerHealth | undefined;
}

const SECONDS_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300];
const CIRCUIT_STATES = ['closed', 'open', 'half-open'] as const;
const NONE = '(none)';

export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'group' | 'deployment' | 'status'>;
  private readonly duration: Histogram<'group' | 'deployment' | 'stream'>;
  private readonly ttft: Histogram<'group' | 'deployment' | 'stream'>;
  private readonly tokens: Counter<'group' | 'deployment' | 'direction'>;
  private readonly cost: Counter<'group' | 'deployment' | 'provider'>;
  private readonly estimated: Counter<'group'>;
  // Event-loop delay since the last scrape: a stalled loop delays every request in flight, so it is
  // the daemon's own health signal. 10 ms resolution is what the histogram needs to see a 20 ms stall.
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'shepherd_requests_total',
      help: 'Finished requests by model group, deployment (the one that answered or last failed) and HTTP status',
      labelNames: ['group', 'deployment', 'status'],
      registers,
    });
    this.duration = new Histogram({
      name: 'shepherd_request_duration_seconds',
      help: 'From request received to last byte',
      labelNames: ['group', 'deployment', 'stream'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.ttft = new Histogram({
      name: 'shepherd_time_to_first_token_seconds',
      help: 'Time to the first token (streaming) or to the whole answer (non-streaming), successful requests',
      labelNames: ['group', 'deployment', 'stream'],
      buckets: SECONDS_BUCKETS,
      registers,
    });
    this.tokens = new Counter({
      name: 'shepherd_tokens_total',
      help: 'Tokens billed: direction="input" (prompt, cached included) or "output" (completion, reasoning included)',
      labelNames: ['group', 'deployment', 'direction'],
      registers,
    });
    this.cost = new Counter({
      name: 'shepherd_cost_usd_total',
      help: 'Cost in USD from the configured prices (real providers only: the sandbox\'s simulated spend is not counted)',
      labelNames: ['group', 'deployment', 'provider'],
      registers,
    });
    this.estimated = new Counter({
      name: 'shepherd_estimated_usage_requests_total',
      help: 'Requests whose token counts were estimated locally because the upstream reported no usage',
      labelNames: ['group'],
      registers,
    });
    const inflight: Gauge<string> = new Gauge({
      name: 'shepherd_inflight_requests',
      help: 'Requests being served right now',
      registers,
      collect: () => inflight.set(sources.inflight()),
    });
    const deploymentInflight: Gauge<string> = new Gauge({
      name: 'shepherd_deployment_inflight_requests',
      help: 'Upstream requests in flight per deployment',
      labelNames: ['group', 'deployment'],
      registers,
      collect: () => {
        deploymentInflight.reset();
        for (const d of sources.deployments()) {
          if (d.inflight !== undefined) deploymentInflight.set({ group: d.group, deployment: d.id }, d.inflight);
        }
      },
    });
    const circuit: Gauge<string> = new Gauge({
      name: 'shepherd_circuit_state',
      help: 'Circuit breaker state per deployment: 1 for the current state, 0 for the others',
      labelNames: ['group', 'deployment', 'state'],
      registers,
      collect: () => {
        circuit.reset();
        for (const d of sources.deployments()) {
          if (d.circuit === undefined) continue; // a report without circuits: nothing to say
          for (const state of CIRCUIT_STATES) circuit.set({ group: d.group, deployment: d.id, state }, d.circuit === state ? 1 : 0);
        }
      },
    });
    const used: Gauge<string> = new Gauge({
      name: 'shepherd_budget_used_ratio',
      help: 'Spent / limit of each budget in its current period (1 = exhausted)',
      labelNames: ['budget'],
      registers,
      collect: () => {
        used.reset();
        for (const b of sources.budgets()) used.set({ budget: b.name }, b.usedRatio);
      },
    });
    const spent: Gauge<string> = new Gauge({
      name: 'shepherd_budget_spent_usd',
      help: 'Spend of each budget in its current period, USD',
      labelNames: ['budget'],
      registers,
      collect: () => {
        spent.reset();
        for (const b of sources.budgets()) spent.set({ budget: b.name }, b.spentUsd);
      },
    });
    this.loopDelay.enable();
    const loop: Gauge<string> = new Gauge({
      name: 'shepherd_event_loop_delay_seconds',
      help: 'Event-loop delay since the previous scrape: quantile="max", "0.99" or "0.5"',
      labelNames: ['quantile'],
      registers,
      collect: () => {
        const h = this.loopDelay;
        const seconds = (ns: number) => loopDelaySeconds(ns, h.count, LOOP_RESOLUTION_MS);
        loop.set({ quantile: 'max' }, seconds(h.max));
        loop.set({ quantile: '0.99' }, seconds(h.percentile(99)));
        loop.set({ quantile: '0.5' }, seconds(h.percentile(50)));
        h.reset();
      },
    });
    if (sources.ledger) {
      const ledger = sources.ledger;
      const waiting: Gauge<string> = new Gauge({
        name: 'shepherd_ledger_lines_waiting',
        help: 'Ledger lines not yet written (they wait in memory while the disk refuses writes)',
        registers,
        collect: () => waiting.set(ledger().waiting),
      });
      const failing: Gauge<string> = new Gauge({
        name: 'shepherd_ledger_failing',
        help: '1 while ledger lines cannot be written (disk full, read-only), else 0',
        registers,
        collect: () => failing.set(ledger().state === 'failing' ? 1 : 0),
      });
    }
    if (sources.teamDegraded) {
      const degraded = sources.teamDegraded;
      const team: Gauge<string> = new Gauge({
        name: 'shepherd_team_degraded',
        help: 'Team mode: 1 while the team state (Redis) cannot be reached and the daemon serves on local state, else 0',
        registers,
        collect: () => team.set(degraded() ? 1 : 0),
      });
    }
    if (sources.teamLedger) {
      const team = sources.teamLedger;
      const waiting: Gauge<string> = new Gauge({
        name: 'shepherd_team_ledger_lines_waiting',
        help: 'Team mode: ledger lines written locally but not yet shipped to the team ledger in PostgreSQL',
        registers,
        collect: () => waiting.set(team()?.waiting ?? 0),
      });
      const failing: Gauge<string> = new Gauge({
        name: 'shepherd_team_ledger_failing',
        help: 'Team mode: 1 while ledger lines cannot be shipped to PostgreSQL (they wait in the local ledger), else 0',
        registers,
        collect: () => failing.set(team()?.state === 'failing' ? 1 : 0),
      });
    }
    const rss: Gauge<string> = new Gauge({
      name: 'shepherd_resident_memory_bytes',
      help: 'Resident set size of the daemon process',
      registers,
      collect: () => rss.set(process.memoryUsage.rss()),
    });
  }

  /** Stops the event-loop monitor (its timer would otherwise outlive a daemon stopped in-process). */
  close(): void {
    this.loopDelay.disable();
  }

  /** Records one finished request (its ledger line). */
  observe(e: LedgerEntry): void {
    const group = e.model ?? NONE;
    const deployment = e.deployment ?? NONE;
    const stream = String(e.stream);
    this.requests.inc({ group, deployment, status: String(e.status) });
    this.duration.observe({ group, deployment, stream }, e.latencyMs / 1000);
    if (e.ok && e.ttftMs !== undefined) this.ttft.observe({ group, deployment, stream }, e.ttftMs / 1000);
    if (e.promptTokens > 0) this.tokens.inc({ group, deployment, direction: 'input' }, e.promptTokens);
    if (e.completionTokens > 0) this.tokens.inc({ group, deployment, direction: 'output' }, e.completionTokens);
    // The sandbox's simulated spend is no money spent: spend reports keep it apart, and so does this.
    if (e.costUsd > 0 && e.sandbox !== true) this.cost.inc({ group, deployment, provider: e.provider ?? NONE }, e.costUsd);
    if (e.usageSource === 'estimated') this.estimated.inc({ group });
  }

  /** The exposition text and its content type (text/plain; version=0.0.4). */
  async exposition(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}

/** How often the event-loop monitor's timer fires. */
const LOOP_RESOLUTION_MS = 10;

/**
 * The delay beyond the monitor's own interval, in seconds: its histogram records the time between
 * two firings of a `resolutionMs` timer (nanoseconds), so an idle loop reads about `resolutionMs`.
 * Empty (NaN / huge min) until the first tick: 0.
 */
export function loopDelaySeconds(ns: number, count: number, resolutionMs: number): number {
  if (!Number.isFinite(ns) || count === 0) return 0;
  return Math.max(0, ns / 1e9 - resolutionMs / 1000);
}
