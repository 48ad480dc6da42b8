// Shared budgets: three daemons spend against one hard budget kept in Redis. None of them can take the
// team past the limit by more than the estimates of requests in flight, the alert goes out once for
// the team, and Redis's team spend equals what the ledgers hold.
import { strict as assert } from 'node:assert';
import type Redis from 'ioredis';
import { startSandbox, type Sandbox } from '../../daemon/sandbox/server';
import { eventually, type Harness } from '../support/harness';
import { startRedis, type TestServer } from '../support/team-servers';
import { chat, closeAll, ledgerUnits, redisClient, startTeam, TEAM, teamConfig } from './support';

describe('team mode: shared budgets in Redis (three daemons, real redis-server)', () => {
  let redis: TestServer;
  let sandbox: Sandbox;
  let client: Redis;
  let team: Harness[] = [];
  before(async () => {
    redis = await startRedis();
    sandbox = await startSandbox({ name: 'up' });
    client = redisClient(redis.url);
  });
  afterEach(async () => {
    await closeAll(team);
    team = [];
    await client.flushall();
  });
  after(async () => {
    client.disconnect();
    await sandbox.close();
    await redis.destroy();
  });

  it('a hard budget is never overshot by more than the in-flight estimates, and its alert fires once', async () => {
    const LIMIT_USD = 0.01;
    const PER_DAEMON = 4; // concurrent requests per daemon
    team = await startTeam(
      3,
      teamConfig([sandbox], redis.url, { budgets: { cap: { limitUsd: LIMIT_USD, action: 'block', thresholds: [50] } } }),
    );
    // Each request: ~20 output tokens at $8/M plus its prompt; the estimate is what reservations hold.
    const statuses: number[] = [];
    await Promise.all(
      team.flatMap((h) =>
        Array.from({ length: PER_DAEMON }, async () => {
          for (let i = 0; i < 60; i++) {
            const s = await chat(h);
            statuses.push(s);
            if (s === 402) return;
          }
        }),
      ),
    );
    const spent = (await ledgerUnits(team)) / 1e10;
    const maxEstimate = (Math.ceil(JSON.stringify([{ role: 'user', content: 'hello there' }]).length / 4) * 2 + 20 * 8) / 1e6;
    const inflight = 3 * PER_DAEMON;
    assert.ok(statuses.includes(402), 'the budget refused at last');
    assert.ok(spent >= LIMIT_USD * 0.8, `the budget was used (${spent} of ${LIMIT_USD})`);
    // Three islands would each spend the whole limit: three times it.
    assert.ok(spent <= LIMIT_USD + inflight * maxEstimate, `team spend ${spent} <= limit ${LIMIT_USD} + ${inflight} x ${maxEstimate}`);
    // Redis's count is the ledgers' sum, once each.
    const keys = await client.keys('*:budget:cap:*:spent');
    assert.equal(keys.length, 1);
    await eventually(async () => Number(await client.get(keys[0])) === (await ledgerUnits(team)) || undefined, 5_000, 'team spend to equal the ledgers');
    // Idle daemons give their leases back: nothing stays held.
    const reserved = await client.keys('*:budget:cap:*:reserved');
    await eventually(async () => Number(await client.get(reserved[0])) === 0 || undefined, 3_000, 'the leases to be given back');
    // One alert for the team, not one per daemon.
    await new Promise((r) => setTimeout(r, 300));
    const alerts = team.flatMap((h) => h.logs.filter((l) => l.includes('budget alert')));
    assert.equal(alerts.length, 1, alerts.join('\n'));
  });

  it('a member-scoped budget counts that member on every daemon, and spares the other members', async () => {
    const members = { alice: { apiKeys: ['alice-key-0001'] }, bob: { apiKeys: ['bob-key-00001'] } };
    team = await startTeam(2, teamConfig([sandbox], redis.url, { team: { name: TEAM, members }, budgets: { alice: { limitUsd: 0.0005, action: 'block', scope: { member: 'alice' } } } }));
    // Alice spends her budget through daemon 1...
    let status = 200;
    for (let i = 0; i < 20 && status === 200; i++) status = await chat(team[1], 20, 'alice-key-0001');
    assert.equal(status, 402, "alice's budget stopped her on daemon 1");
    // ...and daemon 0, where she has spent nothing herself, refuses her too; Bob goes on.
    assert.equal(await chat(team[0], 20, 'alice-key-0001'), 402);
    assert.equal(await chat(team[0], 20, 'bob-key-00001'), 200);
    const entries = await team[1].ledgerEntries();
    assert.ok(entries.length > 0 && entries.every((e) => e.member === 'alice'));
  });
});
