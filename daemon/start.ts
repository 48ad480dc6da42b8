// Starts a whole daemon: config, ledger replay, the sandbox when no keys are set, the HTTP gateway,
// live config reload and clean shutdown. The CLI and the integration tests both start it this way.
import { once } from 'node:events';
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ShepherdConfig } from '../shared/config';
import type { LedgerHealth } from '../shared/ledger';
import { keyStatus, resolveApiKey, ensureConfigFile, formatProblems, loadConfigFile, type LoadResult } from './config/load';
import { configPathFor, resolveDataDir } from './config/paths';
import { SANDBOX_ENDPOINTS, sandboxOverlay } from './config/sandbox-overlay';
import { watchConfig } from './config/watch';
import { EventBus } from './core/events';
import { HealthBoard } from './health/board';
import { startProbes } from './health/probes';
import { createLogger, type Logger } from './core/log';
import { Upstreams } from './upstream/pool';
import { buildCatalog } from './routing/catalog';
import { distanceTable } from './routing/regions';
import { RoutingCursors } from './routing/strategies';
import { startSandbox, type Sandbox } from './sandbox/server';
import { attachControlChannel } from './control/channel';
import { SpendHistory } from './spend/history';
import { snapshotBase } from './control/snapshot';
import type { ConfigSnapshot } from './config/snapshot';
import { createGateway, type GatewayDeps } from './http/server';
import { statusReport } from './health/status-report';
import { checkpointedMonths } from './spend/checkpoints';
import { summaryStore } from './spend/month-summaries';
import { openSpend } from './spend/service';
import { Ledger } from './spend/ledger';
import { newControlToken, removeStateFile, writeStateFile } from './lifecycle/state-file';
import { PROTOCOL_VERSION } from '../shared/protocol';
import { VERSION } from './core/version';

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
  ledger: Ledger;
  /** What happens inside the daemon (requests finished, state changes), for listeners. */
  events: EventBus;
  /** Re-reads the config file now (what the file watcher does on change). */
  reload(): Promise<LoadResult>;
  stop(): Promise<void>;
}

/** A start-up failure with a message meant for the user, not a stack trace. */
export class StartError extends Error {}

export async function startDaemon(options: StartOptions = {}): Promise<RunningDaemon> {
  const env = options.env ?? process.env;
  const log = options.log ?? createLogger();
  const dataDir = resolveDataDir(options.dataDir, env);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const configPath = options.configPath ?? configPathFor(dataDir);
  if (options.configPath === undefined) {
    const { created } = await ensureConfigFile(configPath);
    if (created) log.info('wrote a starter config with presets', { path: configPath });
  }
  const first = await loadConfigFile(configPath);
  if (!first.ok) throw new StartError(formatProblems(configPath, first.problems));
  const config = withOverrides(first.config, options);

  const events = new EventBus((event, err) =>
    log.error('an event listener failed', { event, error: err instanceof Error ? err.message : String(err) }),
  );
  const ledger = await Ledger.open(dataDir, { warn: (m) => log.warn(m) });
  // One log line per change of the ledger's state, not one per request.
  const logLedger = (h: LedgerHealth) =>
    h.state === 'ok'
      ? log.info('ledger: writes work again; every waiting line is written')
      : log.error('ledger: lines cannot be written; they wait in memory and are written when the disk accepts them', { ...h });
  let ledgerLogged = ledger.health();
  if (ledgerLogged.state === 'failing') logLedger(ledgerLogged);
  ledger.onStateChange((h) => {
    if (h.state !== ledgerLogged.state || (h.dropped ?? 0) > 0 !== (ledgerLogged.dropped ?? 0) > 0) logLedger(h);
    ledgerLogged = h;
    events.emit('ledger.state', h);
  });
  // Spend by day and group for the extension, rebuilt from the same replay and kept live below.
  const history = new SpendHistory();
  // Budgets, alerts and metrics; the same replay rebuilds spend per day for budgets and /v1/shepherd/spend.
  const spend = await openSpend({
    dataDir,
    log,
    metricsSources: { deployments: () => statusReport(health, state, gatewayDeps).deployments, inflight: () => gateway.inflight(), ledger: () => ledger.health() },
  });
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

  const sandboxes: Sandbox[] = [];
  let sandboxReason: string | undefined;
  const upstreams = new Upstreams();

  // The effective config: the file's, or its sandbox twin when no provider can be reached with a key.
  // Provider keys handed over by the extension: memory only, never written anywhere.
  const memoryKeys = new Map<string, string>();
  // The providers the user configured (the sandbox overlay replaces them in the effective config).
  let configuredProviders: string[] = [];
  const compose = async (fileConfig: ShepherdConfig): Promise<ConfigSnapshot> => {
    const cfg = withMemoryKeys(fileConfig, memoryKeys);
    configuredProviders = Object.keys(cfg.providers).filter((name) => !cfg.providers[name].sandbox);
    const keys = keyStatus(cfg, env);
    sandboxReason = options.sandbox
      ? 'started with --sandbox'
      : cfg.sandbox === true
        ? 'config sets "sandbox": true'
        : cfg.sandbox === 'auto' && keys.withKey.length === 0
          ? 'no provider API keys are set'
          : undefined;
    let effective = cfg;
    if (sandboxReason !== undefined) {
      if (sandboxes.length === 0) {
        for (const e of SANDBOX_ENDPOINTS) {
          sandboxes.push(await startSandbox({ name: e.provider, ttftMs: 120, tokensPerSecond: 80, models: Object.keys(cfg.models) }));
        }
      }
      effective = sandboxOverlay(cfg, SANDBOX_ENDPOINTS.map((e, i) => ({ ...e, url: sandboxes[i].url })));
    }
    const catalog = buildCatalog(effective, (name) => resolveApiKey(effective.providers[name], env));
    upstreams.retain(new Set(Object.values(effective.providers).map((p) => new URL(p.baseUrl).origin)));
    return {
      config: effective,
      catalog,
      sandbox: sandboxReason !== undefined,
      clientKeys: clientKeys(cfg, env),
      distances: distanceTable(effective.routing.regionDistances),
    };
  };

  let state = await compose(config);
  const health = new HealthBoard(state.catalog, (change) => {
    log.info('deployment state changed', { ...change });
    events.emit('deployment.state', change);
  });
  const probes = startProbes({ health, upstreams, current: () => state, log });
  const gatewayDeps: GatewayDeps = {
    current: () => state,
    upstreams,
    ledger,
    health,
    cursors: new RoutingCursors(),
    events,
    spend: spend.budgets,
    budgets: spend.budgets,
    metrics: spend.metrics,
    log,
    version: VERSION,
    startedAt: new Date(),
  };
  const gateway = createGateway(gatewayDeps);
  spend.start(events, state.config);

  const host = config.server.host;
  try {
    await listen(gateway.server, config.server.port, host);
  } catch (err) {
    // Nothing started so far may keep the process alive after a failed start.
    probes.stop();
    await spend.stop();
    await ledger.close();
    await upstreams.close();
    await Promise.all(sandboxes.map((s) => s.close()));
    throw err;
  }
  const port = (gateway.server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  events.on('request.finished', (entry) => history.add(entry));
  const controlToken = newControlToken();
  const control = attachControlChannel({
    server: gateway.server,
    token: controlToken,
    version: VERSION,
    url,
    configPath,
    events,
    history,
    budgets: () => spend.budgets.statuses(),
    log,
    serverConfig: () => state.config.server,
    base: () => snapshotBase(statusReport(health, state, gatewayDeps), state, url, configuredProviders),
    clientKey: () => state.clientKeys[0],
    reload: async () => {
      const result = await reload();
      return result.ok ? { ok: true } : { ok: false, message: formatProblems(configPath, result.problems) };
    },
    setKey: async (provider, key) => {
      if (!configuredProviders.includes(provider)) return `unknown provider "${provider}"`;
      if (key === null) memoryKeys.delete(provider);
      else memoryKeys.set(provider, key);
      const result = await reload();
      return result.ok ? undefined : 'the key is kept, but the config file has problems; see the log';
    },
  });
  await writeStateFile(dataDir, {
    pid: process.pid,
    version: VERSION,
    host,
    port,
    url,
    sandbox: state.sandbox,
    startedAt: new Date().toISOString(),
    controlToken,
    protocol: PROTOCOL_VERSION,
  });

  // Reloads apply everything but the listening address, which needs a restart.
  const apply = async (result: LoadResult): Promise<LoadResult> => {
    if (!result.ok) {
      log.error(`config not reloaded; keeping the last good config.\n${formatProblems(configPath, result.problems)}`);
      return result;
    }
    try {
      state = await compose(withOverrides(result.config, options));
      health.configure(state.catalog);
      spend.configure(state.config);
      log.info('config reloaded', { groups: state.catalog.groups.size, sandbox: state.sandbox });
      events.emit('config.reloaded', { groups: [...state.catalog.groups.keys()], sandbox: state.sandbox });
    } catch (err) {
      log.error('config reload failed; keeping the last good config', { error: err instanceof Error ? err.message : String(err) });
    }
    return result;
  };
  let reloading = Promise.resolve<unknown>(undefined);
  const watcher =
    options.watch === false
      ? undefined
      : watchConfig(
          configPath,
          (result) => {
            reloading = reloading.then(() => apply(result));
          },
          { initialText: first.text },
        );

  async function reload(): Promise<LoadResult> {
    const result = await loadConfigFile(configPath);
    await (reloading = reloading.then(() => apply(result)));
    return result;
  }

  let stopping: Promise<void> | undefined;
  return {
    url,
    host,
    port,
    dataDir,
    configPath,
    ledger,
    events,
    sandbox: () => state.sandbox,
    sandboxReason: () => sandboxReason,
    reload,
    stop() {
      stopping ??= (async () => {
        watcher?.close();
        probes.stop();
        control.close();
        await gateway.shutdown(options.graceMs ?? 10_000);
        await spend.stop();
        await ledger.close();
        await upstreams.close();
        await Promise.all(sandboxes.map((s) => s.close()));
        await removeStateFile(dataDir, process.pid);
      })();
      return stopping;
    },
  };
}

function withOverrides(config: ShepherdConfig, options: StartOptions): ShepherdConfig {
  if (options.port === undefined && options.host === undefined) return config;
  return {
    ...config,
    server: { ...config.server, port: options.port ?? config.server.port, host: options.host ?? config.server.host },
  };
}

/** The config with keys set over the control channel in place of the file's or the environment's. */
function withMemoryKeys(config: ShepherdConfig, keys: ReadonlyMap<string, string>): ShepherdConfig {
  if (keys.size === 0) return config;
  const providers = { ...config.providers };
  for (const [name, key] of keys) if (providers[name]) providers[name] = { ...providers[name], apiKey: key };
  return { ...config, providers };
}

function clientKeys(config: ShepherdConfig, env: NodeJS.ProcessEnv): string[] {
  const fromEnv = config.server.apiKeysEnv ? (env[config.server.apiKeysEnv] ?? '').split(',') : [];
  return [...(config.server.apiKeys ?? []), ...fromEnv].map((k) => k.trim()).filter((k) => k.length > 0);
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
    throw new StartError(`cannot listen on ${host}:${port}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
