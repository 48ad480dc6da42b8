// Ledger replay at start-up: writes N realistic entries (default 1,000,000) spread evenly over the
// twelve months up to the current one in a temp dir, then times
//   - a full parse of every line (Ledger.replay without summaries),
//   - the daemon's replay with closed-month summaries, first start (parses all, saves summaries) and
//     later starts (parses only last month and this month),
// each feeding the budgets' spend index as the daemon does. Prints the figures; no assertions.
//   npx tsx test/bench/replay.ts [entries]
import { mkdtemp, rm } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LedgerEntry } from '../../shared/ledger';
import { SpendHistory } from '../../daemon/server/control-history';
import { Budgets } from '../../daemon/spend/budgets';
import { Ledger } from '../../daemon/spend/ledger';
import { summaryStore } from '../../daemon/spend/month-summaries';

const N = Number(process.argv[2] ?? 1_000_000);
const groups = ['gpt-4.1', 'claude-sonnet-4.5', 'gemini-2.5-flash', 'deepseek-v3.2'];
const NOW = Date.now();
const START = Date.UTC(new Date(NOW).getUTCFullYear(), new Date(NOW).getUTCMonth() - 11, 1);

function entry(i: number): LedgerEntry {
  const g = groups[i % groups.length];
  const ok = i % 50 !== 0;
  // Spread over the last twelve months up to now, in time order.
  const time = new Date(START + Math.floor((i / N) * (NOW - START))).toISOString();
  return {
    id: `shep-${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`,
    time,
    requestedModel: g,
    model: g,
    servedModel: g,
    deployment: `${i % 3 === 0 ? 'openrouter' : 'official'}/${g}`,
    provider: i % 3 === 0 ? 'openrouter' : 'official',
    attempts: 1,
    status: ok ? 200 : 503,
    ok,
    ...(ok ? {} : { error: 'HTTP 503: upstream overloaded' }),
    stream: i % 2 === 0,
    promptTokens: ok ? 500 + (i % 700) : 0,
    completionTokens: ok ? 100 + (i % 300) : 0,
    ...(i % 5 === 0 ? { cachedTokens: 256 } : {}),
    usageSource: ok ? 'upstream' : 'none',
    costUsd: ok ? Math.round((0.001 + (i % 97) * 1e-5) * 1e10) / 1e10 : 0,
    latencyMs: 800 + (i % 1000) / 10,
    ...(ok ? { ttftMs: 200 + (i % 100) } : {}),
  };
}

async function write(dir: string): Promise<number> {
  await Ledger.open(dir); // creates <dir>/ledger
  let bytes = 0;
  let month = '';
  let out: ReturnType<typeof createWriteStream> | undefined;
  for (let i = 0; i < N; i++) {
    const e = entry(i);
    if (e.time.slice(0, 7) !== month) {
      if (out) await new Promise<void>((r) => out?.end(() => r()));
      month = e.time.slice(0, 7);
      out = createWriteStream(join(dir, 'ledger', `${month}.jsonl`));
    }
    const line = `${JSON.stringify(e)}\n`;
    bytes += line.length;
    if (!out?.write(line)) await new Promise<void>((r) => out?.once('drain', () => r()));
  }
  if (out) await new Promise<void>((r) => out?.end(() => r()));
  return bytes;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'shepherd-bench-'));
  try {
    const bytes = await write(dir);
    console.log(`ledger: ${N} entries, ${(bytes / 1e6).toFixed(0)} MB`);
    const timed = async (closed: boolean) => {
      const ledger = await Ledger.open(dir);
      const budgets = new Budgets();
      const summaries = closed ? summaryStore(ledger.dir, NOW, (s) => budgets.addBuckets(s.buckets)) : undefined;
      const started = performance.now();
      const r = await ledger.replay((e) => budgets.add(e), summaries);
      return `${Math.round(performance.now() - started)} ms (${r.entries} entries)`;
    };
    console.log(`full parse of every line: ${await timed(false)}`);
    console.log(`with summaries, first start (parses all, writes summaries): ${await timed(true)}`);
    for (let run = 1; run <= 3; run++) console.log(`with summaries, start ${run + 1}: ${await timed(true)}`);
    if (process.argv.includes('--history')) {
      // The extension's spend history (daemon/server/control-history.ts) is fed the open months too.
      const history = new SpendHistory();
      const started = performance.now();
      await (await Ledger.open(dir)).replay((e) => history.add(e), summaryStore(join(dir, 'ledger'), NOW, () => {}));
      console.log(`with summaries + SpendHistory.add per open-month entry: ${Math.round(performance.now() - started)} ms`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

void main();
