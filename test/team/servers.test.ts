// The test servers themselves: each team test builds on these, so a broken start shows here first.
import { strict as assert } from 'node:assert';
import Redis from 'ioredis';
import { Client } from 'pg';
import { startPostgres, startRedis, type TestServer } from '../support/team-servers';

describe('team test servers (real redis-server and PostgreSQL on loopback)', () => {
  let redis: TestServer;
  let pg: TestServer;
  before(async () => {
    [redis, pg] = await Promise.all([startRedis(), startPostgres()]);
  });
  after(async () => {
    await Promise.all([redis?.destroy(), pg?.destroy()]);
  });

  it('Redis keeps data across a SIGKILL and restart (append-only file)', async () => {
    const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await client.connect();
    await client.set('k', '42');
    client.disconnect();
    await redis.kill();
    await redis.start();
    const again = new Redis(redis.url);
    assert.equal(await again.get('k'), '42');
    again.disconnect();
  });

  it('PostgreSQL keeps committed rows across a SIGKILL and restart', async () => {
    const client = new Client({ connectionString: pg.url });
    await client.connect();
    await client.query('create table t (n int)');
    await client.query('insert into t values (7)');
    await client.end();
    await pg.kill();
    await pg.start();
    const again = new Client({ connectionString: pg.url });
    await again.connect();
    const { rows } = await again.query('select n from t');
    assert.deepEqual(rows, [{ n: 7 }]);
    await again.end();
  });
});
