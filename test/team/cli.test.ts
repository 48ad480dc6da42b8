// `shepherd team check` and `shepherd team migrate` (the built CLI) against real servers, and what
// they say when a server is missing or down: the config field or environment variable at fault.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, freePort, spawnCaptured } from '../support/processes';
import { startPostgres, startRedis, type TestServer } from '../support/team-servers';

const DAEMON = join(__dirname, '..', '..', 'dist', 'daemon.js');

describe('shepherd team check / team migrate (real servers)', function () {
  this.timeout(60_000);
  let redis: TestServer;
  let pg: TestServer;
  let dir: string;
  before(async () => {
    [redis, pg] = await Promise.all([startRedis(), startPostgres()]);
    dir = mkdtempSync(join(tmpdir(), 'shepherd-team-cli-'));
  });
  after(async () => {
    await Promise.all([redis?.destroy(), pg?.destroy()]);
    rmSync(dir, { recursive: true, force: true });
  });

  async function run(team: object, args: string[], env: NodeJS.ProcessEnv = {}) {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ team: { name: 'crew', member: 'dana', ...team } }));
    const p = spawnCaptured(process.execPath, [DAEMON, 'team', ...args, '--config', join(dir, 'config.json'), '--data-dir', dir], { env: { ...cleanEnv(), ...env } });
    const code = await p.exit(30_000);
    return { code, out: p.stdout(), err: p.stderr() };
  }

  it('migrate applies the migrations once, then says the table is up to date; check reports versions, latency, partitions and the outbox', async () => {
    const servers = { redis: { urlEnv: 'CREW_REDIS' }, postgres: { urlEnv: 'CREW_PG' } };
    const env = { CREW_REDIS: redis.url, CREW_PG: pg.url };
    const first = await run(servers, ['migrate'], env);
    assert.equal(first.code, 0, first.err);
    assert.match(first.out, /shepherd_ledger: applied migration 1: .*\n.*applied migration 2: add the cascade column/);
    const again = await run(servers, ['migrate'], env);
    assert.match(again.out, /shepherd_ledger: up to date, no migration to apply/);

    const check = await run(servers, ['check'], env);
    assert.equal(check.code, 0, check.err);
    assert.match(check.out, /team crew, this daemon's member: dana/);
    assert.match(check.out, /redis: \d+\.\d+\.\d+ at redis:\/\/127\.0\.0\.1:\d+, round trip [\d.]+ ms/);
    assert.match(check.out, /postgres: PostgreSQL \d+\.\d+.* round trip [\d.]+ ms/);
    assert.match(check.out, /table shepherd_ledger: migrations up to date \(version 2\)/);
    assert.match(check.out, /ledger lines waiting to be shipped from .*: 0/);
    assert.match(check.out, /team check: ok/);
  });

  it('check fails (exit 1) naming the unset variable and the unreachable server', async () => {
    const down = await freePort();
    const r = await run({ redis: { url: `redis://127.0.0.1:${down}` }, postgres: { urlEnv: 'CREW_PG_UNSET' } }, ['check']);
    assert.equal(r.code, 1);
    assert.match(r.err, /FAILED redis: cannot reach redis:\/\/127\.0\.0\.1:\d+\/? \(team\.redis\.url\): .*ECONNREFUSED/);
    assert.match(r.err, /FAILED postgres: team\.postgres\.urlEnv: the environment variable CREW_PG_UNSET is not set/);
    const pgDown = await run({ postgres: { url: `postgres://u:hunter2@127.0.0.1:${down}/db` } }, ['check']);
    assert.equal(pgDown.code, 1);
    assert.match(pgDown.err, /FAILED postgres: cannot reach postgres:\/\/u:\*\*\*@127\.0\.0\.1:\d+\/db \(team\.postgres\.url\): connect ECONNREFUSED/);
    assert.doesNotMatch(pgDown.out + pgDown.err, /hunter2/, 'the password is never printed');
  });

  it('a daemon whose team.postgres.urlEnv is unset refuses to start and names the variable', async () => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ team: { name: 'crew', postgres: { urlEnv: 'CREW_PG_UNSET' } } }));
    const p = spawnCaptured(process.execPath, [DAEMON, 'start', '--config', join(dir, 'config.json'), '--data-dir', dir, '--port', '0'], { env: cleanEnv() });
    try {
      assert.equal(await p.exit(20_000), 1);
      assert.match(p.stderr(), /team\.postgres\.urlEnv: the environment variable CREW_PG_UNSET is not set/);
    } finally {
      p.child.kill('SIGKILL'); // a daemon that started after all must not outlive the test
    }
  });
});
