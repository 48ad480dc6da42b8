// Real Redis and PostgreSQL servers for team-mode tests: Debian's redis-server and PostgreSQL 15,
// started on loopback in temporary directories and stopped after. No mocks. test/team/ci.sh installs
// redis-server when it is missing. PostgreSQL refuses to run as root, so as root the server runs as the
// `postgres` user (which Debian's package creates) over a data directory that user owns.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, chownSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { freePort } from './processes';

export interface TestServer {
  url: string;
  port: number;
  /** Stops the server cleanly (data kept), for a restart. */
  stop(): Promise<void>;
  /** Kills it with SIGKILL: a crash, not a shutdown (data kept). */
  kill(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it and removes its data. */
  destroy(): Promise<void>;
}

/** Whether the team suite can run here: both servers' programs are installed. */
export function teamServersAvailable(): boolean {
  return commandPath('redis-server') !== undefined && postgresBin() !== undefined;
}

export async function startRedis(): Promise<TestServer> {
  const bin = commandPath('redis-server');
  if (!bin) throw new Error('redis-server is not installed (test/team/ci.sh installs it: apt-get install redis-server)');
  const dir = mkdtempSync(join(tmpdir(), 'shepherd-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    // appendonly: a killed server comes back with its data, as a managed Redis would.
    child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'], {
      stdio: 'ignore',
    });
    await waitForPort(port, 10_000);
  };
  const halt = async (signal: NodeJS.Signals) => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
    destroy: async () => {
      await halt('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startPostgres(): Promise<TestServer> {
  const bin = postgresBin();
  if (!bin) throw new Error('PostgreSQL is not installed (apt-get install postgresql)');
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'shepherd-pg-'));
  const data = join(dir, 'data');
  const port = await freePort();
  const owner = asRoot ? userIds('postgres') : undefined;
  if (owner) chownSync(dir, owner.uid, owner.gid);
  // As root, run the server's programs as `postgres`; otherwise as ourselves.
  const run = (program: string, args: string[]) =>
    asRoot ? execFileSync('runuser', ['-u', 'postgres', '--', join(bin, program), ...args], { stdio: 'pipe' }) : execFileSync(join(bin, program), args, { stdio: 'pipe' });
  run('initdb', ['-D', data, '-U', 'shepherd', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  let child: ChildProcess | undefined;
  const start = async () => {
    const args = ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`, '-c', 'fsync=off'];
    child = asRoot ? spawn('runuser', ['-u', 'postgres', '--', join(bin, 'postgres'), ...args], { stdio: 'ignore' }) : spawn(join(bin, 'postgres'), args, { stdio: 'ignore' });
    await waitForPort(port, 20_000);
    // The port opens before the server accepts logins; createdb retries until it does.
    await waitFor(() => {
      try {
        run('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'shepherd', '-d', 'postgres', '-c', 'select 1']);
        return true;
      } catch {
        return false;
      }
    }, 20_000);
  };
  // runuser forwards the signal to the server it started; the postmaster's own pid is in postmaster.pid.
  const halt = async (signal: NodeJS.Signals) => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    const pid = postmasterPid(data);
    if (signal === 'SIGKILL' && pid !== undefined) {
      // A crash: kill the postmaster and its backends at once, as an OOM kill would.
      for (const p of [pid, ...childPids(pid)]) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    } else if (pid !== undefined) {
      process.kill(pid, 'SIGINT'); // "fast" shutdown: ends sessions, keeps data
    } else c.kill(signal);
    await exited;
  };
  await start();
  run('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', 'shepherd', 'shepherd']);
  return {
    url: `postgres://shepherd@127.0.0.1:${port}/shepherd`,
    port,
    start,
    stop: () => halt('SIGINT'),
    kill: () => halt('SIGKILL'),
    destroy: async () => {
      await halt('SIGINT');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function commandPath(name: string): string | undefined {
  for (const d of (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/usr/sbin', '/usr/local/bin'])) {
    if (d && existsSync(join(d, name))) return join(d, name);
  }
  return undefined;
}

/** The newest installed PostgreSQL's bin directory (Debian keeps them under /usr/lib/postgresql/N/bin). */
function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'postgres'))).sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(root, versions[0], 'bin') : undefined;
}

function userIds(name: string): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

function postmasterPid(data: string): number | undefined {
  try {
    const first = execFileSync('head', ['-n', '1', join(data, 'postmaster.pid')], { encoding: 'utf8' }).trim();
    return Number(first) || undefined;
  } catch {
    return undefined;
  }
}

function childPids(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function waitForPort(port: number, ms: number): Promise<void> {
  await waitFor(
    () =>
      new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      }),
    ms,
  );
}

async function waitFor(check: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not ready within ${ms} ms`);
}
