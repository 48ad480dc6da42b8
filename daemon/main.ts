// The `shepherd` command line: start the daemon, run the sandbox alone, check or describe config.
import { parseArgs } from 'node:util';
import { configJsonSchema } from '../shared/config';
import { exportCommand, SPEND_USAGE, spendCommand } from './cli/spend-commands';
import { TEAM_USAGE, TeamCommandError, teamCommand } from './cli/team';
import { SANDBOX_FAULTS_USAGE, sandboxFaultsCommand } from './cli/sandbox-faults';
import { formatProblems, keyStatus, loadConfigFile } from './config/load';
import { createLogger, parseLevel } from './core/log';
import { startSandbox } from './sandbox/server';
import { startDaemon, StartError, type RunningDaemon } from './start';
import { VERSION } from './core/version';

const USAGE = `Shepherd ${VERSION}: a local LLM router with an OpenAI-compatible port

Usage:
  shepherd start [--config FILE] [--port N] [--host H] [--data-dir DIR] [--sandbox] [--log-level L]
  shepherd sandbox [--port N] [--host H]     run the simulated upstreams alone
${SANDBOX_FAULTS_USAGE}
  shepherd config check FILE                 validate a config file
  shepherd config schema                     print the config's JSON Schema
${SPEND_USAGE}
${TEAM_USAGE}
  shepherd --version | --help

With no provider API keys set, "start" serves the built-in sandbox (simulated upstreams on loopback).
Environment: SHEPHERD_DATA_DIR, SHEPHERD_LOG_LEVEL (debug|info|warn|error), SHEPHERD_LOG_FORMAT=json.
`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    case '--version':
    case '-v':
    case 'version':
      process.stdout.write(`${VERSION}\n`);
      return 0;
    case 'start':
      return start(rest);
    case 'sandbox':
      if (rest[0] === 'faults') return sandboxFaultsCommand(rest.slice(1), (message) => new UsageError(message));
      return sandbox(rest);
    case 'config':
      return config(rest);
    case 'spend':
      return spendCommand(rest, (message) => new UsageError(message));
    case 'export':
      return exportCommand(rest, (message) => new UsageError(message));
    case 'team':
      return teamCommand(rest, (message) => new UsageError(message));
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

async function start(args: string[]): Promise<number> {
  const { values } = parse(args, {
    config: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    'data-dir': { type: 'string' },
    sandbox: { type: 'boolean' },
    'log-level': { type: 'string' },
  });
  const levelName = values['log-level'] ?? process.env.SHEPHERD_LOG_LEVEL;
  const level = parseLevel(levelName);
  if (levelName !== undefined && level === undefined) throw new UsageError(`--log-level must be debug, info, warn or error, not "${levelName}"`);
  const log = createLogger({ level, json: process.env.SHEPHERD_LOG_FORMAT === 'json' });
  // The port answers before start-up has finished (state file, checkpoints): a signal in that window
  // is held until the start completes, then stops the daemon cleanly instead of killing it half-way.
  // A second one exits at once, and a failed start hands the signals back (it has closed everything).
  let earlySignal: NodeJS.Signals | undefined;
  const holdSignal = (signal: NodeJS.Signals) => {
    if (earlySignal !== undefined) process.exit(1);
    earlySignal = signal;
  };
  process.on('SIGINT', holdSignal);
  process.on('SIGTERM', holdSignal);
  let daemon: RunningDaemon;
  try {
    daemon = await startDaemon({
      configPath: values.config,
      dataDir: values['data-dir'],
      port: values.port === undefined ? undefined : portNumber(values.port),
      host: values.host,
      sandbox: values.sandbox,
      log,
    });
  } finally {
    process.off('SIGINT', holdSignal);
    process.off('SIGTERM', holdSignal);
  }
  const sandboxNote = daemon.sandbox()
    ? ` (SANDBOX: simulated upstreams, ${daemon.sandboxReason()}; set a provider key such as OPENAI_API_KEY for real models)`
    : '';
  process.stdout.write(`Shepherd ${VERSION} listening on ${daemon.url}${sandboxNote}\n`);
  process.stdout.write(`  OpenAI base URL: ${daemon.url}/v1   config: ${daemon.configPath}\n`);
  for (const u of daemon.sandboxUpstreams()) {
    process.stdout.write(`  sandbox upstream ${u.provider} (${u.region}): ${u.url}   faults: shepherd sandbox faults --provider ${u.provider} --rules '[...]'\n`);
  }

  // Keep serving whatever a single bad request does; log it instead of dying.
  process.on('uncaughtException', (err) => log.error('uncaught exception', { error: err.stack ?? err.message }));
  process.on('unhandledRejection', (err) => log.error('unhandled rejection', { error: err instanceof Error ? err.stack ?? err.message : String(err) }));

  await new Promise<void>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        log.warn('second signal: exiting without waiting');
        process.exit(1);
      }
      log.info(`${signal}: finishing in-flight requests, then stopping`);
      daemon.stop().then(resolve, (err: unknown) => {
        log.error('shutdown failed', { error: err instanceof Error ? err.message : String(err) });
        resolve();
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    if (earlySignal) onSignal(earlySignal);
  });
  log.info('stopped');
  return 0;
}

async function sandbox(args: string[]): Promise<number> {
  const { values } = parse(args, { port: { type: 'string' }, host: { type: 'string' } });
  const sbx = await startSandbox({ port: values.port === undefined ? 0 : portNumber(values.port), host: values.host, name: 'sandbox' });
  process.stdout.write(`Shepherd sandbox (simulated OpenAI upstream) listening on ${sbx.url}\n`);
  process.stdout.write(`  script faults: curl -X PUT ${sbx.url.replace(/\/v1$/, '')}/_sandbox/faults -d '{"rules":[{"fault":{"type":"status","status":503},"count":3}]}'\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sbx.close();
  return 0;
}

async function config(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'schema') {
    process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    return 0;
  }
  if (sub === 'check') {
    const { positionals } = parse(rest, {}, true);
    if (positionals.length !== 1) throw new UsageError('config check takes one FILE');
    const file = positionals[0];
    const result = await loadConfigFile(file);
    if (!result.ok) {
      process.stderr.write(`${formatProblems(file, result.problems)}\n`);
      return 1;
    }
    const cfg = result.config;
    const keys = keyStatus(cfg, process.env);
    process.stdout.write(
      `${file}: valid (${Object.keys(cfg.providers).length} providers, ${Object.keys(cfg.models).length} model groups)\n`,
    );
    if (keys.withoutKey.length > 0) {
      process.stdout.write(`  no API key in this environment for: ${keys.withoutKey.join(', ')}\n`);
    }
    return 0;
  }
  throw new UsageError(sub === undefined ? 'config needs "check FILE" or "schema"' : `unknown config command "${sub}"`);
}

type Options = Parameters<typeof parseArgs>[0] extends infer C ? (C extends { options?: infer O } ? O : never) : never;

function parse<O extends NonNullable<Options>>(args: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port must be a number from 0 to 65535, not "${value}"`);
  return n;
}

main(process.argv.slice(2)).then(
  (code) => exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`shepherd: ${err.message}\nRun "shepherd --help" for usage.\n`);
      exit(2);
    } else if (err instanceof TeamCommandError) {
      process.stderr.write(`shepherd: ${err.message}\n`);
      exit(1);
    } else if (err instanceof StartError) {
      process.stderr.write(`shepherd: ${err.message}\n`);
      exit(err.exitCode);
    } else {
      process.stderr.write(`shepherd: unexpected error: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
      exit(1);
    }
  },
);

/** Exits once the event loop drains; if something still holds it after a few seconds, exits anyway. */
function exit(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 3_000).unref();
}
