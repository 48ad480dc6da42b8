// Start-up from checkpoints of the open ledger months: a checkpoint plus the lines after it gives
// exactly what a full parse gives (totals, budgets, the extension's spend history), a crash between
// checkpoints loses and double counts nothing, and a checkpoint that does not match its file (stale,
// truncated, edited, corrupt, another format) is not used: the month is parsed in full, with one warning.
import assert from 'node:assert/strict';
import { appendFile, cp, mkdtemp, readFile, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigSchema } from '../../shared/config';
import type { LedgerEntry } from '../../shared/ledger';
import { SpendHistory } from '../../daemon/spend/history';
import { Budgets } from '../../daemon/spend/budgets';
import { checkpointMismatch, decodeCheckpoint, encodeCheckpoint, windows, type FileProbe } from '../../daemon/spend/checkpoint';
import { checkpointedMonths, type CheckpointPolicy } from '../../daemon/spend/checkpoints';
import { Ledger } from '../../daemon/spend/ledger';
import { summaryStore } from '../../daemon/spend/month-summaries';
import { MonthTally } from '../../daemon/spend/month-tally';
import type { Bucket } from '../../daemon/spend/spend-index';

const now = Date.parse('2026-11-15T12:00:00Z'); // open months: 2026-10 and 2026-11
const clock = () => now;
/** Checkpoints only when a test asks (ledger.checkpoint() or close). */
const MANUAL: Partial<CheckpointPolicy> = { appends: 1e9, ms: 3_600_000 };

let seq = 0;
function entry(time: string, over: Partial<LedgerEntry> = {}): LedgerEntry {
  seq += 1;
  return {
    id: `req-${seq}`, time, requestedModel: 'chat', model: 'chat', servedModel: 'm', deployment: 'up0/m', provider: 'up0', attempts: 1,
    status: 200, ok: true, stream: false, promptTokens: 100 + seq, completionTokens: 50, usageSource: 'upstream', costUsd: 0.0123 + seq * 1e-6,
    latencyMs: 10, ...over,
  };
}

/** Varied entries (groups, keys, errors, no group at all) on days of `month`. */
function monthOf(month: string, count: number): LedgerEntry[] {
  return Array.from({ length: count }, (_, i) => {
    const time = `${month}-${String(1 + (i % 14)).padStart(2, '0')}T10:00:${String(i % 60).padStart(2, '0')}.000Z`;
    if (i % 7 === 3) return entry(time, { model: null, requestedModel: 'typo', servedModel: null, deployment: null, provider: null, ok: false, status: 404, costUsd: 0, promptTokens: 0, completionTokens: 0, usageSource: 'none' });
    if (i % 5 === 1) return entry(time, { model: 'fast', key: 'team-a', cachedTokens: 20, usageSource: 'estimated' });
    if (i % 11 === 2) return entry(time, { ok: false, status: 503, error: 'HTTP 503', costUsd: 0 });
    return entry(time);
  });
}

const budgetConfig = ConfigSchema.parse({
  providers: { up0: { baseUrl: 'https://up0.example/v1' } },
  models: {
    chat: { price: { input: 1, output: 2 }, deployments: [{ provider: 'up0', model: 'm' }] },
    fast: { price: { input: 1, output: 2 }, deployments: [{ provider: 'up0', model: 'f' }] },
  },
  budgets: { all: { limitUsd: 1000 }, chat: { limitUsd: 5, scope: { group: 'chat' } }, today: { limitUsd: 1, period: 'daily' } },
});

interface Rebuilt {
  entries: number;
  skipped: number;
  buckets: Bucket[];
  budgets: unknown;
  snapshot: unknown;
  recent: string[];
}

function rebuilt(budgets: Budgets, history: SpendHistory, result: { entries: number; skipped: number }): Rebuilt {
  budgets.configure(budgetConfig);
  const key = (b: Bucket) => `${b.day}|${b.model}|${b.deployment}|${b.key}`;
  return {
    entries: result.entries,
    skipped: result.skipped,
    buckets: [...budgets.index.all()].sort((a, b) => key(a).localeCompare(key(b))),
    budgets: budgets.statuses(),
    snapshot: history.snapshot(),
    recent: history.recent().map((e) => e.id),
  };
}

describe('ledger checkpoints of open months', () => {
  let dataDir: string;
  let warnings: string[];
  const opened: Ledger[] = [];

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'shepherd-checkpoint-'));
    warnings = [];
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((l) => l.close()));
    await rm(dataDir, { recursive: true, force: true });
  });

  const ledgerFile = (month: string, dir = dataDir) => join(dir, 'ledger', `${month}.jsonl`);
  const checkpointFile = (month: string, dir = dataDir) => join(dir, 'ledger', 'checkpoints', `${month}.json`);

  /** What the daemon does at start-up (daemon/start.ts): summaries for closed months, checkpoints for open ones. */
  async function start(dir = dataDir, policy = MANUAL) {
    const ledger = await Ledger.open(dir, { warn: (m) => warnings.push(m) });
    opened.push(ledger);
    const budgets = new Budgets(undefined, { now: clock });
    const history = new SpendHistory(() => new Date(now));
    const parsed: string[] = [];
    const result = await ledger.replay(
      (e) => parsed.push(e.id),
      summaryStore(ledger.dir, now, (s) => budgets.addBuckets(s.buckets)),
      checkpointedMonths(ledger.dir, (month) => {
        history.addMonth(month);
        budgets.addBuckets(month.buckets());
      }, policy),
    );
    return { ledger, budgets, history, parsed, result, rebuilt: () => rebuilt(budgets, history, result) };
  }

  /** The reference: every line parsed and fed entry by entry, no summaries, no checkpoints. */
  async function fullParse(dir = dataDir): Promise<Rebuilt> {
    const ledger = await Ledger.open(dir);
    opened.push(ledger);
    const budgets = new Budgets(undefined, { now: clock });
    const history = new SpendHistory(() => new Date(now));
    const result = await ledger.replay((e) => {
      budgets.add(e);
      history.add(e);
    });
    return rebuilt(budgets, history, result);
  }

  async function append(ledger: Ledger, entries: LedgerEntry[]): Promise<void> {
    await Promise.all(entries.map((e) => ledger.append(e)));
  }

  /** The files as a SIGKILL would leave them now: a copy of the data directory, taken after the writes returned. */
  async function killedCopy(ledger: Ledger, dir = dataDir): Promise<string> {
    await ledger.flush();
    const copy = await mkdtemp(join(tmpdir(), 'shepherd-killed-'));
    await cp(dir, copy, { recursive: true });
    return copy;
  }

  it('restores open months from a checkpoint plus the lines after it, equal to a full parse', async () => {
    const first = await start();
    await append(first.ledger, [...monthOf('2026-10', 60), ...monthOf('2026-11', 80)]);
    await first.ledger.checkpoint();
    const tail = monthOf('2026-11', 9);
    await append(first.ledger, tail);
    const copy = await killedCopy(first.ledger); // killed after the checkpoint, before the next one
    try {
      const again = await start(copy);
      assert.equal(again.result.restored, 2);
      assert.deepEqual(again.parsed, tail.map((e) => e.id), 'only the lines after the checkpoint are parsed');
      assert.equal(again.result.entries, 149);
      assert.deepEqual(again.rebuilt(), await fullParse(copy));
      assert.deepEqual(warnings, []);
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });

  it('writes checkpoints at close and on its own after enough appends, owner-only and whole', async () => {
    const first = await start(dataDir, { appends: 5, ms: 3_600_000 });
    await append(first.ledger, monthOf('2026-11', 4));
    assert.deepEqual(await readdir(join(dataDir, 'ledger')), ['2026-11.jsonl'], 'no checkpoint before 5 appends');
    await append(first.ledger, monthOf('2026-11', 1));
    await first.ledger.flush();
    for (let i = 0; i < 100 && !(await readdir(join(dataDir, 'ledger'))).includes('checkpoints'); i++) await new Promise((r) => setTimeout(r, 10));
    await first.ledger.checkpoint(); // waits for the save in flight
    const saved = JSON.parse(await readFile(checkpointFile('2026-11'), 'utf8')) as { entries: number; offset: number };
    assert.equal(saved.entries, 5);
    assert.equal(saved.offset, (await stat(ledgerFile('2026-11'))).size);
    assert.equal((await stat(checkpointFile('2026-11'))).mode & 0o777, 0o600);

    await append(first.ledger, monthOf('2026-10', 3));
    await first.ledger.close();
    assert.deepEqual((await readdir(join(dataDir, 'ledger', 'checkpoints'))).sort(), ['2026-10.json', '2026-11.json'], 'no temp files left');
    const again = await start();
    assert.equal(again.result.restored, 2);
    assert.deepEqual(again.parsed, []);
    assert.deepEqual(again.rebuilt(), await fullParse());
  });

  it('after a crash between checkpoints, counts every line once, also the first start after it', async () => {
    const first = await start();
    await append(first.ledger, monthOf('2026-11', 30));
    await first.ledger.checkpoint();
    await append(first.ledger, monthOf('2026-11', 7));
    const copy = await killedCopy(first.ledger);
    try {
      // Crash again after appending more, then a clean stop: the counts never drift from the file.
      const second = await start(copy);
      await append(second.ledger, monthOf('2026-11', 5));
      const copy2 = await killedCopy(second.ledger, copy);
      await second.ledger.close();
      try {
        for (const dir of [copy, copy2]) {
          const again = await start(dir);
          assert.deepEqual(again.rebuilt(), await fullParse(dir));
        }
        assert.equal((await start(copy2)).result.entries, 42);
      } finally {
        await rm(copy2, { recursive: true, force: true });
      }
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });

  it('uses a stale checkpoint (the file grew after it, also from another writer) and parses only the rest', async () => {
    const first = await start();
    await append(first.ledger, monthOf('2026-11', 20));
    await first.ledger.close();
    const later = monthOf('2026-11', 3);
    await appendFile(ledgerFile('2026-11'), later.map((e) => `${JSON.stringify(e)}\n`).join(''));
    const again = await start();
    assert.equal(again.result.restored, 1);
    assert.deepEqual(again.parsed, later.map((e) => e.id));
    assert.deepEqual(again.rebuilt(), await fullParse());
  });

  it('parses a month in full, with one warning, when its file is shorter than the checkpoint', async () => {
    const first = await start();
    await append(first.ledger, monthOf('2026-11', 20));
    await first.ledger.close();
    const { size } = await stat(ledgerFile('2026-11'));
    await truncate(ledgerFile('2026-11'), size - 400); // a power loss took the last lines
    const again = await start();
    assert.equal(again.result.restored, 0);
    assert.equal(warnings.filter((w) => /checkpoint not used \(the file \(\d+ bytes\) is shorter/.test(w)).length, 1, warnings.join('\n'));
    assert.deepEqual(again.rebuilt(), await fullParse());
  });

  it('parses a month in full when the file was torn and appended to again, or edited before the offset', async () => {
    const first = await start();
    await append(first.ledger, monthOf('2026-11', 20));
    await first.ledger.close();
    const text = await readFile(ledgerFile('2026-11'), 'utf8');
    // Torn by a power loss mid-line, then repaired and appended to: longer than before, other bytes.
    await writeFile(ledgerFile('2026-11'), text.slice(0, text.length - 100));
    const second = await start();
    assert.equal(second.result.restored, 0);
    await append(second.ledger, monthOf('2026-11', 5));
    assert.ok((await stat(ledgerFile('2026-11'))).size > text.length);
    await second.ledger.close(); // writes a new checkpoint, which is used next time
    const third = await start();
    assert.equal(third.result.restored, 1);
    assert.deepEqual(third.rebuilt(), await fullParse());

    // An edit before the offset, same length: the bytes hashed differ.
    await third.ledger.close();
    const now2 = await readFile(ledgerFile('2026-11'), 'utf8');
    const edited = now2.replace('"latencyMs":10', '"latencyMs":99');
    assert.notEqual(edited, now2);
    await writeFile(ledgerFile('2026-11'), edited);
    warnings = [];
    const fourth = await start();
    assert.equal(fourth.result.restored, 0);
    assert.deepEqual(warnings.filter((w) => /checkpoint not used/.test(w)).length, 1);
    assert.deepEqual(fourth.rebuilt(), await fullParse());
  });

  it('ignores a corrupt checkpoint or one from another format version, with one warning each', async () => {
    const first = await start();
    await append(first.ledger, [...monthOf('2026-10', 10), ...monthOf('2026-11', 10)]);
    await first.ledger.close();
    const reference = await fullParse();
    const good = JSON.parse(await readFile(checkpointFile('2026-11'), 'utf8')) as Record<string, unknown>;
    const cases: [string, string, RegExp][] = [
      ['garbage', '{"version":1,"mon', /not valid JSON/],
      ['an older format', JSON.stringify({ ...good, version: 0 }), /format version 0/],
      ['counts that do not add up', JSON.stringify({ ...good, entries: (good.entries as number) + 1 }), /do not add up/],
      ['a malformed bucket', JSON.stringify({ ...good, buckets: [{ day: 'x' }] }), /buckets are malformed/],
      ['another month', JSON.stringify({ ...good, month: '2026-10' }), /made for month 2026-10/],
    ];
    for (const [what, text, why] of cases) {
      await writeFile(checkpointFile('2026-11'), text);
      warnings = [];
      const again = await start();
      assert.equal(again.result.restored, 1, `${what}: October's checkpoint is still used`);
      assert.equal(again.parsed.length, 10, `${what}: November is parsed in full`);
      assert.equal(warnings.length, 1, `${what}: ${warnings.join('\n')}`);
      assert.match(warnings[0], why, what);
      assert.deepEqual(again.rebuilt(), reference, what);
      await again.ledger.close(); // a fresh checkpoint replaces the bad one
      assert.equal((await start()).result.restored, 2, `${what}: replaced at close`);
    }
  });

  it('names the real line number of a bad line after the checkpoint', async () => {
    const first = await start();
    await append(first.ledger, monthOf('2026-11', 12));
    await first.ledger.close();
    await appendFile(ledgerFile('2026-11'), `not json\n${JSON.stringify(monthOf('2026-11', 1)[0])}\n`);
    const again = await start();
    assert.equal(again.result.restored, 1);
    assert.deepEqual(warnings, [`ledger ${ledgerFile('2026-11')} line 13: skipped (not valid JSON)`]);
    assert.deepEqual({ entries: again.result.entries, skipped: again.result.skipped }, { entries: 13, skipped: 1 });
    await again.ledger.close();
    assert.deepEqual(((await start()).result.skipped), 1, 'the skipped line is remembered by the next checkpoint');
  });

  it('counts a torn last line that is complete JSON once, before and after the next append ends it', async () => {
    const [a, b, c] = monthOf('2026-11', 3);
    await Ledger.open(dataDir);
    await writeFile(ledgerFile('2026-11'), `${JSON.stringify(a)}\n${JSON.stringify(b)}`); // no final newline
    const first = await start();
    assert.equal(first.result.entries, 2);
    await first.ledger.close(); // mid-line: no checkpoint yet
    assert.equal((await start()).result.restored, 0);
    const second = opened[opened.length - 1];
    await second.append(c);
    await second.close();
    const third = await start();
    assert.equal(third.result.restored, 1);
    assert.equal(third.result.entries, 3);
    assert.deepEqual(third.rebuilt(), await fullParse());
  });

  it('builds a closed month\'s summary from its checkpoint, then drops the checkpoint', async () => {
    // Made while September was open; read when it is closed (now is November).
    const september = monthOf('2026-09', 60).filter((e) => e.model !== null); // closed months total null groups apart
    const first = await start();
    await append(first.ledger, september);
    await first.ledger.close();
    assert.ok((await stat(ledgerFile('2026-09'))).size > 3 * 4096, 'longer than the hashed windows');
    const reference = await fullParse();
    // Same length, other bytes in the middle, outside the hashed windows: proof the summary comes from the checkpoint.
    const text = await readFile(ledgerFile('2026-09'), 'utf8');
    const mid = text.indexOf('\n', text.length / 2) + 1;
    const line = text.slice(mid, text.indexOf('\n', mid));
    await writeFile(ledgerFile('2026-09'), text.slice(0, mid) + ' '.repeat(line.length) + text.slice(mid + line.length));
    const again = await start();
    assert.equal(again.result.entries, september.length);
    assert.deepEqual(again.rebuilt().buckets, reference.buckets);
    assert.deepEqual(await readdir(join(dataDir, 'ledger', 'checkpoints')), []);
    assert.deepEqual(await readdir(join(dataDir, 'ledger', 'summaries')), ['2026-09.json']);
  });
});

describe('checkpoint format and trust (pure)', () => {
  const tally = new MonthTally('2026-11');
  for (const e of monthOf('2026-11', 70)) tally.add(e);
  const probe: FileProbe = { size: 5000, head: 'a'.repeat(64), tail: 'b'.repeat(64), atLineEnd: true };
  const text = encodeCheckpoint('2026-11', { offset: 4000, lines: 70 }, tally.state(), probe);

  it('decodes what it encodes, keeping the latest 50 entries', () => {
    const decoded = decodeCheckpoint(text, '2026-11');
    assert.ok('checkpoint' in decoded, JSON.stringify(decoded));
    const { checkpoint } = decoded;
    assert.deepEqual({ offset: checkpoint.offset, lines: checkpoint.lines, entries: checkpoint.entries }, { offset: 4000, lines: 70, entries: 70 });
    assert.equal(checkpoint.recent.length, 50);
    assert.deepEqual(MonthTally.from('2026-11', checkpoint).state(), tally.state());
  });

  it('reads a checkpoint written before cache writes were counted, as none', () => {
    const older = text.replace(/,?"cacheWriteTokens":\d+,?/g, (m) => (m.startsWith(',') && m.endsWith(',') ? ',' : ''));
    assert.ok(!older.includes('cacheWriteTokens') && older !== text);
    const decoded = decodeCheckpoint(older, '2026-11');
    assert.ok('checkpoint' in decoded, JSON.stringify(decoded));
    assert.deepEqual(MonthTally.from('2026-11', decoded.checkpoint).state(), tally.state());
  });

  it('trusts a checkpoint only while the file holds the same bytes up to its offset', () => {
    const decoded = decodeCheckpoint(text, '2026-11');
    assert.ok('checkpoint' in decoded);
    const cp = decoded.checkpoint;
    assert.equal(checkpointMismatch(cp, probe), undefined);
    assert.equal(checkpointMismatch(cp, { ...probe, size: 4000 }), undefined, 'exactly as long');
    assert.match(checkpointMismatch(cp, { size: 3999, atLineEnd: false }) ?? '', /shorter/);
    assert.match(checkpointMismatch(cp, { ...probe, atLineEnd: false }) ?? '', /line end/);
    assert.match(checkpointMismatch(cp, { ...probe, head: 'c'.repeat(64) }) ?? '', /changed/);
    assert.match(checkpointMismatch(cp, { ...probe, tail: 'c'.repeat(64) }) ?? '', /changed/);
  });

  it('hashes the first and last 4 KiB before the offset', () => {
    assert.deepEqual(windows(100), { head: [0, 100], tail: [0, 100] });
    assert.deepEqual(windows(10_000), { head: [0, 4096], tail: [10_000 - 4096, 10_000] });
  });
});

describe('spend history from whole months', () => {
  it('gives the same snapshot and latest requests as adding the entries one by one', () => {
    const at = () => new Date('2026-11-15T12:00:00Z');
    const months = { '2026-08': monthOf('2026-08', 5), '2026-10': monthOf('2026-10', 40), '2026-11': monthOf('2026-11', 30) };
    const byEntry = new SpendHistory(at);
    const byMonth = new SpendHistory(at);
    for (const [month, entries] of Object.entries(months)) {
      const tally = new MonthTally(month);
      for (const e of entries) {
        byEntry.add(e);
        tally.add(e);
      }
      byMonth.addMonth(tally);
    }
    const late = entry('2026-11-15T11:00:00.000Z', { model: 'late' });
    byMonth.add(late);
    byEntry.add(late);
    assert.deepEqual(byMonth.snapshot(), byEntry.snapshot());
    assert.ok(byMonth.snapshot().month.requests > 30, 'November counted');
    assert.deepEqual(byMonth.recent().map((e) => e.id), byEntry.recent().map((e) => e.id));
    assert.equal(byMonth.recent().length, 50);
    assert.equal(byMonth.recent()[0].time.slice(0, 7), '2026-10', 'the latest 50 span both open months');
  });

  it('drops months before last month once the clock passes into a new month', () => {
    let clock = new Date('2026-11-30T23:00:00Z');
    const history = new SpendHistory(() => clock);
    history.add(entry('2026-11-30T22:00:00.000Z', { costUsd: 2 }));
    clock = new Date('2027-01-02T00:00:00Z');
    history.add(entry('2027-01-01T10:00:00.000Z', { costUsd: 1 }));
    history.add(entry('2026-11-30T22:30:00.000Z', { costUsd: 4 })); // too old now: only among the latest
    assert.equal(history.snapshot().month.costUsd, 1);
    clock = new Date('2026-11-30T23:30:00Z'); // the clock set back: November shows, without the dropped entry
    assert.equal(history.snapshot().month.costUsd, 0);
    assert.equal(history.recent().length, 3);
  });
});
