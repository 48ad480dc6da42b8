// Team mode at start, with the real built daemon: local mode's bundle holds no Redis client (team
// mode is dist/team.js, loaded only with a team section); an unreachable Redis does not stop a start
// (degraded, requests served); a Redis URL in an unset variable does, naming the variable.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, type Sandbox } from '../../daemon/sandbox/server';
import { configFor, eventually } from '../support/harness';
import { cleanEnv, freePort, spawnCaptured, type Spawned } from '../support/processes';
import { startRedis } from '../support/team-servers';

const root = join(__dirname, '../..');
const daemonJs = join(root, 'dist/daemon.js');

describe('team mode at start (the built daemon)', () => {
  let sandbox: Sandbox;
  let dir: string;
  const children: Spawned[] = [];
  before(async () => {
    sandbox = await startSandbox({ name: 'up' });
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shepherd-team-start-'));
  });
  afterEach(async () => {
    // A daemon in team mode stops on SIGTERM like any other: nothing of Redis keeps it alive.
    const stuck: string[] = [];
    for (const c of children.splice(0)) {
      if (c.child.exitCode !== null || c.child.signalCode !== null) continue;
      c.child.kill('SIGTERM');
      if ((await c.exit(10_000)) === undefined) {
        c.child.kill('SIGKILL');
        stuck.push(c.stdout() + c.stderr());
      }
    }
    await rm(dir, { recursive: true, force: true });
    assert.deepEqual(stuck, [], `a daemon did not stop on SIGTERM: ${stuck.join('\n---\n')}`);
  });
  after(() => sandbox.close());

  const start = async (team: unknown, env: NodeJS.ProcessEnv = {}) => {
    const port = await freePort();
    await writeFile(join(dir, 'config.json'), JSON.stringify({ ...configFor([sandbox]), team }));
    const child = spawnCaptured(process.execPath, [daemonJs, 'start', '--config', join(dir, 'config.json'), '--data-dir', dir, '--port', String(port)], { cwd: root, env: { ...cleanEnv(), ...env } });
    children.push(child);
    return { child, url: `http://127.0.0.1:${port}` };
  };
  const teamStatus = async (url: string) => ((await (await fetch(`${url}/v1/shepherd/status`)).json()) as { team?: { state: string } }).team;

  it('local mode bundles no Redis or PostgreSQL client: team mode is dist/team.js apart', () => {
    const daemon = readFileSync(daemonJs, 'utf8');
    assert.equal(daemon.includes('ioredis'), false);
    assert.match(readFileSync(join(root, 'dist/team.js'), 'utf8'), /ioredis/);
  });

  it('starts with Redis unreachable: serves on local state and says degraded', async () => {
    const port = await freePort();
    const { url, child } = await start({ name: 't', redis: { url: `redis://127.0.0.1:${port}` } });
    await eventually(async () => (await teamStatus(url).catch(() => undefined))?.state === 'degraded' || undefined, 10_000, `a degraded start; stderr: ${child.stderr()}`);
    const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }) });
    assert.equal(res.status, 200);
  });

  it('a Redis URL in an unset environment variable stops the start, naming it', async () => {
    const { child } = await start({ name: 't', redis: { urlEnv: 'MY_TEAM_REDIS' } });
    assert.equal(await child.exit(10_000), 1);
    assert.match(child.stderr() + child.stdout(), /MY_TEAM_REDIS/);
  });

  it('with the URL in its variable: team state ok', async () => {
    const redis = await startRedis();
    try {
      const { url } = await start({ name: 't', redis: { urlEnv: 'MY_TEAM_REDIS' } }, { MY_TEAM_REDIS: redis.url });
      await eventually(async () => (await teamStatus(url).catch(() => undefined))?.state === 'ok' || undefined, 10_000, 'team state ok');
    } finally {
      await redis.destroy();
    }
  });
});
