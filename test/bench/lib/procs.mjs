// Child processes of the benchmark: spawning, waiting until they answer, memory readings from /proc,
// and killing every one of them at the end, on error and on Ctrl-C.
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const children = new Set();

/** Spawns `node ...args`; stdout/stderr go to `logFile`. Resolves with the first JSON line printed on stdout when `jsonLine`. */
export function spawnNode(name, args, { cwd, env, logFile, jsonLine = false } = {}) {
  const log = openSync(logFile, 'a');
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', jsonLine ? 'pipe' : log, log],
  });
  closeSync(log);
  const proc = { name, child, pid: child.pid, exited: false };
  children.add(proc);
  child.once('exit', (code, signal) => {
    proc.exited = true;
    proc.exit = { code, signal };
    children.delete(proc);
  });
  if (!jsonLine) return Promise.resolve(proc);
  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`${name} printed nothing within 20 s (log: ${logFile})`)), 20_000);
    child.stdout.on('data', (chunk) => {
      if (proc.info) return;
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      try {
        proc.info = JSON.parse(buffered.slice(0, nl));
        resolve(proc);
      } catch (err) {
        reject(new Error(`${name} printed no JSON line: ${buffered.slice(0, 200)}`));
      }
    });
    child.stdout.resume();
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!proc.info) reject(new Error(`${name} exited with ${code} before it was ready (log: ${logFile})`));
    });
  });
}

/** Polls GET `url` until it answers 200; bounded by `timeoutMs`. Returns the ms it took. */
export async function waitForOk(url, { timeoutMs = 20_000, proc, intervalMs = 5 } = {}) {
  const start = performance.now();
  while (performance.now() - start < timeoutMs) {
    if (proc?.exited) throw new Error(`${proc.name} exited (${JSON.stringify(proc.exit)}) before ${url} answered`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return performance.now() - start;
    } catch {
      // not listening yet
    }
    await sleep(intervalMs);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}

/** A free loopback port (bound and released at once). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** VmRSS and VmHWM (peak RSS) of a process, in MB, from /proc/PID/status. */
export function memory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
  } catch {
    return { rssMb: NaN, hwmMb: NaN };
  }
}

/** CPU time (user + system) a process has used so far, in seconds, from /proc/PID/stat. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

/** Resets a process's peak-RSS mark (VmHWM) to its current RSS; false where the kernel refuses. */
export function resetPeakRss(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Samples VmRSS every `everyMs` until stopped; returns the highest sample. */
export function sampleRss(pid, everyMs = 100) {
  let max = 0;
  const timer = setInterval(() => {
    const { rssMb } = memory(pid);
    if (rssMb > max) max = rssMb;
  }, everyMs);
  return () => {
    clearInterval(timer);
    return max;
  };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
export async function stop(proc, graceMs = 3000) {
  if (!proc || proc.exited) return;
  const exited = new Promise((resolve) => proc.child.once('exit', resolve));
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export async function stopAll() {
  await Promise.all([...children].map((p) => stop(p)));
}

/** Kills every child synchronously: for exit paths that cannot wait. */
export function killAllNow() {
  for (const p of children) {
    try {
      p.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}
