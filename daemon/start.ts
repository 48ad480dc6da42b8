// Starts a whole daemon: config, ledger replay, the sandbox when no keys are set, the HTTP gateway,
// live config reload and clean shutdown. The CLI and the integration tests both start it this way.
// The composition root: an ordered list of steps, each with its undo (lifecycle/steps.ts); a failed
// step closes what the earlier ones opened, and stop() runs the same undos.
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ShepherdConfig } from '../shared/config';
import type { LedgerEntry, LedgerHealth } from '../shared/ledger';
import type { TeamLedgerHandle } from './team';
import { PROTOCOL_VERSION } from '../shared/protocol';
import { ensureConfigFile, formatProblems, loadConfigFile, type LoadResult } from './config/load';
import { configPathFor, resolveDataDir } from './config/paths';
import { watchConfig } from './config/watch';
import { attachControlChannel } from './control/channel';
import { snapshotBase } from './control/snapshot';
import { EventBus } from './core/events';
import { createLogger, type Logger } from './core/log';
import { VERSION } from './core/version';
import { HealthBoard } from './health/board';
import { startProbes } from './health/probes';
import { statusReport } from './health/status-report';
import { createGateway, type GatewayDeps } from './http/server';
import { isLoopbackHost } from './http/guard';
import { Composer, defaultMember } from './lifecycle/compose';
import { prepareDataDir } from './lifecycle/data-dir';
import { lockDataDir } from './lifecycle/lock';
import { Reloader, warnAddressChange } from './lifecycle/reloader';
import { messageOf, StartError } from './lifecycle/start-error';
import { newControlToken, removeStateFile, writeStateFile } from './lifecycle/state-file';
import { Steps } from './lifecycle/steps';
import { openTeamMode, type Team } from './lifecycle/team';
import { openTeamLedger } from './lifecycle/team-ledger';
import { HedgeBudget } from './pipeline/hedge-budget';
import { RoutingCursors } from './routing/strategies';
import { AffinityTable } from './routing/affinity';
import { checkpointedMonths } from './spend/checkpoints';
import { SpendHistory } from './spend/history';
import { cascadeFilesAtStart, cascadeMarker, replayCascade } from './spend/cascade-replay';
import { cascadeBaseline } from './spend/spend-query';
import { Ledger } from './spend/ledger';
import { summaryStore } from './spend/month-summaries';
import { openSpend, type SpendService } from './spend/service';

export { StartError };

export interface StartOptions {
  configPath?: string;
  dataDir?: string;
  port?: number;
  host?: string;
  /** Force the sandbox even when keys are set. */
  sandbox?: boolean;
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  /** Reload the config file when it changes (default true). */
  watch?: boolean;
  /** How long in-flight requests may run on during shutdown (default 10 s). */
  graceMs?: number;
  /** How long a control-channel client may take to say hello with the token (default 3 s; tests shorten it). */
  controlAuthTimeoutMs?: number;
}

export interface RunningDaemon {
  url: string;
  host: string;
  port: number;
  dataDir: string;
  configPath: string;
  /** True when requests are served by the built-in sandbox. */
  sandbox: () => boolean;
  /** Why the sandbox is in use, for the start-up line. */
  sandboxReason: () => string | undefined;
  /** Where the embedded sandbox upstreams listen while they serve (empty otherwise). */
  sandboxUpstreams: () => { provider: string; region: string; url: string }[];
  ledger: Ledger;
  /** Team mode: the PostgreSQL ledger, when the config names a server. */
  teamLedger?: TeamLedgerHandle;
  /** What happens inside the daemon (requests finished, state changes), for listeners. */
  events: EventBus;
  /** Re-reads the config file now (what the file watcher does on change). */
  reload(): Promise<LoadResult>;
  stop(): Promise<void>;
}

export async function startDaemon(options: StartOptions = {}): Promise<RunningDaemon> {
  const env = options.env ?? process.env;
  const log = options.log ?? createLogger();
  const dataDir = resolveDataDir(options.dataDir, env);
  const steps = new Steps((step, err) => log.error(`stopping: could not undo "${step}"`, { error: messageOf(err) }));

  await steps.run('prepare the data directory', () => prepareDataDir(dataDir, log));
  await steps.run('lock the data directory', () => lockDataDir(dataDir), (lock) => lock.release());
  // Only the lock holder writes the state file; removing it (if it is still ours) comes just before unlocking.
  steps.defer('remove the state file', () => removeStateFile(dataDir, process.pid));
  const { configPath, first } = await steps.run('read the config', () => readConfig(options, dataDir, log));
  const config = withOverrides(first.config, options);

  const events = new EventBus((event, err) => log.error('an event listener failed', { event, error: messageOf(err) }));
  const ledger = await steps.run('open the ledger', () => Ledger.open(dataDir, { warn: (m) => log.warn(m) }), (l) => l.close());
  watchLedgerState(ledger, events, log);
  // Metrics read the gateway's live numbers while the gateway needs the metrics: filled in below.
  const live: { report?: () => ReturnType<typeof statusReport>; inflight?: () => number; team?: Team; teamLedger?: TeamLedgerHandle } = {};
  const spend = await steps.run(
    'open spend tracking',
    () =>
      openSpend({
        dataDir,
        log,
        metricsSources: {
          deployments: () => live.report?.().deployments ?? [],
          inflight: () => live.inflight?.() ?? 0,
          ledger: () => ledger.health(),
          ...(config.team?.postgres ? { teamLedger: () => live.teamLedger?.health() } : {}),
          ...(config.team ? { teamDegraded: () => live.team?.status().state === 'degraded' } : {}),
        },
      }),
    (s) => s.stop(),
  );
  // Spend by day and group for the extension, rebuilt from the same replay and kept live below.
  // Group prices for what caching saved come from the config in use (`state`, composed below).
  const history = new SpendHistory(
    undefined,
    (group) => {
      const g = state.config.models[group];
      return g?.price ?? g?.deployments[0]?.price;
    },
    () => cascadeBaseline(state.config),
  );
  await steps.run('replay the ledger', () => replayLedger(ledger, spend, history, log));
  // Cascade figures are in no checkpoint: their lines are read back in the background (only once a cascade has run here).
  const cascadeFiles = await cascadeFilesAtStart(dataDir, Date.now());

  const composer = new Composer(env, options.sandbox === true);
  // Deferred before composing: a compose that fails half-way may have started sandboxes already.
  steps.defer('close the upstreams and sandboxes', () => composer.close());
  let state = await steps.run('compose the config', () => composer.compose(config));
  logSandbox(log, composer);

  // Team mode's ledger in PostgreSQL ships the local ledger's lines; opened after the gateway's step
  // would be undone, so at stop it ships the last requests' lines after they have finished.
  const teamLedger = config.team?.postgres
    ? await steps.run(
        'open the team ledger',
        () =>
          openTeamLedger(config.team!, { dataDir, member: state.member ?? defaultMember(), env, log, onChange: (h) => events.emit('team.ledger', h) }),
        (t) => t.close(),
      )
    : undefined;
  live.teamLedger = teamLedger;

  const health = new HealthBoard(state.catalog, (change) => {
    log.info('deployment state changed', { ...change });
    events.emit('deployment.state', change);
  });
  const probes = startProbes({ health, upstreams: composer.upstreams, current: () => state, log });
  steps.defer('stop the probes', () => probes.stop());
  const gatewayDeps: GatewayDeps = {
    current: () => state,
    upstreams: composer.upstreams,
    ledger,
    health,
    cursors: new RoutingCursors(),
    hedges: new HedgeBudget(),
    affinity: new AffinityTable(),
    events,
    spend: spend.budgets,
    budgets: spend.budgets,
    metrics: spend.metrics,
    log,
    version: VERSION,
    startedAt: new Date(),
    sandboxUpstreams: () => composer.sandboxUpstreams(),
    teamLedger,
  };
  const gateway = createGateway(gatewayDeps);
  // Metrics read deployments only: without the team ledger, so a scrape never makes a team spend query.
  live.report = () => statusReport(health, state, { ...gatewayDeps, teamLedger: undefined });
  live.inflight = () => gateway.inflight();
  spend.start(events, state.config);
  // Team mode (a team section only): shared budgets, rate limits and health; the pipeline awaits Redis only then.
  const team = await steps.run(
    'open team mode',
    () => openTeamMode(config, env, { member: state.member ?? defaultMember(), log, budgets: spend.budgets, claimAlerts: (c) => spend.claimAlerts(c), health, events }),
    (t) => t?.close(),
  );
  if (team) {
    live.team = team;
    if (team.reserve) gatewayDeps.reserve = team.reserve;
    if (team.sharedLimits) gatewayDeps.sharedLimits = team.sharedLimits;
    gatewayDeps.team = () => team.status();
  }

  const host = config.server.host;
  // Beyond loopback anyone on the network could spend the team's keys: a local API key is required.
  if (!isLoopbackHost(host) && state.clientKeys.length === 0) {
    throw new StartError(
      `refusing to listen on ${host} without local API keys: anyone who can reach it could use your providers. Set server.apiKeys or server.apiKeysEnv (or team.members.<name>.apiKeys), or listen on 127.0.0.1; see docs/SECURITY.md for TLS`,
    );
  }
  await steps.run(`listen on ${host}:${config.server.port}`, () => listen(gateway.server, config.server.port, host), () => gateway.shutdown(options.graceMs ?? 10_000));
  const port = (gateway.server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  events.on('request.finished', (entry) => history.add(entry));
  events.on('request.finished', cascadeMarker(dataDir, (m) => log.warn(m)));
  if (cascadeFiles) {
    const toFigures = (e: LedgerEntry) => {
      spend.budgets.cascade.add(e);
      history.cascade.add(e);
    };
    replayCascade(cascadeFiles, toFigures).then(
      (lines) => log.info('cascade figures read back from the ledger', { lines }),
      (err: unknown) => log.warn('could not read cascade figures back from the ledger', { error: messageOf(err) }),
    );
  }

  const reloader = new Reloader(configPath, log, async (next) => {
    const nextConfig = withOverrides(next, options);
    warnAddressChange(log, url, config.server, state.config.server, nextConfig.server);
    const wasSandbox = state.sandbox;
    state = await composer.compose(nextConfig);
    if (state.sandbox && !wasSandbox) logSandbox(log, composer);
    health.configure(state.catalog);
    spend.configure(state.config);
    team?.configure(state.config);
    log.info('config reloaded', { groups: state.catalog.groups.size, sandbox: state.sandbox });
    events.emit('config.reloaded', { groups: [...state.catalog.groups.keys()], sandbox: state.sandbox });
  });
  const reload = () => reloader.reload();

  const controlToken = newControlToken();
  await steps.run(
    'open the control channel',
    () =>
      attachControlChannel({
        server: gateway.server,
        token: controlToken,
        authTimeoutMs: options.controlAuthTimeoutMs,
        version: VERSION,
        url,
        configPath,
        events,
        history,
        budgets: () => spend.budgets.statuses(),
        log,
        serverConfig: () => state.config.server,
        base: () => snapshotBase(statusReport(health, state, gatewayDeps), state, url, composer.configuredProviders),
        clientKey: () => state.clientKeys[0],
        reload: async () => {
          const result = await reload();
          return result.ok ? { ok: true } : { ok: false, message: formatProblems(configPath, result.problems) };
        },
        setKey: async (provider, key) => {
          if (!composer.setKey(provider, key)) return `unknown provider "${provider}"`;
          const result = await reload();
          return result.ok ? undefined : 'the key is kept, but the config file has problems; see the log';
        },
      }),
    (control) => control.close(),
  );
  await steps.run('write the state file', () =>
    writeStateFile(dataDir, {
      pid: process.pid,
      version: VERSION,
      host,
      port,
      url,
      sandbox: state.sandbox,
      startedAt: new Date().toISOString(),
      controlToken,
      protocol: PROTOCOL_VERSION,
    }),
  );
  if (options.watch !== false) {
    await steps.run(
      'watch the config file',
      () => watchConfig(configPath, (result) => void reloader.enqueue(result), { initialText: first.text }),
      (watcher) => watcher.close(),
    );
  }

  return {
    url,
    host,
    port,
    dataDir,
    configPath,
    ledger,
    teamLedger,
    events,
    sandbox: () => state.sandbox,
    sandboxReason: () => composer.sandboxReason,
    sandboxUpstreams: () => composer.sandboxUpstreams().map(({ provider, region, url }) => ({ provider, region, url })),
    reload,
    stop: () => steps.unwind(),
  };
}

/** Says where the simulated upstreams listen, so their faults can be scripted (docs/SANDBOX.md). */
function logSandbox(log: Logger, composer: Composer): void {
  const upstreams = composer.sandboxUpstreams();
  if (upstreams.length === 0) return;
  log.info('serving the SANDBOX (simulated upstreams)', {
    reason: composer.sandboxReason,
    upstreams: upstreams.map((u) => `${u.provider} ${u.url}`).join(', '),
  });
}

/** The config file (a starter one is written when the default path has none), parsed and checked. */
async function readConfig(options: StartOptions, dataDir: string, log: Logger) {
  const configPath = options.configPath ?? configPathFor(dataDir);
  if (options.configPath === undefined) {
    const { created } = await ensureConfigFile(configPath);
    if (created) log.info('wrote a starter config with presets', { path: configPath });
  }
  const first = await loadConfigFile(configPath);
  if (!first.ok) throw new StartError(formatProblems(configPath, first.problems));
  return { configPath, first };
}

/** Rebuilds budgets and the spend history from the ledger. */
async function replayLedger(ledger: Ledger, spend: SpendService, history: SpendHistory, log: Logger): Promise<void> {
  // Months before last month are closed: they are read from their summaries (history keeps no older month).
  const closedMonths = summaryStore(ledger.dir, Date.now(), (summary) => spend.budgets.addBuckets(summary.buckets));
  // Open months come whole: from their checkpoints plus the lines written after them (the ledger
  // writes the checkpoints while running and at close), so start-up does not parse them line by line.
  const openMonths = checkpointedMonths(ledger.dir, (month) => {
    history.addMonth(month);
    spend.budgets.addBuckets(month.buckets());
  });
  const replay = await ledger.replay(undefined, closedMonths, openMonths);
  log.info('ledger replayed', {
    entries: replay.entries,
    skipped: replay.skipped,
    files: replay.files,
    fromCheckpoints: replay.restored,
    ms: Math.round(replay.ms),
  });
}

function withOverrides(config: ShepherdConfig, options: StartOptions): ShepherdConfig {
  if (options.port === undefined && options.host === undefined) return config;
  return {
    ...config,
    server: { ...config.server, port: options.port ?? config.server.port, host: options.host ?? config.server.host },
  };
}

async function listen(server: Server, port: number, host: string): Promise<void> {
  try {
    server.listen(port, host);
    await once(server, 'listening');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new StartError(`port ${port} on ${host} is already in use (is another Shepherd running?); choose another with --port`);
    }
    if (code === 'EACCES') throw new StartError(`not allowed to listen on ${host}:${port}; choose a port above 1024 with --port`);
    throw new StartError(`cannot listen on ${host}:${port}: ${messageOf(err)}`);
  }
}

/** One log line per change of the ledger's state (not one per request), and an event for listeners. */
function watchLedgerState(ledger: Ledger, events: EventBus, log: Logger): void {
  const logLedger = (h: LedgerHealth) =>
    h.state === 'ok'
      ? log.info('ledger: writes work again; every waiting line is written')
      : log.error('ledger: lines cannot be written; they wait in memory and are written when the disk accepts them', { ...h });
  let logged = ledger.health();
  if (logged.state === 'failing') logLedger(logged);
  ledger.onStateChange((h) => {
    if (h.state !== logged.state || (h.dropped ?? 0) > 0 !== (logged.dropped ?? 0) > 0) logLedger(h);
    logged = h;
    events.emit('ledger.state', h);
  });
}
