// Shared rate limits and shared health across daemons of one team, against a real redis-server.
import { strict as assert } from 'node:assert';
import type Redis from 'ioredis';
import { startSandbox, type Sandbox } from '../../daemon/sandbox/server';
import { eventually, type Harness } from '../support/harness';
import { startRedis, type TestServer } from '../support/team-servers';
import { chat, closeAll, redisClient, startTeam, status, teamConfig } from './support';

describe('team mode: shared rate limits and health (three daemons, real redis-server)', () => {
  let redis: TestServer;
  let client: Redis;
  let sandboxes: Sandbox[] = [];
  let team: Harness[] = [];
  before(async () => {
    redis = await startRedis();
    client = redisClient(redis.url);
  });
  afterEach(async () => {
    await closeAll(team);
    await Promise.all(sandboxes.map((s) => s.close()));
    team = [];
    sandboxes = [];
    await client.flushall();
  });
  after(async () => {
    client.disconnect();
    await redis.destroy();
  });

  it("a deployment's rpm holds across daemons: the team is admitted about the limit, not three times it", async () => {
    sandboxes = [await startSandbox({ name: 'up' })];
    const config = teamConfig(sandboxes, redis.url, { routing: { health: { probes: { enabled: false } }, retry: { rounds: 0 }, waitWhenSaturatedMs: 0 } });
    config.models!.chat.deployments![0].rpm = 60; // a burst of 10, then one a second
    team = await startTeam(3, config);
    const started = Date.now();
    await Promise.all(team.map(async (h) => {
      for (let i = 0; i < 20; i++) await chat(h);
    }));
    const seconds = (Date.now() - started) / 1000;
    const admitted = sandboxes[0].requests.filter((r) => r.path.endsWith('/chat/completions')).length;
    // Alone, each daemon would admit its own burst of 10: 30 and more.
    assert.ok(admitted >= 10, `the burst was admitted (${admitted})`);
    assert.ok(admitted <= 10 + Math.ceil(seconds) + 1, `${admitted} admitted in ${seconds.toFixed(1)} s with rpm 60 and a burst of 10`);
  });

  it('a circuit opened on one daemon ejects the deployment on the others, which recover by their own trial', async () => {
    sandboxes = [await startSandbox({ name: 'a' }), await startSandbox({ name: 'b' })];
    const config = teamConfig(sandboxes, redis.url, {
      routing: { health: { probes: { enabled: false } }, retry: { rounds: 0 }, breaker: { failureThreshold: 2, openMs: 1_500 }, strategy: 'priority' } as never,
    });
    team = await startTeam(3, config);
    const a = (await status(team[0])).deployments[0].id;
    await sandboxes[0].setFaults([{ fault: { type: 'status', status: 503, message: 'down' }, count: 2 }]);
    // Daemon 0 meets the two failures (failing over to b each time) and opens a's circuit.
    assert.equal(await chat(team[0]), 200);
    assert.equal(await chat(team[0]), 200);
    assert.equal((await status(team[0])).deployments.find((d) => d.id === a)?.circuit, 'open');
    // The others, which never saw a fail, eject it too...
    for (const h of team.slice(1)) {
      await eventually(async () => (await status(h)).deployments.find((d) => d.id === a)?.circuit === 'open' || undefined, 3_000, 'the hint to eject a');
    }
    const before = sandboxes[0].requests.length;
    assert.equal(await chat(team[1]), 200);
    assert.equal(sandboxes[0].requests.length, before, 'daemon 1 sends nothing to the ejected deployment');
    // ...for the sender's cooldown only: then a trial of their own closes it again.
    await new Promise((r) => setTimeout(r, 1_700));
    assert.equal(await chat(team[2]), 200);
    assert.equal((await status(team[2])).deployments.find((d) => d.id === a)?.circuit, 'closed');
    assert.equal(sandboxes[0].requests.length, before + 1, "daemon 2's trial went to a");
  });
});
