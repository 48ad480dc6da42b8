// The request ledger on disk: what is written, what a restart replays, and how it survives torn lines,
// garbage and failing writes.
import assert from 'node:assert/strict';
import { existsSync, writeSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, open, readFile, readdir, rm, rmdir, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerEntrySchema, type LedgerEntry } from '../../shared/ledger';
import { sampleEntry } from '../support/ledger-entry';
import { Ledger, ledgerEntryProblem, type LedgerOptions } from '../../daemon/spend/ledger';

const entry = sampleEntry;

/** Polls `check` until it holds (fails after 3 s). */
async function waitFor(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 3_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function lines(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8');
  assert.ok(text.endsWith('\n'), `${file} ends with a newline`);
  return text.slice(0, -1).split('\n');
}

describe('ledger', () => {
  let dataDir: string;
  let warnings: string[];
  const opened: Ledger[] = [];
  const openLedger = async (options: LedgerOptions = {}): Promise<Ledger> => {
    const ledger = await Ledger.open(dataDir, { warn: (m) => warnings.push(m), ...options });
    opened.push(ledger);
    return ledger;
  };
  const janFile = (): string => join(dataDir, 'ledger', '2025-01.jsonl');

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'shepherd-ledger-'));
    warnings = [];
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((l) => l.close()));
    await rm(dataDir, { recursive: true, force: true });
  });

  it('replays after a restart exactly what was appended', async () => {
    const written = [
      entry({ id: 'a' }),
      entry({ id: 'b', ok: false, status: 503, error: 'HTTP 503: overloaded', attempts: 3, promptTokens: 0, completionTokens: 0, usageSource: 'none', costUsd: 0 }),
      entry({ id: 'c', model: 'fast', cachedTokens: 200, stream: true, ttftMs: 120.5, costUsd: 0.0003 }),
      entry({ id: 'd', model: null, requestedModel: 'no-such-model', servedModel: null, deployment: null, provider: null, ok: false, status: 404, costUsd: 0, promptTokens: 0, completionTokens: 0, usageSource: 'none', error: 'unknown model' }),
      entry({ id: 'e', sandbox: true, costUsd: 0.1 }),
    ];
    const first = await openLedger();
    for (const e of written) await first.append(e);
    await first.close();

    const second = await openLedger();
    const seen: LedgerEntry[] = [];
    const summary = await second.replay((e) => seen.push(e));
    assert.deepEqual(seen, written);
    assert.deepEqual({ files: summary.files, entries: summary.entries, skipped: summary.skipped }, { files: 1, entries: 5, skipped: 0 });
    assert.ok(summary.ms >= 0);
    assert.deepEqual(warnings, []);
  });

  it('writes synchronously while the disk is fast, and through the thread pool for a while after a slow write', async () => {
    let syncWrites = 0;
    const ledger = await openLedger({
      writeSync: (fd, buf, offset, length) => {
        syncWrites += 1;
        if (syncWrites === 2) for (const until = performance.now() + 8; performance.now() < until; ); // a slow disk, once
        return writeSync(fd, buf, offset, length);
      },
    });
    const probe = await open(join(dataDir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { write: (...args: unknown[]) => Promise<unknown> };
    await probe.close();
    const realWrite = proto.write;
    let poolWrites = 0;
    proto.write = function (this: unknown, ...args: unknown[]) {
      poolWrites += 1;
      return realWrite.apply(this, args);
    };
    try {
      for (const id of ['a', 'b', 'c', 'd']) await ledger.append(entry({ id }));
    } finally {
      proto.write = realWrite;
    }
    assert.deepEqual([syncWrites, poolWrites], [2, 2], 'a and b synchronously (b slowly), then c and d through the pool');
    assert.ok(warnings.some((w) => /a write took \d+ ms; writing through the thread pool/.test(w)), warnings.join('\n'));
    assert.deepEqual((await lines(janFile())).map((l) => (JSON.parse(l) as LedgerEntry).id), ['a', 'b', 'c', 'd']);
  });

  it('writes 200 concurrent appends in call order, one valid JSON line each, coalesced into one write', async () => {
    // Concurrent appends must not cost one write(2) each.
    let writes = 0;
    const ledger = await openLedger({
      writeSync: (fd, buf, offset, length) => {
        writes += 1;
        return writeSync(fd, buf, offset, length);
      },
    });
    await Promise.all(Array.from({ length: 200 }, (_, i) => ledger.append(entry({ id: `r${i}`, promptTokens: i }))));
    const got = (await lines(janFile())).map((l) => JSON.parse(l) as LedgerEntry);
    assert.deepEqual(got.map((e) => e.id), Array.from({ length: 200 }, (_, i) => `r${i}`));
    for (const e of got) assert.equal(ledgerEntryProblem(e), undefined);
    assert.equal(writes, 1, 'one write for the whole batch');
  });

  it('keeps order across batches when appends keep arriving while a write is in flight', async () => {
    const ledger = await openLedger();
    const pending: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      pending.push(ledger.append(entry({ id: `s${i}` })));
      await new Promise((r) => setImmediate(r)); // let earlier batches reach the disk meanwhile
    }
    await Promise.all(pending);
    assert.deepEqual((await lines(janFile())).map((l) => (JSON.parse(l) as LedgerEntry).id), Array.from({ length: 50 }, (_, i) => `s${i}`));
  });

  it("files entries by their UTC month and replays the months oldest first", async () => {
    const ledger = await openLedger();
    await ledger.append(entry({ id: 'feb-1', time: '2025-02-01T00:00:00.000Z' }));
    await ledger.append(entry({ id: 'jan-1', time: '2025-01-31T23:59:59.999Z' }));
    // 00:30 on 1 March at UTC+1 is still February in UTC.
    await ledger.append(entry({ id: 'feb-2', time: '2025-03-01T00:30:00+01:00' }));
    await ledger.close();

    assert.deepEqual((await readdir(join(dataDir, 'ledger'))).sort(), ['2025-01.jsonl', '2025-02.jsonl']);
    assert.deepEqual((await lines(janFile())).map((l) => (JSON.parse(l) as LedgerEntry).id), ['jan-1']);
    const reopened = await openLedger();
    const ids: string[] = [];
    const summary = await reopened.replay((e) => ids.push(e.id));
    assert.deepEqual(ids, ['jan-1', 'feb-1', 'feb-2']);
    assert.equal(summary.files, 2);
  });

  it('skips a torn last line with a warning, and the next append starts a fresh line after it', async () => {
    await mkdir(join(dataDir, 'ledger'), { recursive: true });
    await writeFile(janFile(), `${JSON.stringify(entry({ id: 'old-1' }))}\n{"id":"torn-2","time":"20`);
    const ledger = await openLedger();
    const summary = await ledger.replay();
    assert.deepEqual({ entries: summary.entries, skipped: summary.skipped }, { entries: 1, skipped: 1 });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /2025-01\.jsonl line 2: skipped \(torn last line/);

    await ledger.append(entry({ id: 'new-3' }));
    assert.ok(warnings.some((w) => /repaired torn last line in .*2025-01\.jsonl/.test(w)), warnings.join('\n'));
    const raw = await lines(janFile());
    assert.equal(raw.length, 3, 'old line, torn fragment, new line');
    assert.equal((JSON.parse(raw[0]) as LedgerEntry).id, 'old-1');
    assert.equal(raw[1], '{"id":"torn-2","time":"20');
    assert.equal((JSON.parse(raw[2]) as LedgerEntry).id, 'new-3');
    await ledger.close();

    const again = await openLedger();
    const ids: string[] = [];
    const second = await again.replay((e) => ids.push(e.id));
    assert.deepEqual({ entries: second.entries, skipped: second.skipped }, { entries: 2, skipped: 1 });
    assert.deepEqual(ids, ['old-1', 'new-3']);
  });

  it('keeps a complete last entry that only lacks its newline', async () => {
    await mkdir(join(dataDir, 'ledger'), { recursive: true });
    await writeFile(janFile(), JSON.stringify(entry({ id: 'whole' })));
    const ledger = await openLedger();
    assert.equal((await ledger.replay()).entries, 1);
    await ledger.append(entry({ id: 'next' }));
    assert.deepEqual((await lines(janFile())).map((l) => (JSON.parse(l) as LedgerEntry).id), ['whole', 'next']);
  });

  it('skips garbage lines in the middle, naming file and line, and caps the warnings', async () => {
    await mkdir(join(dataDir, 'ledger'), { recursive: true });
    const body = [
      JSON.stringify(entry({ id: 'g1' })),
      'not json at all',
      '{"id":"x"}',
      '',
      JSON.stringify(entry({ id: 'g2', costUsd: -1 })),
      JSON.stringify(entry({ id: 'g3' })),
    ];
    await writeFile(janFile(), `${body.join('\n')}\n`);
    const ledger = await openLedger();
    const ids: string[] = [];
    const summary = await ledger.replay((e) => ids.push(e.id));
    assert.deepEqual(ids, ['g1', 'g3']);
    assert.deepEqual({ entries: summary.entries, skipped: summary.skipped }, { entries: 2, skipped: 3 });
    assert.match(warnings[0], /2025-01\.jsonl line 2: skipped \(not valid JSON\)/);
    assert.match(warnings[1], /line 3: skipped \(not a ledger entry: time is missing\)/);
    assert.match(warnings[2], /line 5: skipped \(not a ledger entry: costUsd must be a non-negative number\)/);
    assert.equal(warnings.length, 3);

    await writeFile(janFile(), `${Array.from({ length: 25 }, (_, i) => `garbage ${i}`).join('\n')}\n`);
    warnings = [];
    const many = await ledger.replay();
    assert.equal(many.skipped, 25);
    assert.equal(many.entries, 0);
    assert.equal(warnings.length, 11);
    assert.match(warnings[10], /15 more invalid lines skipped/);
  });

  it('skips an over-long garbage line without buffering it whole', async () => {
    await mkdir(join(dataDir, 'ledger'), { recursive: true });
    await writeFile(janFile(), `${'x'.repeat(3 << 20)}\n${JSON.stringify(entry({ id: 'after' }))}\n`);
    const ledger = await openLedger();
    const ids: string[] = [];
    const summary = await ledger.replay((e) => ids.push(e.id));
    assert.deepEqual(ids, ['after']);
    assert.equal(summary.skipped, 1);
    assert.match(warnings[0], /line 1: skipped \(longer than/);
  });

  it('counts every entry once when appends race a replay', async () => {
    const ledger = await openLedger();
    for (let i = 0; i < 30; i++) await ledger.append(entry({ id: `old${i}` }));
    const before = Array.from({ length: 20 }, (_, i) => ledger.append(entry({ id: `b${i}` })));
    const replayed = ledger.replay();
    const during = Array.from({ length: 20 }, (_, i) => ledger.append(entry({ id: `d${i}` })));
    await Promise.all([...before, replayed, ...during]);
    const summary = await replayed;
    // Lines already on disk when it started; appends still queued then wait and are written after it.
    assert.equal(summary.entries, 30);
    assert.equal((await lines(janFile())).length, 70);
  });

  it("passes on an error thrown by the caller's onEntry instead of calling the file unreadable", async () => {
    const ledger = await openLedger();
    await ledger.append(entry());
    await assert.rejects(
      ledger.replay(() => {
        throw new Error('caller bug');
      }),
      /caller bug/,
    );
    assert.deepEqual(warnings, []);
    assert.equal((await ledger.replay()).entries, 1, 'the ledger still replays afterwards');
  });

  it('replays a line whose client label is malformed without the label, as the schema reads it', async () => {
    await mkdir(join(dataDir, 'ledger'), { recursive: true });
    const good = entry({ id: 'tagged', client: 'acme.helper' });
    const bad = { ...entry({ id: 'mistagged' }), client: 42 };
    await writeFile(janFile(), `${JSON.stringify(good)}\n${JSON.stringify(bad)}\n`);
    const ledger = await openLedger();
    const seen: LedgerEntry[] = [];
    assert.equal((await ledger.replay((e) => seen.push(e))).skipped, 0);
    assert.deepEqual(seen.map((e) => [e.id, e.client]), [['tagged', 'acme.helper'], ['mistagged', undefined]]);
    assert.equal(LedgerEntrySchema.parse(bad).client, undefined);
  });

  it('replays an empty or missing ledger as nothing', async () => {
    const ledger = await openLedger();
    assert.deepEqual({ ...(await ledger.replay()), ms: 0 }, { files: 0, entries: 0, skipped: 0, ms: 0 });
    await rm(ledger.dir, { recursive: true });
    assert.equal((await ledger.replay()).entries, 0);
  });

  it('creates the ledger directory owner-only (0700) and its files 0600', async function () {
    if (process.platform === 'win32') this.skip(); // no POSIX modes
    const ledger = await openLedger();
    assert.equal(ledger.dir, join(dataDir, 'ledger'));
    assert.equal((await stat(ledger.dir)).mode & 0o777, 0o700);
    await ledger.append(entry());
    assert.equal((await stat(janFile())).mode & 0o777, 0o600);
  });

  it('rejects appends after close, and close writes what was queued before it', async () => {
    const ledger = await openLedger();
    const queued = ledger.append(entry({ id: 'before-close' }));
    await ledger.close();
    await queued;
    await assert.rejects(ledger.append(entry({ id: 'after-close' })), /ledger is closed; request after-close was not recorded/);
    assert.deepEqual((await lines(janFile())).map((l) => (JSON.parse(l) as LedgerEntry).id), ['before-close']);
  });

  it('rejects an entry it could not replay, writes nothing for it, and stays usable', async () => {
    const ledger = await openLedger();
    await assert.rejects(ledger.append(entry({ id: 'nan', costUsd: Number.NaN })), /invalid ledger entry nan: costUsd must be a non-negative number/);
    await assert.rejects(ledger.append(entry({ id: 'when', time: 'yesterday' })), /time "yesterday" is not an ISO-8601 date/);
    await ledger.append(entry({ id: 'fine' }));
    assert.deepEqual((await lines(janFile())).map((l) => (JSON.parse(l) as LedgerEntry).id), ['fine']);
  });

  describe('when the disk refuses a write', () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    beforeEach(() => {
      unhandled.length = 0;
      process.on('unhandledRejection', onUnhandled);
    });
    afterEach(() => {
      process.off('unhandledRejection', onUnhandled);
    });

    const ids = async (): Promise<string[]> => (await lines(janFile())).map((l) => (JSON.parse(l) as LedgerEntry).id);

    it('keeps the line waiting when the month file cannot be opened (a directory in its place), and writes it once it can', async () => {
      const ledger = await openLedger({ retryMs: 20 });
      const states: string[] = [];
      ledger.onStateChange((h) => states.push(`${h.state}:${h.waiting}`));
      await mkdir(janFile()); // root ignores permission bits, but nobody can open a directory for append
      await ledger.append(entry({ id: 'waits' })); // resolves: the request need not wait for the disk
      await ledger.append(entry({ id: 'behind' }));
      const h = ledger.health();
      assert.equal(h.state, 'failing');
      assert.equal(h.waiting, 2);
      assert.match(h.lastError ?? '', /EISDIR/);
      assert.ok(h.since && !Number.isNaN(Date.parse(h.since)));
      await rmdir(janFile());
      await waitFor(() => ledger.health().state === 'ok');
      assert.deepEqual(await ids(), ['waits', 'behind']);
      assert.deepEqual(ledger.health(), { state: 'ok', waiting: 0 });
      assert.equal(states[0], 'failing:1');
      assert.equal(states.at(-1), 'ok:0');
      assert.ok(states.slice(1, -1).every((s) => s === 'failing:2'), `between: only how many wait (${states.join(', ')})`);
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(unhandled, []);
    });

    it('after a write that stops part-way, keeps the lines not written whole waiting, repairs the torn one and writes them in order', async () => {
      const lineBytes = Buffer.byteLength(`${JSON.stringify(entry({ id: 'p1' }))}\n`);
      let calls = 0;
      let broken = false;
      // Once broken: a short write of one and a half lines, then the disk is full.
      const ledger = await openLedger({
        retryMs: 20,
        writeSync: (fd, buf, offset, length) => {
          if (!broken) return writeSync(fd, buf, offset, length);
          calls += 1;
          if (calls === 1) return writeSync(fd, buf, offset, lineBytes + 10);
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        },
      });
      await ledger.append(entry({ id: 'first' }));
      broken = true;
      const results = await Promise.allSettled(['p1', 'p2', 'p3'].map((id) => ledger.append(entry({ id }))));
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled'], 'no request is failed by the disk');
      assert.equal(ledger.health().state, 'failing');
      assert.equal(ledger.health().waiting, 2, 'p2 and p3');
      assert.match(ledger.health().lastError ?? '', /ENOSPC/);
      await ledger.append(entry({ id: 'after' }));
      broken = false;
      await waitFor(() => ledger.health().state === 'ok');
      assert.ok(warnings.some((w) => /repaired torn last line/.test(w)), warnings.join('\n'));
      await ledger.close();
      const again = await openLedger();
      const seen: string[] = [];
      const summary = await again.replay((e) => seen.push(e.id));
      assert.deepEqual(seen, ['first', 'p1', 'p2', 'p3', 'after'], 'every line, in order');
      assert.equal(summary.skipped, 1, 'the half line of p2');
      assert.deepEqual(unhandled, []);
    });

    it('keeps lines waiting while write(2) fails with ENOSPC (the file is /dev/full), then writes them', async function () {
      if (process.platform !== 'linux' || !existsSync('/dev/full')) this.skip(); // needs Linux's always-full device
      const ledger = await openLedger({ retryMs: 20 });
      await symlink('/dev/full', janFile());
      await Promise.all([ledger.append(entry({ id: 'x1' })), ledger.append(entry({ id: 'x2' }))]);
      assert.equal(ledger.health().state, 'failing');
      assert.match(ledger.health().lastError ?? '', /ENOSPC/);
      await unlink(janFile());
      await ledger.append(entry({ id: 'y' }));
      await waitFor(() => ledger.health().state === 'ok');
      assert.deepEqual(await ids(), ['x1', 'x2', 'y']);
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(unhandled, []);
    });

    it('holds at most maxWaiting lines, counting the ones it gives up', async () => {
      const ledger = await openLedger({ retryMs: 60_000, maxWaiting: 3 });
      const states: string[] = [];
      ledger.onStateChange((h) => states.push(`${h.state}:${h.waiting}:${h.dropped ?? 0}`));
      await mkdir(janFile());
      for (let i = 0; i < 5; i++) await ledger.append(entry({ id: `d${i}` }));
      assert.equal(ledger.health().waiting, 3);
      assert.equal(ledger.health().dropped, 2);
      assert.deepEqual(states, ['failing:1:0', 'failing:3:1'], 'the first drop is told once');
    });

    it('at close, saves the waiting lines to a fallback file; the next open takes them back once, without duplicates', async () => {
      const febFile = join(dataDir, 'ledger', '2025-02.jsonl');
      const feb = (id: string) => entry({ id, time: '2025-02-03T10:00:00.000Z' });
      const ledger = await openLedger({ retryMs: 60_000 });
      await ledger.append(entry({ id: 'on-disk' }));
      await mkdir(febFile); // February cannot be written
      for (const id of ['w1', 'w2', 'w3']) await ledger.append(feb(id));
      await ledger.close();
      assert.ok(warnings.some((w) => /3 line\(s\) could not be written .* saved to .*pending\.jsonl; the next start takes them back/.test(w)), warnings.join('\n'));
      await rmdir(febFile);
      // Copies of lines the month files already hold (a start that stopped before removing the file) are left out.
      await appendFile(join(dataDir, 'ledger', 'pending.jsonl'), `${JSON.stringify(entry({ id: 'on-disk' }))}\n${JSON.stringify(feb('w1'))}\n`);
      warnings = [];
      const next = await openLedger();
      assert.ok(warnings.some((w) => /took back 3 line\(s\) .* \(1 already in the ledger\)/.test(w)), warnings.join('\n'));
      const febIds = async () => (await lines(febFile)).map((l) => (JSON.parse(l) as LedgerEntry).id);
      assert.deepEqual(await febIds(), ['w1', 'w2', 'w3']);
      assert.deepEqual(await ids(), ['on-disk']);
      assert.equal(existsSync(join(dataDir, 'ledger', 'pending.jsonl')), false, 'the fallback file is removed');
      await next.close();
      await openLedger();
      assert.deepEqual(await febIds(), ['w1', 'w2', 'w3'], 'taken back only once');
    });
  });
});

describe('ledger entry check', () => {
  // The fast hand-written check must accept exactly what the zod schema (the contract) accepts. This
  // fails when a field is added to or changed in LedgerEntrySchema without updating the check.
  const minimal: Record<string, unknown> = { ...entry() };
  const full: Record<string, unknown> = { ...entry(), error: 'x', cachedTokens: 3, cacheWriteTokens: 4, reasoningTokens: 2, ttftMs: 1.5, sandbox: false, key: 'key-0123abcd', client: 'acme.helper', parent: 'shep-0', role: 'hedge', endpoint: 'embeddings', member: 'alice', cascade: 'arithmetic' };
  const values: unknown[] = [undefined, null, '', 'x', 'upstream', 'estimated', 'none', 'hedge', 'cascade', 'chat', 'responses', 'embeddings', 'completions', 'messages', 0, -1, 1.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, true, false, {}, []];

  it('agrees with LedgerEntrySchema for every field set to every kind of value', () => {
    const fields = Object.keys(LedgerEntrySchema.shape);
    assert.deepEqual(Object.keys(full).sort(), [...fields].sort(), 'the sample entry covers every schema field');
    let compared = 0;
    for (const base of [minimal, full]) {
      for (const field of fields) {
        for (const value of values) {
          const candidate = { ...base };
          if (value === undefined) delete candidate[field];
          else candidate[field] = value;
          const parsed = LedgerEntrySchema.safeParse(candidate);
          const zodOk = parsed.success;
          const fastOk = ledgerEntryProblem(candidate) === undefined;
          assert.equal(fastOk, zodOk, `${field} = ${String(value)}: zod says ${zodOk}, the fast check says ${fastOk}`);
          // What replay keeps is what the schema reads: a malformed `client` label is dropped by both.
          if (parsed.success) assert.deepEqual(JSON.parse(JSON.stringify(candidate)), JSON.parse(JSON.stringify(parsed.data)), `${field} = ${String(value)}: the entry as the schema reads it`);
          compared += 1;
        }
      }
    }
    assert.equal(compared, 2 * fields.length * values.length);
  });

  it('accepts unknown extra fields (a newer daemon wrote them) and rejects non-objects', () => {
    assert.equal(ledgerEntryProblem({ ...full, futureField: 1 }), undefined);
    for (const v of [null, 1, 'x', [], [full]]) assert.equal(ledgerEntryProblem(v), 'not a JSON object');
  });
});
