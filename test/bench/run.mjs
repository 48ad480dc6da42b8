#!/usr/bin/env node
// `npm run bench`: the side-by-side benchmark of issue 7. On loopback it starts one upstream (Shepherd's
// sandbox, instant answers), the bare Node proxy, Shepherd and Portkey's gateway, each in its own
// process, and measures them in one run with the same load generator (autocannon). It prints a table,
// writes docs/benchmarks.json and regenerates docs/BENCHMARKS.md.
//   node test/bench/run.mjs [--quick]     (--quick: shorter runs and 100,000 ledger entries; figures are rougher)
//   node test/bench/run.mjs --report      (only regenerates the table and docs/BENCHMARKS.md from docs/benchmarks.json)
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killAllNow, memory, stop, stopAll } from './lib/procs.mjs';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = join(benchDir, '..', '..');
const quick = process.argv.includes('--quick');
const logDir = join(benchDir, 'bench-results', 'logs');

// Durations: long enough for stable figures, short enough that the whole run takes a few minutes.
export const PLAN = quick
  ? { rounds: 1, warmupS: 1, throughputS: 3, c1S: 2, rateS: 3, rate: 500, streamRuns: 5, openStreams: 1000, rampMs: 2000, startupRuns: 3, replayEntries: 100_000 }
  : { rounds: 3, warmupS: 2, throughputS: 3, c1S: 2, rateS: 2, rate: 500, streamRuns: 12, openStreams: 1000, rampMs: 2000, startupRuns: 5, replayEntries: 1_000_000 };

function ensureDeps() {
  const rootRequire = createRequire(join(root, 'package.json'));
  for (const dep of ['undici', 'tsx']) {
    try {
      rootRequire.resolve(dep);
    } catch {
      throw new Error(`the project's dependencies are missing (${dep}): run \`npm install\` at the repository root first`);
    }
  }
  if (!existsSync(join(root, 'dist', 'daemon.js'))) throw new Error('dist/daemon.js is missing: run `npm run build` (npm run bench does it)');
  // The benchmark's own tools (autocannon, Portkey) live in test/bench/node_modules, installed from its lock file.
  const installed = join(benchDir, 'node_modules', '.package-lock.json');
  const lock = join(benchDir, 'package-lock.json');
  if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
    console.log('installing the benchmark tools into test/bench/node_modules (npm ci) ...');
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: benchDir, stdio: 'inherit' });
  }
  return createRequire(join(benchDir, 'package.json'));
}

/**
 * Other work may rebuild dist/ while the benchmark runs; every Shepherd process of one run must load
 * the same complete bundle. The bundle loads only its companions beside it (the tokenizer, the
 * replay worker and team mode, on first use), so those are copied too. A copy caught half-written does not load:
 * check it and copy again.
 */
async function snapshotDaemon() {
  const dir = mkdtempSync(join(tmpdir(), 'shepherd-bench-dist-'));
  const file = join(dir, 'daemon.js');
  for (let attempt = 1; ; attempt++) {
    copyFileSync(join(root, 'dist', 'daemon.js'), file);
    for (const companion of ['tokenizer.js', 'replay-worker.js', 'cascade-parsers.js', 'cascade-ts-parser.js', 'cascade-tree-sitter.js', 'tree-sitter.wasm', 'tree-sitter-python.wasm', 'team.js']) copyFileSync(join(root, 'dist', companion), join(dir, companion));
    try {
      execFileSync(process.execPath, [file, '--version'], { stdio: 'pipe' });
      const sha = createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 12);
      return { dir, file, sha };
    } catch (err) {
      if (attempt >= 5) throw new Error(`dist/daemon.js does not load (is a build running?): ${err.stderr ?? err}`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

/** The commit the build came from, and whether the work tree had changes (read-only git). */
function sourceRevision() {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    // GIT_OPTIONAL_LOCKS=0: status must not refresh (write) the index of a tree others are working in.
    const env = { ...process.env, GIT_OPTIONAL_LOCKS: '0' };
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'daemon', 'shared'], { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return { commit, uncommittedChanges: dirty };
  } catch {
    return { commit: 'unknown' };
  }
}

async function main() {
  const t0 = performance.now();
  const loadBefore = loadavg()[0];
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });
  const benchRequire = ensureDeps();
  const autocannon = benchRequire('autocannon');
  const { startUpstream, direct, startBare, startShepherd, startPortkey } = await import('./lib/targets.mjs');
  const { run, interleaved, merge } = await import('./lib/load.mjs');
  const { pacedStreams } = await import('./lib/streams.mjs');
  const { openStreamsPhase } = await import('./lib/open-streams.mjs');
  const { startupTimes, ledgerReplay, cascadeChecks } = await import('./lib/daemon-figures.mjs');
  const { sanityCheck } = await import('./lib/sanity.mjs');
  const { protocolPhases } = await import('./lib/protocols.mjs');
  const { teamPhase } = await import('./lib/team.mjs');
  const report = await import('./lib/report.mjs');

  const step = (text) => console.log(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(3)} s] ${text}`);
  const results = { date: new Date().toISOString(), command: `npm run bench${quick ? ' -- --quick' : ''}`, quick, plan: PLAN, targets: {} };

  const daemon = await snapshotDaemon();
  cleanups.push(() => rmSync(daemon.dir, { recursive: true, force: true }));
  results.build = { ...sourceRevision(), daemonJsSha256: daemon.sha };
  step('starting the upstream, the bare proxy, Shepherd and Portkey');
  const upstream = await startUpstream({ root, logDir });
  const targets = [
    direct(upstream),
    await startBare({ root, logDir, upstream }),
    await startShepherd({ root, logDir, upstream, daemonJs: daemon.file }),
    await startPortkey({ benchDir, logDir, upstream }),
  ];
  for (const t of targets) {
    await sanityCheck(t);
    results.targets[t.name] = {};
  }

  step(`warm-up (${PLAN.warmupS} s each at 50 connections)`);
  for (const t of targets) await run(autocannon, t, { connections: 50, durationS: PLAN.warmupS });

  // Each phase runs every target `rounds` times, interleaved (see interleaved() in lib/load.mjs).
  const phase = async (key, label, options) => {
    step(`${label} (${PLAN.rounds} x ${options.durationS} s each, interleaved)`);
    const runs = await interleaved(targets, PLAN.rounds, (t) => run(autocannon, t, options));
    for (const [name, list] of runs) results.targets[name][key] = merge(list);
  };
  await phase('c50', 'throughput at 50 connections', { connections: 50, durationS: PLAN.throughputS });
  await phase('c1', 'latency at 1 connection', { connections: 1, durationS: PLAN.c1S });
  await phase('rate', `latency at a fixed ${PLAN.rate} requests/s`, { connections: 20, durationS: PLAN.rateS, overallRate: PLAN.rate });
  step(`streaming: ${PLAN.streamRuns} streams of 20 chunks, 20 ms apart, through each, interleaved`);
  for (const [name, s] of await pacedStreams(targets, { runs: PLAN.streamRuns })) results.targets[name].stream = s;
  for (const t of targets) results.targets[t.name].memoryAfterLoad = memory(t.pid);
  // The other endpoints (Responses API, embeddings, Anthropic passthrough vs translation): lib/protocols.mjs.
  results.protocols = await protocolPhases({ autocannon, targets: Object.fromEntries(targets.map((t) => [t.name, t])), plan: PLAN, step });
  // Team mode (issue 18): the same Shepherd with a team section and a real redis-server, against local mode.
  results.team = await teamPhase({ autocannon, root, logDir, upstream, daemonJs: daemon.file, plan: PLAN, step });

  for (const t of targets.slice(1)) await stop(t.proc);
  step(`${PLAN.openStreams} concurrent open streams through fresh processes`);
  results.openStreams = {
    shepherd: await openStreamsPhase({ start: (probeFile) => startShepherd({ root, logDir, upstream, probeFile, tag: '-streams', daemonJs: daemon.file }), plan: PLAN, logDir }),
    'bare proxy': await openStreamsPhase({ start: (probeFile) => startBare({ root, logDir, upstream, probeFile, tag: '-streams' }), plan: PLAN, logDir }),
  };

  step(`daemon start-up (${PLAN.startupRuns} runs)`);
  results.startup = await startupTimes({ root, logDir, upstream, runs: PLAN.startupRuns, daemonJs: daemon.file });
  await stopAll();

  step(`ledger replay, ${PLAN.replayEntries.toLocaleString('en')} entries (test/bench/replay.ts)`);
  // replay.ts runs the daemon's ledger code from source, which others may be editing: a failure there
  // is reported, not fatal to the figures already measured.
  results.replay = await ledgerReplay({ root, entries: PLAN.replayEntries, logDir }).catch((err) => ({ entries: PLAN.replayEntries, error: String(err?.message ?? err), layouts: {} }));

  step('cascade checks on ~1,000-token answers (test/bench/cascade-checks.ts)');
  results.cascadeChecks = await cascadeChecks({ root, logDir }).catch((err) => ({ error: String(err?.message ?? err) }));

  results.machine = { ...report.machine(), loadAverageBefore: loadBefore, loadAverageAfter: loadavg()[0] };
  results.versions = report.versions(root, benchDir);
  results.runSeconds = (performance.now() - t0) / 1000;
  report.derive(results);

  const jsonPath = join(root, 'docs', 'benchmarks.json');
  const mdPath = join(root, 'docs', 'BENCHMARKS.md');
  if (quick) {
    // A quick run is for trying the harness; it does not replace the published figures.
    writeFileSync(join(benchDir, 'bench-results', 'quick.json'), `${JSON.stringify(results, null, 2)}\n`);
  } else {
    writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(mdPath, report.markdown(results));
  }
  console.log(`\n${report.table(results)}`);
  console.log(
    quick
      ? `\nquick run: figures in ${relative(root, join(benchDir, 'bench-results', 'quick.json'))} (docs/ left as they were)`
      : `\nwrote ${relative(root, jsonPath)} and ${relative(root, mdPath)}`,
  );
  step('done');
}

async function reportOnly() {
  const report = await import('./lib/report.mjs');
  const jsonPath = join(root, 'docs', 'benchmarks.json');
  const results = report.derive(JSON.parse(readFileSync(jsonPath, 'utf8')));
  writeFileSync(join(root, 'docs', 'BENCHMARKS.md'), report.markdown(results));
  console.log(`${report.table(results)}\n\nregenerated docs/BENCHMARKS.md from ${relative(root, jsonPath)}`);
}

const cleanups = [];
let stopping = false;
async function bail(code) {
  if (stopping) return killAllNow();
  stopping = true;
  await stopAll().catch(() => killAllNow());
  for (const f of cleanups) f();
  process.exit(code);
}
process.on('SIGINT', () => void bail(130));
process.on('SIGTERM', () => void bail(143));
process.on('exit', () => killAllNow());

(process.argv.includes('--report') ? reportOnly() : main()).then(
  () => bail(0),
  (err) => {
    console.error(`\nbench failed: ${err?.stack ?? err}`);
    void bail(1);
  },
);
