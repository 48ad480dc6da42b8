// Ledger replay at start-up: writes N realistic entries (default 1,000,000) in a temp dir, in two
// layouts: spread evenly over the twelve months up to now, and all in the current month (the worst
// case: nothing is closed, so month summaries do not help). For each it times
//   - a full parse: every line, each entry fed to the budgets and the spend history one by one
//     (no summaries, no checkpoints),
//   - the daemon's first start (daemon/start.ts: summaries and checkpoints, none there yet): parses
//     every line, saves the closed months' summaries; the checkpoints are written at close (timed apart),
//   - later starts: closed months from summaries, open months from checkpoints,
//   - a start after a crash: 10,000 lines written after the last checkpoint.
// Every case rebuilds the totals, the budgets' spend index and the SpendHistory, as start.ts does.
// Prints the figures; no assertions.
//   npx tsx test/bench/replay.ts [entries]
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LedgerEntry } from '../../shared/ledger';
import { SpendHistory } from '../../daemon/spend/history';
import { Budgets } from '../../daemon/spend/budgets';
import { checkpointedMonths } from '../../daemon/spend/checkpoints';
import { Ledger } from '../../daemon/spend/ledger';
import { summaryStore } from '../../daemon/spend/month-summaries';

const N = Number(process.argv[2] ?? 1_000_000);
const CRASH_TAIL = 10_000;
const groups = ['gpt-4.1', 'claude-sonnet-4.5', 'gemini-2.5-flash', 'deepseek-v3.2'];
const NOW = Date.now();
const now = new Date(NOW);
const LAYOUTS = {
  'spread over 12 months': Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 11, 1),
  'all in the current month': Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1),
};

function entry(i: number, start: number, end: number, count: number): LedgerEntry {
  const g = groups[i % groups.length];
  const ok = i % 50 !== 0;
  // From `start` up to `end`, in time order.
  const time = new Date(start + Math.floor((i / count) * (end - start))).toISOString();
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

async function write(dir: string, start: number): Promise<number> {
  await Ledger.open(dir); // creates <dir>/ledger
  let bytes = 0;
  let month = '';
  let out: ReturnType<typeof createWriteStream> | undefined;
  for (let i = 0; i < N; i++) {
    const e = entry(i, start, NOW, N);
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

/** Rebuilds totals, budgets and SpendHistory; `daemon` as start.ts does it, else a full parse entry by entry. */
async function startUp(dir: string, daemon: boolean): Promise<{ ms: number; ledger: Ledger; text: string }> {
  const ledger = await Ledger.open(dir);
  const budgets = new Budgets();
  const history = new SpendHistory();
  const started = performance.now();
  const r = daemon
    ? await ledger.replay(
        undefined,
        summaryStore(ledger.dir, NOW, (s) => budgets.addBuckets(s.buckets)),
        checkpointedMonths(ledger.dir, (month) => {
          history.addMonth(month);
          budgets.addBuckets(month.buckets());
        }),
      )
    : await ledger.replay((e) => {
        history.add(e);
        budgets.add(e);
      });
  const ms = performance.now() - started;
  if (history.snapshot().month.requests === 0 || r.entries === 0) throw new Error('nothing was rebuilt');
  const restored = r.restored === undefined ? '' : `, open months from checkpoints: ${r.restored}`;
  return { ms, ledger, text: `${Math.round(ms)} ms (${r.entries} entries${restored})` };
}

async function layout(name: string, start: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'shepherd-bench-'));
  try {
    const bytes = await write(dir, start);
    console.log(`\n${name}: ${N} entries, ${(bytes / 1e6).toFixed(0)} MB`);
    const full = await startUp(dir, false);
    await full.ledger.close();
    console.log(`  full parse of every line:                ${full.text}`);
    const first = await startUp(dir, true);
    const closing = performance.now();
    await first.ledger.close(); // writes the open months' checkpoints
    console.log(`  first start (writes summaries):          ${first.text}; checkpoints written at close in ${Math.round(performance.now() - closing)} ms`);
    for (let run = 2; run <= 4; run++) {
      const later = await startUp(dir, true);
      await later.ledger.close();
      console.log(`  later start ${run} (summaries + checkpoints): ${later.text}`);
    }
    // Lines written after the last checkpoint, then a SIGKILL: they are parsed, the rest restored.
    const month = new Date(NOW).toISOString().slice(0, 7);
    let tail = '';
    for (let i = 0; i < CRASH_TAIL; i++) tail += `${JSON.stringify({ ...entry(N + i, NOW, NOW, 1), time: new Date(NOW).toISOString() })}\n`;
    await appendFile(join(dir, 'ledger', `${month}.jsonl`), tail);
    const crashed = await startUp(dir, true);
    await crashed.ledger.close();
    console.log(`  start after a crash, ${CRASH_TAIL} lines after the checkpoint: ${crashed.text}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  for (const [name, start] of Object.entries(LAYOUTS)) await layout(name, start);
}

void main();
