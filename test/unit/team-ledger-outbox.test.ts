// The team ledger's pure parts and its outbox over real files: which bytes of the local ledger are
// shipped (whole lines only, a torn line never), the cursor (per target, atomic, lagging is safe),
// the COPY rows and partition bounds, and the shipper's backoff.
import { strict as assert } from 'node:assert';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeCursor, encodeCursor, entryOf, Outbox, wholeLines } from '../../daemon/team/postgres/outbox';
import { COLUMNS, createPartitionSql, csvRow, monthBounds, multiInsertSql, nextMonth } from '../../daemon/team/postgres/sql';
import { lockKey } from '../../daemon/team/postgres/migrate';
import { Shipper } from '../../daemon/team/postgres/shipper';
import { sampleEntry } from '../support/ledger-entry';
import { LEDGER_FIELDS } from '../../shared/ledger';

const line = (id: string, over = {}) => `${JSON.stringify(sampleEntry({ id, time: '2026-12-05T10:00:00.000Z', ...over }))}\n`;

describe('team ledger: outbox and SQL', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'shepherd-outbox-'));
    mkdirSync(join(dir, 'ledger'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const outbox = (target = 'db#t') => new Outbox(join(dir, 'ledger'), join(dir, 'cursor.json'), target);

  it('wholeLines takes only lines that end in a newline, at most max', () => {
    const buf = Buffer.from('a\nbb\ncc');
    assert.deepEqual(wholeLines(buf, 10), { lines: ['a', 'bb'], bytes: 5 });
    assert.deepEqual(wholeLines(buf, 1), { lines: ['a'], bytes: 2 });
    assert.deepEqual(wholeLines(Buffer.from('torn'), 10), { lines: [], bytes: 0 });
  });

  it('ships whole lines, leaves a line being written for later, and passes over a torn one the ledger ended', async () => {
    const file = join(dir, 'ledger', '2026-12.jsonl');
    const full = line('r3');
    writeFileSync(file, line('r1') + line('r2') + full.slice(0, 20));
    const o = outbox();
    await o.load();
    const first = await o.next(100);
    assert.deepEqual(first?.entries.map((e) => e.id), ['r1', 'r2']);
    await o.commit(first!);
    assert.equal(await o.next(100), undefined, 'half a line is not shipped');
    assert.equal(await o.waiting(), 0);
    // The ledger ends a torn line with '\n' before its next line: the torn one is skipped, never shipped.
    appendFileSync(file, `\n${line('r4')}`);
    assert.equal(await o.waiting(), 2);
    const second = await o.next(100);
    assert.deepEqual(second?.entries.map((e) => e.id), ['r4']);
    assert.equal(second?.skipped, 1);
    await o.commit(second!);
    assert.equal(await o.waiting(), 0);
  });

  it('batches hold at most max lines, oldest month first, and the cursor survives a restart', async () => {
    writeFileSync(join(dir, 'ledger', '2026-11.jsonl'), line('a1', { time: '2026-11-30T23:59:59.000Z' }) + line('a2', { time: '2026-11-30T23:59:59.500Z' }));
    writeFileSync(join(dir, 'ledger', '2026-12.jsonl'), line('b1'));
    const o = outbox();
    await o.load();
    assert.equal(await o.waiting(), 3);
    const b = await o.next(1);
    assert.deepEqual([b?.month, b?.entries.map((e) => e.id)], ['2026-11', ['a1']]);
    await o.commit(b!);
    const again = outbox();
    await again.load();
    assert.deepEqual((await again.next(10))?.entries.map((e) => e.id), ['a2']);
    assert.equal(await again.waiting(), 2);
  });

  it('a cursor made for another database or table, or unreadable, starts from the first line (repeats are skipped by key)', async () => {
    writeFileSync(join(dir, 'ledger', '2026-12.jsonl'), line('r1'));
    const o = outbox('db#t');
    await o.load();
    await o.commit((await o.next(10))!);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'cursor.json'), 'utf8')).months, { '2026-12': line('r1').length });
    const other = outbox('db#other');
    await other.load();
    assert.equal((await other.next(10))?.entries.length, 1);
    assert.deepEqual([...decodeCursor('{not json', 'x')], []);
    assert.deepEqual([...decodeCursor(encodeCursor('x', new Map([['2026-12', 5]])), 'x')], [['2026-12', 5]]);
    assert.deepEqual([...decodeCursor(JSON.stringify({ version: 1, target: 'x', months: { '2026-12': -1, bad: 3 } }), 'x')], []);
  });

  it('a cursor that does not end at a line end of its file (the file lost its tail and grew again) ships the file again from the start', async () => {
    const file = join(dir, 'ledger', '2026-12.jsonl');
    writeFileSync(file, line('r1') + line('r2'));
    const o = outbox();
    await o.load();
    await o.commit((await o.next(100))!);
    // A power loss kept only part of r2; new lines came after it.
    writeFileSync(file, line('r1') + line('r2').slice(0, 30) + '\n' + line('r3') + line('r4'));
    const again = outbox();
    await again.load();
    assert.deepEqual((await again.next(100))?.entries.map((e) => e.id), ['r1', 'r3', 'r4']);
  });

  it('a line longer than a batch\'s first read is still shipped whole', async () => {
    writeFileSync(join(dir, 'ledger', '2026-12.jsonl'), line('big', { error: 'x'.repeat(200_000) }) + line('r2'));
    const o = outbox();
    await o.load();
    const b = await o.next(1);
    assert.deepEqual([b?.entries[0]?.id, b?.entries[0]?.error?.length], ['big', 200_000]);
  });

  it('a line PostgreSQL would refuse (not an entry, an unusable time) is not shipped', () => {
    assert.equal(entryOf('{"id":1}'), undefined);
    assert.equal(entryOf(line('x', { time: 'yesterday' }).trim()), undefined);
    assert.equal(entryOf(line('x', { time: '+010000-01-01T00:00:00.000Z' }).trim()), undefined);
    assert.equal(entryOf(line('x', { status: 2 ** 31 }).trim()), undefined);
    assert.equal(entryOf(line('x').trim())?.id, 'x');
  });

  it('stores every ledger field in a column of its own (snake_case), so the team ledger loses nothing', () => {
    const columns = new Set(COLUMNS.map((c) => c.name));
    const missing = LEDGER_FIELDS.map((f) => f.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)).filter((c) => !columns.has(c));
    assert.deepEqual(missing, []);
  });

  it('COPY rows: NULL unquoted, text quoted with doubled quotes, the member of lines written before team mode', () => {
    const row = csvRow(sampleEntry({ id: 'a"b', key: undefined, error: 'x,"y"\nz' }), { team: 't', member: 'me' });
    const fields = row.trimEnd();
    assert.ok(fields.startsWith('"2025-01-15T10:00:00.000Z","a""b","t","me","chat",'), fields);
    assert.ok(fields.includes(',"x,""y""\nz",'), 'the error is one quoted field');
    assert.equal(csvRow(sampleEntry({ member: 'bob' }), { team: 't', member: 'me' }).split(',')[3], '"bob"');
    // cost_units is the spend index's integer rounding of costUsd.
    const costUnits = COLUMNS.findIndex((c) => c.name === 'cost_units');
    assert.equal(COLUMNS[costUnits].value(sampleEntry({ costUsd: 0.00045 }), { team: 't', member: 'm' }), 4_500_000);
  });

  it('partitions cover whole UTC months, December into January; DDL and the multi-row INSERT are well formed', () => {
    assert.deepEqual(monthBounds('2026-12'), { from: '2026-12-01', to: '2027-01-01' });
    assert.equal(nextMonth('2026-01'), '2026-02');
    assert.equal(
      createPartitionSql('shepherd_ledger', '2026-12'),
      `create table if not exists "shepherd_ledger_2026_12" partition of "shepherd_ledger" for values from ('2026-12-01 00:00:00+00') to ('2027-01-01 00:00:00+00')`,
    );
    const sql = multiInsertSql('t', 2);
    assert.ok(sql.includes(`($${COLUMNS.length + 1}, `) && sql.endsWith('on conflict (time, id) do nothing'));
    assert.notEqual(lockKey('a'), lockKey('b'));
    assert.ok(BigInt(lockKey('shepherd_ledger')) < 2n ** 63n, 'fits a bigint advisory lock key');
  });

  it('the shipper backs off while PostgreSQL fails, doubling up to 30 s, and reports failing with the lines waiting', async () => {
    writeFileSync(join(dir, 'ledger', '2026-12.jsonl'), line('r1'));
    const o = outbox();
    await o.load();
    const refused = Object.assign(new Error(''), { code: 'ECONNREFUSED' });
    const pool = { connect: () => Promise.reject(refused) } as never;
    const noop = () => {};
    const s = new Shipper({ pool, outbox: o, table: 't', row: { team: 't', member: 'm' }, batchSize: 10, flushMs: 1_000, warn: noop, info: noop });
    assert.equal(s.delay(), 1_000);
    await s.drain();
    assert.deepEqual([s.health().state, s.health().waiting, s.health().lastError], ['failing', 1, 'ECONNREFUSED']);
    assert.equal(s.delay(), 2_000);
    for (let i = 0; i < 10; i++) await s.drain();
    assert.equal(s.delay(), 30_000);
    assert.equal((await o.next(10))?.entries.length, 1, 'the line still waits: the cursor did not move');
  });
});
