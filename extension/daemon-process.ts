// Finding, starting and stopping the one daemon every window shares. The state file in the data
// directory says which daemon runs; starting one means running the bundled dist/daemon.js with the
// editor's own runtime (ELECTRON_RUN_AS_NODE), detached, so it outlives this window and needs no Node
// install. No vscode import: the lifecycle is tested with plain Node.
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { DaemonStateSchema, EXIT_ALREADY_RUNNING, PROTOCOL_VERSION, STATE_FILE_NAME, type DaemonState } from '../shared/protocol';

export const LOG_FILE_NAME = 'daemon.log';

export interface LaunchOptions {
  dataDir: string;
  /** dist/daemon.js inside the installed extension. */
  script: string;
  /** The runtime: VS Code's process.execPath (Electron, run as Node) or node itself. */
  execPath: string;
  env: NodeJS.ProcessEnv;
  /** Undefined: the config's port (0 picks a free one). */
  port?: number;
  /** How long to wait for the new daemon's state file. */
  timeoutMs?: number;
}

/** The running daemon described by the state file, or undefined if none runs (a stale file is ignored). */
export async function findDaemon(dataDir: string): Promise<DaemonState | undefined> {
  let raw: string;
  try {
    raw = await readFile(join(dataDir, STATE_FILE_NAME), 'utf8');
  } catch {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined; // a daemon mid-write would have renamed a whole file in: this one is garbage
  }
  const state = DaemonStateSchema.safeParse(parsed);
  if (!state.success || !isAlive(state.data.pid)) return undefined;
  return state.data;
}

/** Whether this daemon can be used by this extension version, and if not, why. */
export function compatibility(state: DaemonState, extensionVersion: string): { ok: boolean; reason?: string } {
  if (state.protocol !== PROTOCOL_VERSION) {
    return { ok: false, reason: `the running daemon ${state.version} speaks control protocol ${state.protocol}, this extension ${PROTOCOL_VERSION}` };
  }
  if (state.version !== extensionVersion) return { ok: true, reason: `the running daemon is version ${state.version}, this extension ${extensionVersion}` };
  return { ok: true };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/**
 * Starts a detached daemon whose output goes to <dataDir>/daemon.log, and waits for its state file; if
 * another daemon already holds the data directory, waits for that one's state file instead (attaches).
 */
export async function launchDaemon(options: LaunchOptions): Promise<DaemonState> {
  const dataDir = isAbsolute(options.dataDir) ? options.dataDir : resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const log = openSync(join(dataDir, LOG_FILE_NAME), 'a', 0o600);
  const args = [options.script, 'start', '--data-dir', dataDir, ...(options.port !== undefined ? ['--port', String(options.port)] : [])];
  let exited: string | undefined;
  try {
    const child = spawn(options.execPath, args, {
      detached: true,
      stdio: ['ignore', log, log],
      env: { ...options.env, ELECTRON_RUN_AS_NODE: '1' },
      windowsHide: true,
    });
    let attaching = false;
    child.once('exit', (code, signal) => {
      // Another daemon holds the data directory (another window, or a CLI start, won the race): it is
      // just as good, so wait for its state file instead of failing.
      if (code === EXIT_ALREADY_RUNNING) attaching = true;
      else exited = `the daemon exited at start (${signal ?? `code ${code}`}); see ${join(dataDir, LOG_FILE_NAME)}`;
    });
    child.once('error', (err) => (exited = `could not start the daemon: ${err.message}`));
    child.unref();
    const deadline = Date.now() + (options.timeoutMs ?? 20_000);
    for (;;) {
      const state = await findDaemon(dataDir);
      // Another window may have won the race: its daemon is just as good.
      if (state) return state;
      if (exited) throw new Error(exited);
      if (Date.now() > deadline) {
        const seconds = Math.round((options.timeoutMs ?? 20_000) / 1000);
        const who = attaching ? 'the daemon already running there did not finish starting' : 'the daemon did not start';
        throw new Error(`${who} within ${seconds} s; see ${join(dataDir, LOG_FILE_NAME)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    closeSync(log);
  }
}

/** Asks the daemon to stop (SIGTERM: it finishes in-flight requests) and waits until it has gone. */
export async function stopDaemon(state: DaemonState, timeoutMs = 15_000): Promise<boolean> {
  try {
    process.kill(state.pid, 'SIGTERM');
  } catch {
    return true;
  }
  const deadline = Date.now() + timeoutMs;
  while (isAlive(state.pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}
