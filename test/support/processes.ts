// Helpers for tests that run the real CLI as a child process: free ports, exits with a deadline,
// and whether anything still answers on a port.
import { spawn, type ChildProcessWithoutNullStreams, type SpawnOptionsWithoutStdio } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';

export interface Spawned {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  /** The exit code (or signal name), or undefined if still running after `ms`. */
  exit(ms: number): Promise<number | string | undefined>;
}

export function spawnCaptured(command: string, args: string[], options: SpawnOptionsWithoutStdio): Spawned {
  const child = spawn(command, args, options);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exit: (ms) => Promise.race([exited, new Promise<undefined>((r) => setTimeout(r, ms))]),
  };
}

/** A port nothing listens on right now (the OS picked it; it is released before returning). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** True when a TCP connection to 127.0.0.1:port is accepted. */
export async function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(2_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** The environment without provider keys or Shepherd settings, so the sandbox default is what runs. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/_API_KEY$/.test(k) && !k.startsWith('SHEPHERD_')) env[k] = v;
  }
  return env;
}

/** A pid that belonged to a process which has exited (for stale lock and state files). */
export async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await once(child, 'exit');
  return child.pid!;
}
