// The team ledger in PostgreSQL against real built daemons and a real server: every request a client saw
// complete is in PostgreSQL exactly once, through concurrent load, a PostgreSQL crash mid-load, and a
// daemon killed with SIGKILL mid-shipment; and the team's spend from PostgreSQL adds up the daemons'.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { startPostgres, type TestServer } from '../support/team-servers';
import { chat, load, removeDir, sleep, startTeamDaemon, waitFor, type TeamDaemon } from '../support/team-daemons';
import { connectControl, hello } from '../support/control-client';

const DAEMON = join(__dirname, '..', '..', 'dist', 'daemon.js');

describe('team ledger in PostgreSQL (real daemons, real server)', function () {
  this.timeout(180_000);
  let pg: TestServer;
  let daemons: TeamDaemon[] = [];

  before(async () => {
    pg = await startPostgres();
  });
  after(async () => {
    await pg?.destroy();
  });
  afterEach(async () => {
    for (const d of daemons) {
      await d.kill().catch(() => undefined);
      removeDir(d.dir);
    }
    daemons = [];
    await query('drop table if exists shepherd_ledger, shepherd_schema_migrations cascade');
  });

  async function query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new Client({ connectionString: pg.url });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  /** Every id in PostgreSQL with its row count (more than 1 would be a double count). */
  async function rows(): Promise<Map<string, number>> {
    const exists = await query<{ t: string | null }>("select to_regclass('shepherd_ledger') as t");
    if (exists[0].t === null) return new Map();
    const r = await query<{ id: string; n: string }>('select id, count(*) as n from shepherd_ledger group by id');
    return new Map(r.map((x) => [x.id, Number(x.n)]));
  }

  /** Waits until PostgreSQL holds exactly the daemons' ledger lines, and checks no id is in it twice. */
  async function allShipped(ds: TeamDaemon[]): Promise<Map<string, number>> {
    const local = new Set(ds.flatMap((d) => d.ledger().map((e) => e.id)));
    const got = await waitFor('every ledger line in PostgreSQL', 60_000, async () => {
      const r = await rows();
      return r.size === local.size ? r : undefined;
    });
    assert.deepEqual([...got.keys()].sort(), [...local].sort());
    assert.deepEqual([...got.values()].filter((n) => n !== 1), [], 'no request is in PostgreSQL twice');
    return got;
  }

  const team = (pgUrl: string, extra = {}) => ({ postgres: { url: pgUrl, flushMs: 100, batchSize: 50, ...extra } });

  it('three daemons under concurrent load: the rows equal the requests the clients saw complete, once each; team spend by member adds up', async () => {
    daemons = await Promise.all(['alice', 'bob', 'carol'].map((m) => startTeamDaemon(m, team(pg.url))));
    const started = Date.now();
    const outcomes = await load(daemons, 8, () => Date.now() - started > 4_000);
    const completed = [...outcomes.values()].flat().filter((o) => o.status === 200).map((o) => o.id!);
    assert.ok(completed.length >= 30, `only ${completed.length} requests completed`);
    const shipped = await allShipped(daemons);
    for (const id of completed) assert.equal(shipped.get(id), 1, `${id} is in PostgreSQL once`);
    // Each member's rows are its own daemon's requests.
    const byMember = await query<{ member: string; n: string }>('select member, count(*) as n from shepherd_ledger group by member order by member');
    assert.deepEqual(byMember.map((r) => [r.member, Number(r.n)]), daemons.map((d) => [d.member, d.ledger().length]));

    // The team's spend (from PostgreSQL, asked of any daemon) is the sum of each daemon's own, by member.
    const teamReport = (await (await fetch(`${daemons[0].url}/v1/shepherd/spend?scope=team&groupBy=member`)).json()) as SpendReport;
    assert.equal(teamReport.scope, 'team');
    for (const d of daemons) {
      const own = (await (await fetch(`${d.url}/v1/shepherd/spend?groupBy=member`)).json()) as SpendReport;
      const mine = own.sandbox!.rows.find((r) => r.key === d.member)!;
      const inTeam = teamReport.sandbox!.rows.find((r) => r.key === d.member)!;
      assert.equal(inTeam.requests, mine.requests, `${d.member}: requests`);
      assert.equal(inTeam.costUsd, mine.costUsd, `${d.member}: cost`);
      assert.equal(inTeam.completionTokens, mine.completionTokens, `${d.member}: tokens`);
    }

    // The status (and the extension's snapshot) carries the team's month by member, read when asked.
    const expected = daemons.map((d) => [d.member, d.ledger().filter((e) => e.parent === undefined).length]).sort();
    const teamSpend = await waitFor('the team spend by member in the status', 20_000, async () => {
      const t = ((await daemons[1].status()) as { teamSpend?: { members: { member: string; requests: number; sandboxRequests: number }[] } }).teamSpend;
      const got = t?.members.map((m) => [m.member, m.requests + m.sandboxRequests]).sort();
      return JSON.stringify(got) === JSON.stringify(expected) ? got : undefined;
    });
    assert.equal(teamSpend.length, 3);

    // The command line, with no daemon to ask (an empty data dir): straight from PostgreSQL, the same figures.
    const empty = mkdtempSync(join(tmpdir(), 'shepherd-team-cli-'));
    try {
      const cli = (...args: string[]) => execFileSync(process.execPath, [DAEMON, ...args, '--config', join(daemons[0].dir, 'config.json'), '--data-dir', empty], { encoding: 'utf8', maxBuffer: 256 << 20 });
      const fromCli = JSON.parse(cli('spend', '--team', '--by', 'member', '--format', 'json')) as SpendReport;
      assert.deepEqual(fromCli.sandbox!.rows.map((r) => [r.key, r.requests, r.costUsd]), teamReport.sandbox!.rows.map((r) => [r.key, r.requests, r.costUsd]));
      const exported = JSON.parse(cli('export', '--team', '--format', 'json')) as { id: string; member: string }[];
      assert.deepEqual(exported.map((e) => e.id).sort(), [...shipped.keys()].sort());
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('PostgreSQL killed and restarted mid-load: no request fails, the status says failing, and afterwards every request is in PostgreSQL once', async () => {
    daemons = await Promise.all(['alice', 'bob'].map((m) => startTeamDaemon(m, team(pg.url))));
    let stop = false;
    const running = load(daemons, 6, () => stop);
    await sleep(1_000);
    await pg.kill();
    const failing = await waitFor('the status to report the team ledger failing with lines waiting', 20_000, async () => {
      const s = (await daemons[0].status()).teamLedger;
      return s?.state === 'failing' && s.waiting > 0 ? s : undefined;
    });
    assert.ok(failing.lastError, 'the status says why');
    assert.match(await (await fetch(`${daemons[0].url}/metrics`)).text(), /^shepherd_team_ledger_failing 1$/m);
    await sleep(1_500);
    await pg.start();
    await sleep(1_500);
    stop = true;
    const outcomes = [...(await running).values()].flat();
    assert.deepEqual(outcomes.filter((o) => o.status !== 200), [], 'no request failed because PostgreSQL was down');
    const shipped = await allShipped(daemons);
    for (const o of outcomes) assert.equal(shipped.get(o.id!), 1);
    await waitFor('the status to report ok again', 30_000, async () => ((await daemons[0].status()).teamLedger?.state === 'ok' ? true : undefined));
  });

  it('a daemon killed with SIGKILL mid-shipment and restarted ships every line exactly once, even from a lost cursor', async () => {
    // Small batches shipped slowly, so the kill lands while lines are on their way.
    const d = await startTeamDaemon('alice', team(pg.url, { batchSize: 5, flushMs: 20 }));
    daemons = [d];
    await pg.stop(); // lines pile up in the outbox first
    const started = Date.now();
    await load(daemons, 10, () => Date.now() - started > 2_500);
    const total = d.ledger().length;
    assert.ok(total >= 40, `only ${total} lines`);
    await pg.start();
    await waitFor('shipment under way', 30_000, async () => {
      const n = (await rows()).size;
      return n > 0 && n < total ? true : undefined;
    });
    await d.kill();
    const before = (await rows()).size;
    assert.ok(before < total, 'killed before everything was shipped');
    await d.restart();
    await allShipped(daemons);
    // A cursor lost (or lagging) ships everything again: the primary key keeps every line once.
    await d.stop();
    rmSync(join(d.dir, 'team-ledger-cursor.json'));
    await d.restart();
    await waitFor('the ledger shipped again', 30_000, async () => ((await d.status()).teamLedger?.shipped ?? 0) >= total || undefined);
    await allShipped(daemons);
  });
});

describe('team ledger in the extension\'s snapshot (real daemon, real server)', function () {
  this.timeout(60_000);
  let pg: TestServer;
  let d: TeamDaemon | undefined;
  before(async () => {
    pg = await startPostgres();
  });
  after(async () => {
    await d?.kill().catch(() => undefined);
    if (d) removeDir(d.dir);
    await pg?.destroy();
  });

  it('carries the team ledger\'s state and the team\'s month by member, pushed when read and when PostgreSQL fails', async () => {
    d = await startTeamDaemon('alice', { postgres: { url: pg.url, flushMs: 100 } });
    const outcomes = [];
    for (let i = 0; i < 5; i++) outcomes.push(await chat(d.url));
    assert.deepEqual(outcomes.map((o) => o.status), [200, 200, 200, 200, 200]);
    // Watched in PostgreSQL, not through the status: asking the status starts a read of the team's month.
    await waitFor('the lines shipped', 20_000, async () => {
      const client = new Client({ connectionString: pg.url });
      await client.connect();
      try {
        return Number((await client.query('select count(*) as n from shepherd_ledger')).rows[0].n) === 5 ? true : undefined;
      } finally {
        await client.end();
      }
    });
    const token = (JSON.parse(readFileSync(join(d.dir, 'daemon.json'), 'utf8')) as { controlToken: string }).controlToken;
    const control = await connectControl(d.url);
    try {
      control.send(hello(token));
      const first = await control.next('snapshot');
      assert.equal(first.snapshot.teamLedger?.state, 'ok');
      // Reading the team's month was started by that snapshot; a fresh one follows with it.
      const withSpend = first.snapshot.teamSpend ? first : await control.next('snapshot', (m) => m.snapshot.teamSpend !== undefined);
      assert.deepEqual(
        withSpend.snapshot.teamSpend?.members.map((m) => [m.member, m.requests + m.sandboxRequests]),
        [['alice', 5]],
      );
      await pg.kill();
      await chat(d.url); // a line to ship, which now fails
      const failing = await control.next('snapshot', (m) => m.snapshot.teamLedger?.state === 'failing', 20_000);
      assert.ok(failing.snapshot.teamLedger?.lastError);
      await pg.start();
    } finally {
      control.close();
    }
  });
});

interface SpendRow {
  key: string;
  requests: number;
  costUsd: number;
  completionTokens: number;
}
interface SpendReport {
  scope?: string;
  rows: SpendRow[];
  sandbox?: { rows: SpendRow[] };
}
