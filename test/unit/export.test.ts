// `shepherd export` and `shepherd spend` reading the ledger itself: CSV and JSON that parse back to the
// entries, day ranges, and the CLI's handling of bad flags.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { LedgerEntry } from '../../shared/ledger';
import { exportLedger, spendFromLedger } from '../../daemon/cli/spend';
import { formatSpend } from '../../daemon/cli/spend-format';

const root = resolve(__dirname, '../..');

function entry(id: string, time: string, over: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    id, time, requestedModel: 'chat', model: 'chat', servedModel: 'm', deployment: 'up0/m', provider: 'up0', attempts: 1, status: 200, ok: true,
    stream: false, promptTokens: 100, completionTokens: 50, usageSource: 'upstream', costUsd: 0.0006, latencyMs: 10, ...over,
  };
}

/** Minimal RFC 4180 reader for the test: quoted fields with doubled quotes, CRLF records. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  return rows;
}

describe('ledger export and offline spend', () => {
  let dir: string;
  const entries = [
    entry('a', '2026-10-31T23:00:00.000Z'),
    entry('b', '2026-11-01T00:00:00.000Z', { error: 'upstream said: "no", then, stop\nnow', ok: false, status: 503, costUsd: 0 }),
    entry('c', '2026-11-02T08:00:00.000Z', { usageSource: 'estimated', key: 'key-12345678', model: 'cheap', requestedModel: '=HYPERLINK("x")' }),
  ];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shepherd-export-'));
    await mkdir(join(dir, 'ledger'));
    await writeFile(join(dir, 'ledger', '2026-10.jsonl'), `${JSON.stringify(entries[0])}\n`);
    await writeFile(join(dir, 'ledger', '2026-11.jsonl'), `${JSON.stringify(entries[1])}\n${JSON.stringify(entries[2])}\n{"torn":`);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('writes JSON that parses back to exactly the entries of the day range', async () => {
    const out = join(dir, 'out.json');
    assert.equal(await exportLedger(dir, { from: '2026-11-01' }, 'json', out, () => {}), 2);
    assert.deepEqual(JSON.parse(await readFile(out, 'utf8')), entries.slice(1));
    assert.equal(await exportLedger(dir, { from: '2026-12-01' }, 'json', out, () => {}), 0);
    assert.deepEqual(JSON.parse(await readFile(out, 'utf8')), []);
  });

  it('writes CSV with a header of every ledger field, quoting what needs it and defusing formulas', async () => {
    const out = join(dir, 'out.csv');
    const warnings: string[] = [];
    assert.equal(await exportLedger(dir, {}, 'csv', out, (m) => warnings.push(m)), 3);
    assert.match(warnings.join('\n'), /torn last line/);
    const rows = parseCsv(await readFile(out, 'utf8'));
    assert.equal(rows.length, 4);
    const header = rows[0];
    assert.deepEqual(header.slice(0, 4), ['id', 'time', 'requestedModel', 'model']);
    const get = (row: string[], col: string) => row[header.indexOf(col)];
    assert.deepEqual(rows.slice(1).map((r) => get(r, 'id')), ['a', 'b', 'c']);
    assert.equal(get(rows[2], 'error'), 'upstream said: "no", then, stop\nnow');
    assert.equal(get(rows[3], 'requestedModel'), `'=HYPERLINK("x")`);
    assert.equal(get(rows[3], 'usageSource'), 'estimated');
    assert.equal(get(rows[1], 'costUsd'), '0.0006');
    assert.equal(get(rows[1], 'key'), '');
  });

  it('reports spend from the ledger when no daemon runs, marking estimated requests', async () => {
    const now = Date.parse('2026-11-02T12:00:00Z');
    const report = await spendFromLedger(dir, join(dir, 'no-config.json'), { from: '2026-11-01', to: '2026-11-02', groupBy: 'model' }, now, () => {});
    assert.deepEqual(report.rows.map((r) => [r.key, r.requests, r.errors, r.estimatedRequests]), [['cheap', 1, 0, 1], ['chat', 1, 1, 0]]);
    const table = formatSpend(report, 'table');
    assert.match(table, /cheap .* \$0\.0006 \*/);
    assert.match(table, /\* includes 1 request\(s\) whose tokens were estimated locally/);
    const csv = parseCsv(formatSpend(report, 'csv'));
    assert.deepEqual(csv[0], ['model', 'requests', 'errors', 'prompt_tokens', 'cached_tokens', 'completion_tokens', 'reasoning_tokens', 'estimated_requests', 'cost_usd', 'cache_write_tokens', 'cache_saved_usd']);
    assert.deepEqual(csv[csv.length - 1], ['total', '2', '1', '200', '0', '100', '0', '1', '0.0006', '0', '0']);
  });

  it('exits 2 naming the flag when a flag is bad', function () {
    this.timeout(30_000);
    const run = (...args: string[]) => spawnSync(process.execPath, ['-r', 'tsx/cjs', join(root, 'daemon/main.ts'), ...args], { encoding: 'utf8', cwd: root });
    const bad = run('spend', '--data-dir', dir, '--format', 'xml');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--format must be table, csv or json, not "xml"/);
    const ok = run('spend', '--data-dir', dir, '--from', '2026-10-01', '--to', '2026-11-30', '--by', 'day', '--format', 'json');
    assert.equal(ok.status, 0, ok.stderr);
    assert.deepEqual((JSON.parse(ok.stdout) as { rows: { key: string }[] }).rows.map((r) => r.key), ['2026-10-31', '2026-11-01', '2026-11-02']);
  });
});
