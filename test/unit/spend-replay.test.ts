// Start-up replay with closed-month summaries: months before last month are parsed once and then read
// from a small summary; totals and spend reports equal a full replay, and a changed month file is
// parsed again.
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LedgerEntry } from '../../shared/ledger';
import { Ledger } from '../../daemon/spend/ledger';
import { summaryStore, type MonthSummary } from '../../daemon/spend/month-summaries';
import { SpendIndex } from '../../daemon/spend/spend-index';
import { spendReport } from '../../daemon/spend/spend-query';
import { USD } from '../../shared/money';

const now = Date.parse('2026-11-15T00:00:00Z'); // open: 2026-10 and 2026-11
let n = 0;
function entry(time: string, over: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    id: `r${++n}`, time, requestedModel: 'chat', model: 'chat', servedModel: 'm', deployment: 'up0/m', provider: 'up0', attempts: 1, status: 200,
    ok: true, stream: false, promptTokens: 100, completionTokens: 50, usageSource: 'upstream', costUsd: 0.0123, latencyMs: 10, ...over,
  };
}

describe('replay with closed-month summaries', () => {
  let dataDir: string;
  const months: Record<string, LedgerEntry[]> = {
    '2026-08': [entry('2026-08-03T10:00:00.000Z'), entry('2026-08-31T23:59:59.000Z', { model: 'other', key: 'key-1' })],
    '2026-09': [entry('2026-09-10T10:00:00.000Z', { ok: false, status: 503, costUsd: 0 }), entry('2026-09-11T10:00:00.000Z')],
    '2026-10': [entry('2026-10-01T00:00:00.000Z')],
    '2026-11': [entry('2026-11-14T00:00:00.000Z')],
  };
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'shepherd-summaries-'));
    const ledger = await Ledger.open(dataDir);
    for (const [month, es] of Object.entries(months)) await writeFile(join(ledger.dir, `${month}.jsonl`), es.map((e) => `${JSON.stringify(e)}\n`).join(''));
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  async function replay() {
    const ledger = await Ledger.open(dataDir);
    const index = new SpendIndex();
    const seen: string[] = [];
    const summaries: MonthSummary[] = [];
    const result = await ledger.replay(
      (e) => {
        seen.push(e.time.slice(0, 7));
        index.add(e);
      },
      summaryStore(ledger.dir, now, (s) => {
        summaries.push(s);
        for (const b of s.buckets) index.addBucket(b);
      }),
    );
    return { ledger, index, seen, summaries, result };
  }

  it('passes only open months entry by entry, and gives the same totals and reports as a full replay', async () => {
    const full = await Ledger.open(dataDir);
    const fullIndex = new SpendIndex();
    await full.replay((e) => fullIndex.add(e));
    for (let run = 0; run < 2; run++) {
      const r = await replay();
      assert.deepEqual(r.seen, ['2026-10', '2026-11']);
      assert.equal(r.summaries.length, 2);
      assert.deepEqual(r.result.entries, 6);
      for (const groupBy of ['model', 'day', 'key', 'deployment'] as const) {
        const q = { from: '2026-08-01', to: '2026-11-30', groupBy };
        assert.deepEqual(spendReport(r.index, q, { now, currency: USD }), spendReport(fullIndex, q, { now, currency: USD }));
      }
    }
    assert.deepEqual((await readdir(join(dataDir, 'ledger', 'summaries'))).sort(), ['2026-08.json', '2026-09.json']);
  });

  it('reads a closed month from its summary, and parses it again when the file changed', async () => {
    const file = join(dataDir, 'ledger', '2026-08.jsonl');
    const text = await readFile(file, 'utf8');
    // Same size, different content: the summary is used (proof that the file is not parsed).
    await writeFile(file, ' '.repeat(text.length - 1) + '\n');
    assert.equal((await replay()).result.entries, 6);
    await writeFile(file, text);
    await appendFile(file, `${JSON.stringify(entry('2026-08-20T00:00:00.000Z', { costUsd: 1 }))}\n`);
    const r = await replay();
    assert.equal(r.result.entries, 7);
    assert.equal(spendReport(r.index, { from: '2026-08-01', to: '2026-11-30', groupBy: 'model' }, { now, currency: USD }).totals.costUsd, 0.0123 * 5 + 1);
  });
});
