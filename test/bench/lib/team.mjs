// Team mode's row (issue 18): Shepherd with a `team` section against the same Shepherd in local mode,
// both fresh, with the same config otherwise: a hard budget (so every request is reserved and settled)
// and an rpm on every deployment far above the load (so every attempt takes from the limiter). Team
// mode keeps both in a real redis-server started here, shares health, and reserves, settles and takes
// over loopback: the row shows what that costs per request at c=1 and in throughput at c=50.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { interleaved, merge, run } from './load.mjs';
import { freePort, stop } from './procs.mjs';
import { shepherdConfig, startShepherd } from './targets.mjs';

/** Returns { c1: {local, team}, c50: {local, team}, redis } or { skipped: reason }. */
export async function teamPhase({ autocannon, root, logDir, upstream, daemonJs, plan, step }) {
  const bin = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim();
  if (!bin) {
    const skipped = 'redis-server is not installed (apt-get install redis-server)';
    step(`team mode: skipped: ${skipped}`);
    return { skipped };
  }
  step('team mode: Shepherd with a team section and a real redis-server vs local mode, c=1 and c=50');
  const redis = await startRedis(bin, logDir);
  const parties = [];
  try {
    // The same deployments in both, with an rpm no load here reaches: the limiter runs, never refuses.
    const models = shepherdConfig(upstream.origins, 0).models;
    for (const group of Object.values(models)) for (const d of group.deployments) d.rpm = 10_000_000;
    const common = { models, budgets: { month: { limitUsd: 1_000_000, action: 'block' } } };
    const team = { name: 'bench', member: 'bench', redis: { url: redis.url } };
    parties.push(await startShepherd({ root, logDir, upstream, daemonJs, tag: '-local', name: 'local mode', configExtra: common }));
    parties.push(await startShepherd({ root, logDir, upstream, daemonJs, tag: '-team', name: 'team mode', configExtra: { ...common, team } }));
    for (const t of parties) await run(autocannon, t, { connections: 50, durationS: plan.warmupS });
    const measure = async (options) => {
      const runs = await interleaved(parties, plan.rounds, (t) => run(autocannon, t, options));
      return { local: merge(runs.get('local mode')), team: merge(runs.get('team mode')) };
    };
    const c50 = await measure({ connections: 50, durationS: plan.throughputS });
    const c1 = await measure({ connections: 1, durationS: plan.c1S });
    const status = await (await fetch(`${parties[1].originFor()}/v1/shepherd/status`)).json();
    return { c1, c50, redis: { version: redis.version }, teamState: status.team?.state ?? 'missing' };
  } finally {
    for (const t of parties) {
      await stop(t.proc);
      rmSync(t.dataDir, { recursive: true, force: true });
    }
    await redis.stop();
  }
}

/** redis-server on a free loopback port, in memory only (no persistence: the figure is the protocol's cost). */
async function startRedis(bin, logDir) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'shepherd-bench-redis-'));
  const log = openSync(join(logDir, 'redis.log'), 'a');
  const child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: ['ignore', log, log] });
  closeSync(log);
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.match(/v=(\S+)/)?.[1] ?? 'unknown';
  for (let i = 0; !(await listening(port)); i++) {
    if (i > 200) throw new Error('redis-server did not listen within 10 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    version,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function listening(port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => resolve(true) || socket.destroy());
    socket.once('error', () => resolve(false));
  });
}
