// Kill and replay: the real CLI daemon under concurrent load is killed with SIGKILL; every response
// the client received in full must be in the ledger, and the restarted daemon must replay the ledger
// and count exactly what is in it.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { eventually } from '../support/harness';

const root = resolve(__dirname, '../..');
const daemonJs = join(root, 'dist/daemon.js');

function cleanEnv(dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/_API_KEY$/.test(k) && !k.startsWith('SHEPHERD_')) env[k] = v;
  return { ...env, SHEPHERD_DATA_DIR: dataDir };
}

async function startCli(dataDir: string): Promise<{ child: ChildProcessWithoutNullStreams; url: string; output: () => string }> {
  const child = spawn(process.execPath, [daemonJs, 'start', '--port', '0'], { cwd: root, env: cleanEnv(dataDir) });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const line = await eventually(() => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out) ?? undefined, 15_000, 'the listening line');
  return { child, url: line[1], output: () => out };
}

/** One request read to its end; resolves with its id only when the whole response arrived. */
async function complete(url: string, n: number): Promise<string | undefined> {
  const stream = n % 2 === 1;
  try {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: `request ${n}` }], stream, max_tokens: 8 }),
    });
    const text = await res.text();
    if (res.status !== 200) return undefined;
    if (stream ? !text.includes('data: [DONE]') : !text.includes('"choices"')) return undefined;
    return res.headers.get('x-request-id') ?? undefined;
  } catch {
    return undefined; // cut off by the kill: not completed
  }
}

/** Ledger lines on disk: parsed entries, and lines that do not parse (at most a torn last line per file). */
async function ledgerOnDisk(dataDir: string): Promise<{ ids: Set<string>; torn: string[] }> {
  const dir = join(dataDir, 'ledger');
  const ids = new Set<string>();
  const torn: string[] = [];
  for (const name of (await readdir(dir)).filter((n) => n.endsWith('.jsonl'))) {
    const lines = (await readFile(join(dir, name), 'utf8')).split('\n');
    lines.forEach((line, i) => {
      if (line === '') return;
      try {
        ids.add((JSON.parse(line) as { id: string }).id);
      } catch {
        torn.push(`${name}:${i + 1}${i === lines.length - 1 ? ' (last)' : ''}`);
      }
    });
  }
  return { ids, torn };
}

describe('durability: SIGKILL under load, then replay', function () {
  this.timeout(90_000);
  let dataDir: string;
  let running: ChildProcessWithoutNullStreams | undefined;

  before(function () {
    this.timeout(60_000);
    const built = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: root, encoding: 'utf8' });
    assert.equal(built.status, 0, built.stderr);
    assert.ok(existsSync(daemonJs));
  });
  after(async () => {
    running?.kill('SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('loses no completed request and replays cleanly after a SIGKILL mid-load', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'shepherd-kill-'));
    const first = await startCli(dataDir);
    running = first.child;
    const completed: string[] = [];
    let sent = 0;
    let stop = false;
    const worker = async () => {
      while (!stop) {
        const id = await complete(first.url, sent++);
        if (id) completed.push(id);
      }
    };
    const workers = Array.from({ length: 12 }, worker);
    // Kill while requests are in flight, once a fair number have completed.
    await eventually(() => completed.length >= 40 || undefined, 60_000, '40 completed requests');
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    stop = true;
    await Promise.all(workers);
    assert.ok(sent > completed.length, 'some requests were cut off by the kill');

    const disk = await ledgerOnDisk(dataDir);
    const missing = completed.filter((id) => !disk.ids.has(id));
    assert.deepEqual(missing, [], `${missing.length} of ${completed.length} completed requests are missing from the ledger`);
    assert.ok(disk.torn.every((t) => t.endsWith('(last)')), `only a torn last line may be unreadable: ${disk.torn.join(', ')}`);

    // The restarted daemon replays the ledger and counts every entry in it.
    const second = await startCli(dataDir);
    running = second.child;
    const res = await fetch(`${second.url}/v1/shepherd/spend?from=2000-01-01&to=2100-12-31`);
    assert.equal(res.status, 200);
    const report = (await res.json()) as { totals: { requests: number }; sandbox?: { totals: { requests: number } } };
    // The CLI runs on the sandbox: its requests are reported apart from real spend.
    assert.equal(report.totals.requests + (report.sandbox?.totals.requests ?? 0), disk.ids.size);
    assert.ok(await complete(second.url, 0), 'the restarted daemon answers');
    second.child.kill('SIGTERM');
    const code = await new Promise((r) => second.child.once('exit', r));
    running = undefined;
    assert.equal(code, 0, second.output());
    const after = await ledgerOnDisk(dataDir);
    assert.equal(after.ids.size, disk.ids.size + 1);
  });
});
