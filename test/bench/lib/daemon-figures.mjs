// Figures of the daemon alone: start-up time and ledger replay.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnNode, stop, waitForOk } from './procs.mjs';
import { shepherdConfig } from './targets.mjs';

/**
 * Start-up: `node dist/daemon.js start` on a fresh data dir with the benchmark config, timed from spawn
 * until GET /v1/models answers 200 (polled every 5 ms). Median of `runs`.
 */
export async function startupTimes({ root, logDir, upstream, runs, daemonJs = join(root, 'dist/daemon.js') }) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const dataDir = mkdtempSync(join(tmpdir(), 'shepherd-bench-start-'));
    const port = await freePort();
    const configPath = join(dataDir, 'bench-config.json');
    writeFileSync(configPath, JSON.stringify(shepherdConfig(upstream.origins, port)));
    const t0 = performance.now();
    const proc = await spawnNode('shepherd (start-up)', [daemonJs, 'start', '--config', configPath, '--data-dir', dataDir, '--port', String(port)], {
      cwd: root,
      logFile: join(logDir, `startup-${i + 1}.log`),
    });
    await waitForOk(`http://127.0.0.1:${port}/v1/models`, { proc, intervalMs: 5 });
    times.push(performance.now() - t0);
    await stop(proc);
    rmSync(dataDir, { recursive: true, force: true });
  }
  const sorted = [...times].sort((a, b) => a - b);
  return { runs, medianMs: sorted[Math.floor(sorted.length / 2)], minMs: sorted[0], maxMs: sorted[sorted.length - 1] };
}

/** The cascade checks' cost on ~1,000-token answers and the parsers' load times (test/bench/cascade-checks.ts). */
export function cascadeChecks({ root, logDir }) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'test/bench/cascade-checks.ts')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.once('exit', (code) => {
      writeFileSync(join(logDir, 'cascade-checks.log'), out + err);
      if (code !== 0) return reject(new Error(`cascade-checks.ts exited with ${code}: ${err.slice(-500)}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()));
      } catch (e) {
        reject(e);
      }
    });
  });
}

/**
 * Ledger replay: runs test/bench/replay.ts (the ledger engineers' own benchmark, kept as is) with
 * `entries` entries and reads its printed figures for both layouts.
 */
export function ledgerReplay({ root, entries, logDir }) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'test/bench/replay.ts'), String(entries)], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    const started = performance.now();
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      writeFileSync(join(logDir, 'replay.log'), out + err);
      if (code !== 0) return reject(new Error(`replay.ts exited with ${code}: ${err.slice(-500)}`));
      try {
        resolve({ entries, wallMs: performance.now() - started, layouts: parseReplay(out) });
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** replay.ts prints a block per layout; take each timed line's first "N ms". */
function parseReplay(text) {
  const layouts = {};
  let current;
  for (const line of text.split('\n')) {
    const head = /^(.+): (\d+) entries, (\d+) MB$/.exec(line.trim());
    if (head) {
      current = { mb: Number(head[3]) };
      layouts[head[1]] = current;
      continue;
    }
    const ms = /^\s+(.+?):\s+(\d+) ms/.exec(line);
    if (!current || !ms) continue;
    const label = ms[1];
    const value = Number(ms[2]);
    if (label.startsWith('full parse')) current.fullParseMs = value;
    else if (label.startsWith('first start')) current.firstStartMs = value;
    else if (label.startsWith('later start')) (current.laterStartMs ??= []).push(value);
    else if (label.startsWith('start after a crash')) current.afterCrashMs = value;
  }
  if (Object.keys(layouts).length === 0) throw new Error(`could not read replay.ts output:\n${text.slice(0, 500)}`);
  return layouts;
}
