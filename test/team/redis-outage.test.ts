// Redis killed and restarted mid-load: no request fails because of it, every daemon says "team state
// degraded" meanwhile and recovers after, and the spend made meanwhile is counted in Redis once.
import { strict as assert } from 'node:assert';
import type Redis from 'ioredis';
import { startSandbox, type Sandbox } from '../../daemon/sandbox/server';
import { eventually, type Harness } from '../support/harness';
import { startRedis, type TestServer } from '../support/team-servers';
import { chat, closeAll, ledgerUnits, redisClient, startTeam, status, teamConfig } from './support';

describe('team mode: Redis killed and restarted under load (three daemons, real redis-server)', () => {
  let redis: TestServer;
  let sandbox: Sandbox;
  let team: Harness[] = [];
  before(async () => {
    redis = await startRedis();
    sandbox = await startSandbox({ name: 'up' });
  });
  after(async () => {
    await closeAll(team);
    await sandbox.close();
    await redis.destroy();
  });

  it('serves on local state, reports degraded, then reconciles: team spend equals the ledgers', async () => {
    const config = teamConfig([sandbox], redis.url, { budgets: { month: { limitUsd: 100, action: 'block' } } });
    config.models!.chat.deployments![0].rpm = 60_000;
    team = await startTeam(3, config);
    for (const h of team) assert.equal((await status(h)).team?.state, 'ok');

    let running = true;
    const statuses: number[] = [];
    const load = Promise.all(
      team.flatMap((h) =>
        [0, 1].map(async () => {
          while (running) statuses.push(await chat(h));
        }),
      ),
    );
    const sent = () => statuses.length;
    await eventually(() => sent() > 30 || undefined, 5_000, 'load before the outage');
    await redis.kill();
    for (const h of team) await eventually(async () => (await status(h)).team?.state === 'degraded' || undefined, 5_000, 'degraded');
    const atKill = sent();
    await eventually(() => sent() > atKill + 60 || undefined, 10_000, 'load while Redis is down');
    const degradedMetric = await (await fetch(`${team[0].daemon.url}/metrics`)).text();
    assert.match(degradedMetric, /^shepherd_team_degraded 1$/m);
    await redis.start();
    for (const h of team) {
      await eventually(async () => {
        const t = (await status(h)).team;
        return (t?.state === 'ok' && t.redis?.unsyncedUsd === 0) || undefined;
      }, 10_000, 'recovered and reconciled');
    }
    const atStart = sent();
    await eventually(() => sent() > atStart + 30 || undefined, 5_000, 'load after the outage');
    running = false;
    await load;

    assert.ok(statuses.length > 120);
    assert.deepEqual([...new Set(statuses)], [200], 'every request answered');
    const check: Redis = redisClient(redis.url);
    try {
      const keys = await check.keys('*:budget:month:*:spent');
      assert.equal(keys.length, 1);
      await eventually(async () => Number(await check.get(keys[0])) === (await ledgerUnits(team)) || undefined, 5_000, 'Redis spend to equal the ledgers');
    } finally {
      check.disconnect();
    }
    assert.match(await (await fetch(`${team[0].daemon.url}/metrics`)).text(), /^shepherd_team_degraded 0$/m);
  });
});
