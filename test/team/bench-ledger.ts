// The figures docs/SCALING.md starts from, measured on this machine against real local servers:
// `npx tsx test/team/bench-ledger.ts`. Rows/s into the team ledger by COPY (through the staging table,
// as the daemon ships) and by multi-row INSERT, at several batch sizes; one batch's commit latency;
// one daemon's shipper draining a backlog end to end; Redis round trips (ioredis and redis-benchmark).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Client, Pool } from 'pg';
import type { LedgerEntry } from '../../shared/ledger';
import { ensurePartitions, migrate } from '../../daemon/team/postgres/migrate';
import { Outbox } from '../../daemon/team/postgres/outbox';
import { copyBatch, Shipper } from '../../daemon/team/postgres/shipper';
import { csvRow, multiInsertSql, rowValues } from '../../daemon/team/postgres/sql';
import { sampleEntry } from '../support/ledger-entry';
import { startPostgres, startRedis } from '../support/team-servers';

const ctx = { team: 'bench', member: 'bench@host' };
let seq = 0;
const entry = (): LedgerEntry =>
  sampleEntry({ id: `shep-${(++seq).toString(16).padStart(12, '0')}-bench`, time: new Date(Date.UTC(2026, 11, 5, 10) + seq).toISOString(), key: 'key-12345678', member: `m${seq % 20}` });

async function main(): Promise<void> {
  const [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  const out: Record<string, unknown> = {};
  try {
    const pool = new Pool({ connectionString: pg.url, max: 2 });
    const client = await pool.connect();
    await migrate(client, 'shepherd_ledger');
    await ensurePartitions(client, 'shepherd_ledger', ['2026-12', '2027-01']);
    for (const batch of [100, 500, 2000]) {
      for (const method of ['copy', 'insert'] as const) {
        const rows = 40_000;
        const t = performance.now();
        const lat: number[] = [];
        for (let done = 0; done < rows; done += batch) {
          const entries = Array.from({ length: batch }, entry);
          const b = performance.now();
          if (method === 'copy') await copyBatch(client, 'shepherd_ledger', entries.map((e) => csvRow(e, ctx)).join(''));
          // pg allows 65,535 parameters per statement: 2,000 rows of 31 columns is the most one INSERT takes.
          else await client.query(multiInsertSql('shepherd_ledger', batch), entries.flatMap((e) => rowValues(e, ctx)));
          lat.push(performance.now() - b);
        }
        const s = (performance.now() - t) / 1000;
        lat.sort((a, b) => a - b);
        out[`${method} batch ${batch}`] = { rowsPerSec: Math.round(rows / s), batchP50Ms: round(lat[lat.length >> 1]), batchP99Ms: round(lat[Math.floor(lat.length * 0.99)]) };
        console.log(method, batch, out[`${method} batch ${batch}`]);
      }
    }
    // A single line shipped alone (a quiet daemon: one request per flush).
    const single: number[] = [];
    for (let i = 0; i < 200; i++) {
      const b = performance.now();
      await copyBatch(client, 'shepherd_ledger', csvRow(entry(), ctx));
      single.push(performance.now() - b);
    }
    single.sort((a, b) => a - b);
    out['one line, COPY + INSERT, one transaction'] = { p50Ms: round(single[100]), p99Ms: round(single[198]) };
    console.log('one line', out['one line, COPY + INSERT, one transaction']);
    const { rows } = await client.query<{ bytes: string; n: string }>(
      "select pg_total_relation_size('shepherd_ledger_2026_12') as bytes, (select count(*) from shepherd_ledger) as n",
    );
    out['bytes per row (table + 6 indexes)'] = Math.round(Number(rows[0].bytes) / Number(rows[0].n));
    console.log('bytes per row', out['bytes per row (table + 6 indexes)']);
    client.release();

    // One daemon's shipper draining a backlog of 100,000 lines from its ledger file (the outbox).
    const dir = mkdtempSync(join(tmpdir(), 'shepherd-bench-'));
    mkdirSync(join(dir, 'ledger'));
    const backlog = 100_000;
    let text = '';
    for (let i = 0; i < backlog; i++) text += `${JSON.stringify(entry())}\n`;
    writeFileSync(join(dir, 'ledger', '2026-12.jsonl'), text);
    const outbox = new Outbox(join(dir, 'ledger'), join(dir, 'cursor.json'), 'bench');
    await outbox.load();
    const shipper = new Shipper({ pool, outbox, table: 'shepherd_ledger', row: ctx, batchSize: 500, flushMs: 1000, warn: console.warn, info: () => {} });
    const t = performance.now();
    await shipper.drain();
    const s = (performance.now() - t) / 1000;
    out['shipper: backlog of 100k lines, batch 500'] = { seconds: round(s), linesPerSec: Math.round(backlog / s), health: shipper.health().state };
    console.log('shipper', out['shipper: backlog of 100k lines, batch 500']);
    rmSync(dir, { recursive: true, force: true });
    const spend = new Client({ connectionString: pg.url });
    await spend.connect();
    const q0 = performance.now();
    await spend.query("select member, sum(cost_units) from shepherd_ledger where team = 'bench' and time >= '2026-12-01' and time < '2027-01-01' group by member");
    out[`team spend by member over ${Number(rows[0].n) + backlog} rows (ms)`] = round(performance.now() - q0);
    await spend.end();
    await pool.end();

    const r = new Redis(redis.url);
    const rt: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const b = performance.now();
      await r.ping();
      rt.push(performance.now() - b);
    }
    rt.sort((a, b) => a - b);
    out['redis PING round trip from node (ioredis)'] = { p50Ms: round(rt[1000]), p99Ms: round(rt[1980]) };
    r.disconnect();
    const rb = execFileSync('redis-benchmark', ['-p', String(redis.port), '-q', '-n', '100000', '-c', '50', '-t', 'ping,incr,set,get'], { encoding: 'utf8' });
    out['redis-benchmark -c 50 (requests/s)'] = rb.trim().split('\n').map((l) => l.split('\r').pop()?.trim());
    console.log(JSON.stringify(out, null, 2));
  } finally {
    await Promise.all([pg.destroy(), redis.destroy()]);
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

void main();
