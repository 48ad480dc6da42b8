// A cold replay split between the main thread and a worker thread (daemon/spend/replay-split.ts) gives
// exactly what one thread gives: the months handed over (buckets, groups, latest entries, in
// their order), the budgets' spend and the extension's spend history, the closed months' summaries and
// the open months' checkpoints written, and the same warnings with the same line numbers. A worker
// that cannot start or fails changes nothing but one warning. Every test forces the split with
// minBytes 0 (the default needs 16 MiB of lines); most other tests replay on one thread.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFile, cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LedgerEntry } from '../../shared/ledger';
import { SpendHistory } from '../../daemon/spend/history';
import { Budgets } from '../../daemon/spend/budgets';
import { checkpointedMonths, type CheckpointPolicy } from '../../daemon/spend/checkpoints';
import { Ledger, type LedgerOptions } from '../../daemon/spend/ledger';
import { MAX_LINE_BYTES } from '../../daemon/spend/ledger-read';
import { summaryStore, type MonthSummary } from '../../daemon/spend/month-summaries';
import type { MonthView } from '../../daemon/spend/month-tally';

const now = Date.parse('2026-11-15T12:00:00Z'); // open months: 2026-10 and 2026-11; earlier ones closed
const clock = () => now;
const MANUAL: Partial<CheckpointPolicy> = { appends: 1e9, ms: 3_600_000 };
const ONE_THREAD: LedgerOptions['replayWorker'] = { minBytes: Infinity };
const SPLIT: LedgerOptions['replayWorker'] = { minBytes: 0 };
const FALLBACK = /^ledger: the replay worker failed \(.+\); reading the rest of the ledger on one thread$/;

let seq = 0;
/** Varied entries: groups, keys, errors, no group at all, optional fields, in both field orders the daemon writes. */
function entry(month: string, i: number): LedgerEntry {
  seq += 1;
  const time = `${month}-${String(1 + (i % 27)).padStart(2, '0')}T${String(i % 24).padStart(2, '0')}:00:00.000Z`;
  const base: LedgerEntry = {
    id: `req-${seq}`, time, requestedModel: 'chat', model: 'chat', servedModel: 'm', deployment: 'up0/m', provider: 'up0', attempts: 1,
    status: 200, ok: true, stream: i % 2 === 0, promptTokens: 100 + (i % 500), completionTokens: 50, usageSource: 'upstream',
    costUsd: Math.round((0.0123 + (i % 97) * 1e-5) * 1e10) / 1e10, latencyMs: 10 + (i % 7) / 10,
  };
  if (i % 7 === 3) return { ...base, model: null, requestedModel: 'typo', servedModel: null, deployment: null, provider: null, ok: false, status: 404, costUsd: 0, promptTokens: 0, completionTokens: 0, usageSource: 'none' };
  if (i % 5 === 1) return { ...base, model: 'fast', deployment: `up${i % 3}/f`, key: 'team-a', cachedTokens: 20, usageSource: 'estimated' };
  if (i % 11 === 2) return { ...base, ok: false, status: 503, error: 'HTTP 503', costUsd: 0 };
  if (i % 13 === 4) return { ...base, ttftMs: 42, sandbox: true, client: 'cli' };
  return base;
}

/** Lines replay must skip or take the slow path for, one of each kind. */
function oddLine(kind: number, month: string): string {
  const e = entry(month, 1000 + kind);
  switch (kind % 6) {
    case 0: return 'garbage, not JSON';
    case 1: return JSON.stringify({ ...e, promptTokens: 'many' }); // wrong type
    case 2: return 'x'.repeat(MAX_LINE_BYTES + 100); // over-long
    case 3: return JSON.stringify({ ...e, error: 'upstream said "no"\n', requestedModel: 'modèle ünïcode' }); // escapes: slow path, accepted
    case 4: return ''; // blank: harmless
    default: return JSON.stringify({ ...e, costUsd: -1 });
  }
}

/** A month file of `count` entries with odd lines at the given entry indexes, ending in a torn line when `torn`. */
function monthText(month: string, count: number, odd: Map<number, number>, torn: boolean): string {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const kind = odd.get(i);
    if (kind !== undefined) lines.push(oddLine(kind, month));
    lines.push(JSON.stringify(entry(month, i)));
  }
  return `${lines.join('\n')}\n${torn ? '{"id":"torn-by-a-crash","time":"' : ''}`;
}

interface Outcome {
  result: unknown;
  months: unknown[];
  summaries: MonthSummary[];
  history: unknown;
  recent: string[];
  buckets: unknown[];
  /** The summary and checkpoint files the replay (and the close after it) wrote. */
  files: Record<string, string>;
  warnings: string[];
}

function view(m: MonthView): unknown {
  return { month: m.month, entries: m.entries, skipped: m.skipped, buckets: [...m.buckets()].map((b) => ({ ...b })), groups: [...m.groups()].map(([g, c]) => [g, { ...c }]), recent: m.recent().map((e) => ({ ...e })) };
}

describe('ledger replay split with a worker thread', function () {
  this.timeout(60_000);
  const dirs: string[] = [];

  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  async function ledgerDir(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'shepherd-split-'));
    dirs.push(dir);
    const ledger = await Ledger.open(dir);
    for (const [month, text] of Object.entries(files)) await writeFile(join(ledger.dir, `${month}.jsonl`), text);
    return dir;
  }

  /** What start-up (daemon/start.ts) rebuilds, on a copy of `source`; checkpoints are written at close. */
  async function replay(source: string, replayWorker: LedgerOptions['replayWorker']): Promise<Outcome> {
    const dir = await mkdtemp(join(tmpdir(), 'shepherd-split-run-'));
    dirs.push(dir);
    await cp(source, dir, { recursive: true });
    const warnings: string[] = [];
    const ledger = await Ledger.open(dir, { warn: (m) => warnings.push(m.replaceAll(dir, '<dir>')), replayWorker });
    const budgets = new Budgets(undefined, { now: clock });
    const history = new SpendHistory(() => new Date(now));
    const months: unknown[] = [];
    const summaries: MonthSummary[] = [];
    const result = await ledger.replay(
      undefined,
      summaryStore(ledger.dir, now, (s) => {
        summaries.push(s);
        budgets.addBuckets(s.buckets);
      }),
      checkpointedMonths(ledger.dir, (m) => {
        months.push(view(m));
        history.addMonth(m);
        budgets.addBuckets(m.buckets());
      }, MANUAL),
    );
    await ledger.close();
    const files: Record<string, string> = {};
    for (const sub of ['summaries', 'checkpoints']) {
      const names = await readdir(join(ledger.dir, sub)).catch(() => []);
      for (const name of names.sort()) files[`${sub}/${name}`] = await readFile(join(ledger.dir, sub, name), 'utf8');
    }
    return {
      result: { ...result, ms: 0 },
      months,
      summaries,
      history: history.snapshot(),
      recent: history.recent().map((e) => e.id),
      buckets: [...budgets.index.all()].map((b) => ({ ...b })),
      files,
      warnings,
    };
  }

  /**
   * Eleven months (nine closed), a few odd lines in each, torn last lines in a closed and the current
   * month, and one over-long line early in an open month: the split falls just after it, so that
   * month is cut in two and some of the listed warnings come from the worker's part.
   */
  function spread(): Record<string, string> {
    const files: Record<string, string> = {};
    for (let m = 1; m <= 11; m++) {
      const month = `2026-${String(m).padStart(2, '0')}`;
      const odd = new Map<number, number>(m <= 9 ? [[40 + m, [0, 1, 3, 4, 5][m % 5]]] : m === 10 ? [[5, 2], [60, 0], [100, 1]] : [[20, 5], [30, 0], [50, 1]]);
      files[month] = monthText(month, 150 + 10 * m, odd, m === 4 || m === 11);
    }
    return files;
  }

  /** One open month, cut among ordinary lines: an over-long line first, then odd lines, many near the end. */
  function oneMonth(torn = true): Record<string, string> {
    const odd = new Map<number, number>([[3, 2], [2000, 0], [3500, 3], [4000, 4], [5000, 5], [5500, 1]]);
    for (let i = 0; i < 9; i++) odd.set(5900 + 10 * i, 0);
    return { '2026-11': monthText('2026-11', 6000, odd, torn) };
  }

  for (const [layout, files] of [['eleven months', spread], ['one month', oneMonth]] as const) {
    it(`gives what one thread gives: ${layout}`, async () => {
      const dir = await ledgerDir(files());
      const single = await replay(dir, ONE_THREAD);
      const split = await replay(dir, SPLIT);
      assert.ok((single.result as { skipped: number }).skipped > 10, 'more skipped lines than are listed');
      assert.ok(single.warnings.some((w) => /more invalid lines skipped/.test(w)));
      assert.deepEqual(split, single);
    });
  }

  it('splits the lines after a checkpoint too, and the mark it leaves counts every line', async () => {
    const dir = await ledgerDir(oneMonth(false));
    const first = await Ledger.open(dir);
    await first.replay(undefined, summaryStore(first.dir, now, () => {}), checkpointedMonths(first.dir, () => {}, MANUAL));
    await first.close(); // writes the checkpoint, at the file's end
    await appendFile(join(first.dir, '2026-11.jsonl'), monthText('2026-11', 3000, new Map([[10, 0], [2900, 1]]), true));
    const single = await replay(dir, ONE_THREAD);
    const split = await replay(dir, SPLIT);
    assert.equal((single.result as { restored: number }).restored, 1, 'restored from the checkpoint');
    assert.deepEqual(split, single);
  });

  it('falls back to one thread with one warning when the worker cannot start or fails', async () => {
    const dir = await ledgerDir(spread());
    const throwing = join(dir, 'throwing-worker.js');
    await writeFile(throwing, 'throw new Error("broken on purpose");\n');
    const single = await replay(dir, ONE_THREAD);
    for (const script of [join(dir, 'no-such-worker.js'), throwing]) {
      const fallback = await replay(dir, { minBytes: 0, script });
      assert.equal(fallback.warnings.filter((w) => FALLBACK.test(w)).length, 1, fallback.warnings.join('\n'));
      assert.deepEqual({ ...fallback, warnings: fallback.warnings.filter((w) => !FALLBACK.test(w)) }, single);
    }
  });

  it('leaves no handle behind: a process that replays with the worker exits on its own', async () => {
    const dir = await ledgerDir(spread());
    const script = `
      const { Ledger } = require(${JSON.stringify(join(__dirname, '../../daemon/spend/ledger'))});
      const { checkpointedMonths } = require(${JSON.stringify(join(__dirname, '../../daemon/spend/checkpoints'))});
      const warnings = [];
      Ledger.open(${JSON.stringify(dir)}, { warn: (m) => warnings.push(m), replayWorker: { minBytes: 0 } })
        .then((l) => l.replay(undefined, undefined, checkpointedMonths(l.dir, () => {}, { appends: 1e9, ms: 3600000 })).then((r) => l.close().then(() => r)))
        .then((r) => console.log(JSON.stringify({ entries: r.entries, fallback: warnings.some((w) => w.includes('worker failed')) })));
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--require', require.resolve('tsx/cjs'), '-e', script], { timeout: 20_000 });
    const out = JSON.parse(stdout) as { entries: number; fallback: boolean };
    assert.ok(out.entries > 1000);
    assert.equal(out.fallback, false, 'the worker ran');
  });
});
