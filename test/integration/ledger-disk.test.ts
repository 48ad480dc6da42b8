// The ledger on a disk that fails under a running daemon: a real 64 KiB tmpfs mounted on the data
// directory's ledger folder, filled up (ENOSPC) or remounted read-only (EROFS) while requests flow
// through the official `openai` client. Every request is answered, no finished request's line is lost
// (it waits and is written in order once the disk takes it, or goes to a fallback file at shutdown
// that the next start takes back), the state shows in /v1/shepherd/status, /metrics and one log line
// per change, and with ledger.onWriteFailure "refuse" new requests get a clear 503. Needs root (mount);
// skipped, saying why, where mounting is not allowed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, readdir, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import type { LedgerHealth } from '../../shared/ledger';
import type { Sandbox } from '../../daemon/sandbox/server';
import { startDaemon, type RunningDaemon } from '../../daemon/start';
import { fallbackPaths } from '../../daemon/spend/ledger-fallback';
import { captureLogger, configFor, eventually, startSandboxes } from '../support/harness';
import { writeFile } from 'node:fs/promises';
import type { ShepherdConfigInput } from '../../shared/config';

const FAILING_LOG = /ledger: lines cannot be written/;

describe('ledger on a failing disk (real tmpfs)', function () {
  this.timeout(15_000);
  let root: string;
  let dataDir: string;
  let ledgerDir: string;
  let configPath: string;
  let sandboxes: Sandbox[];
  let running: RunningDaemon | undefined;
  let logs: string[];

  before(function () {
    const probe = execFileSync('mktemp', ['-d']).toString().trim();
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'pipe' });
      execFileSync('umount', [probe]);
    } catch (err) {
      console.log(`      (skipped: cannot mount a tmpfs here: ${(err as Error).message.split('\n')[0]})`);
      this.skip();
    } finally {
      execFileSync('rmdir', [probe]);
    }
  });

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'shepherd-disk-'));
    dataDir = join(root, 'data');
    ledgerDir = join(dataDir, 'ledger');
    await mkdir(ledgerDir, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', ledgerDir]);
    configPath = join(root, 'config.json');
    sandboxes = await startSandboxes(1);
    logs = [];
  });

  afterEach(async () => {
    await running?.stop();
    running = undefined;
    await Promise.all(sandboxes.map((s) => s.close()));
    execFileSync('umount', ['-l', ledgerDir]);
    for (const p of fallbackPaths(ledgerDir)) await unlink(p).catch(() => {});
    await rm(root, { recursive: true, force: true });
  });

  async function start(extra: Partial<ShepherdConfigInput> = {}): Promise<{ daemon: RunningDaemon; client: OpenAI }> {
    await writeFile(configPath, JSON.stringify(configFor(sandboxes, extra)));
    const daemon = await startDaemon({ configPath, dataDir, port: 0, env: {}, log: captureLogger(logs), graceMs: 2_000, watch: false });
    running = daemon;
    return { daemon, client: new OpenAI({ baseURL: `${daemon.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 10_000 }) };
  }

  async function stop(): Promise<void> {
    await running?.stop();
    running = undefined;
  }

  /** One chat completion; its request id (x-request-id). */
  async function ask(client: OpenAI, i: number): Promise<string> {
    const { response } = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: `question ${i}` }] }).withResponse();
    assert.equal(response.status, 200);
    const id = response.headers.get('x-request-id');
    assert.ok(id);
    return id;
  }

  async function status(daemon: RunningDaemon): Promise<LedgerHealth> {
    const body = (await (await fetch(`${daemon.url}/v1/shepherd/status`)).json()) as { ledger?: LedgerHealth };
    assert.ok(body.ledger, 'the status report has a ledger field');
    return body.ledger;
  }

  async function metric(daemon: RunningDaemon, name: string): Promise<number | undefined> {
    const text = await (await fetch(`${daemon.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.split(' ')[1]);
  }

  async function spendRequests(daemon: RunningDaemon): Promise<number> {
    const report = (await (await fetch(`${daemon.url}/v1/shepherd/spend?from=2000-01-01&to=2100-12-31`)).json()) as { totals: { requests: number } };
    return report.totals.requests;
  }

  /** Fills the tmpfs: a file grown until the disk says ENOSPC. */
  async function fill(): Promise<string> {
    const path = join(ledgerDir, 'filler');
    const handle = await open(path, 'w');
    try {
      for (;;) await handle.write(Buffer.alloc(4096, 0x78));
    } catch (err) {
      assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
    } finally {
      await handle.close();
    }
    return path;
  }

  /** The ids in the month files, in order; a torn fragment left by a write the full disk cut short is skipped, as replay does. */
  async function monthIds(): Promise<string[]> {
    const ids: string[] = [];
    torn = 0;
    for (const name of (await readdir(ledgerDir)).filter((n) => /^\d{4}-\d{2}\.jsonl$/.test(n)).sort()) {
      for (const line of (await readFile(join(ledgerDir, name), 'utf8')).split('\n')) {
        if (line === '') continue;
        try {
          ids.push((JSON.parse(line) as { id: string }).id);
        } catch {
          torn += 1;
        }
      }
    }
    return ids;
  }
  let torn = 0;

  /** Read-only now; a remount is refused while a file is open for writing (the ledger's retry, briefly). */
  async function remountReadOnly(): Promise<void> {
    await eventually(() => {
      try {
        execFileSync('mount', ['-o', 'remount,ro', ledgerDir], { stdio: 'pipe' });
        return true;
      } catch {
        return undefined;
      }
    }, 5_000, 'the read-only remount');
  }

  it('a full disk: every request answered, lines wait and are written in order once space is freed; a restart counts them all', async () => {
    const { daemon, client } = await start();
    const sent: string[] = [];
    for (let i = 0; i < 3; i++) sent.push(await ask(client, i));
    assert.equal((await status(daemon)).state, 'ok');
    const filler = await fill();
    for (let i = 3; i < 63; i++) sent.push(await ask(client, i)); // ~27 KB of lines: far more than a page left free
    const failing = await status(daemon);
    assert.equal(failing.state, 'failing');
    assert.ok(failing.waiting > 0, `lines wait (${failing.waiting})`);
    assert.match(failing.lastError ?? '', /ENOSPC/);
    assert.equal(await metric(daemon, 'shepherd_ledger_failing'), 1);
    assert.equal(await metric(daemon, 'shepherd_ledger_lines_waiting'), failing.waiting);
    assert.equal(logs.filter((l) => FAILING_LOG.test(l)).length, 1, 'one log line for the change, not one per request');
    assert.ok(!logs.some((l) => /could not write the ledger line/.test(l)), 'no per-request error');

    await unlink(filler);
    await eventually(async () => (await status(daemon)).state === 'ok', 5_000, 'the ledger to recover');
    assert.deepEqual(await monthIds(), sent, 'every line, in the order the requests finished');
    assert.ok(torn <= 1, `at most the one line the full disk cut short is torn (${torn})`);
    assert.equal(await metric(daemon, 'shepherd_ledger_failing'), 0);
    assert.equal(logs.filter((l) => /ledger: writes work again/.test(l)).length, 1);

    await stop();
    const again = await start();
    assert.equal(await spendRequests(again.daemon), sent.length, 'spend after a restart counts every request');
  });

  it('full, then read-only at runtime, then shutdown: the waiting lines go to a fallback file, and the next start takes them back once', async () => {
    const { daemon, client } = await start();
    const sent: string[] = [];
    for (let i = 0; i < 3; i++) sent.push(await ask(client, i));
    const filler = await fill();
    for (let i = 3; i < 23; i++) sent.push(await ask(client, i));
    assert.equal((await status(daemon)).state, 'failing');
    // A remount is refused while a file is open for writing: after the failed write the month file is closed.
    await remountReadOnly();
    for (let i = 23; i < 33; i++) sent.push(await ask(client, i));
    await eventually(async () => /EROFS/.test((await status(daemon)).lastError ?? '') || undefined, 5_000, 'EROFS from the retry');
    const failing = await status(daemon);
    assert.equal(failing.state, 'failing');
    assert.ok(failing.waiting >= 10, `lines wait (${failing.waiting})`);
    assert.equal(logs.filter((l) => FAILING_LOG.test(l)).length, 1, 'one log line for the change');
    await stop();
    const [besideLedger, inTmp] = fallbackPaths(ledgerDir);
    assert.ok(logs.some((l) => l.includes(`${failing.waiting} line(s) could not be written`) && l.includes(`saved to ${inTmp}`)), logs.join('\n'));
    assert.equal(existsSync(besideLedger), false, 'the ledger folder was read-only');
    assert.equal((await readFile(inTmp, 'utf8')).trim().split('\n').length, failing.waiting);

    execFileSync('mount', ['-o', 'remount,rw', ledgerDir]);
    await unlink(filler);
    logs.length = 0;
    const second = await start();
    assert.ok(logs.some((l) => l.includes(`took back ${failing.waiting} line(s)`)), logs.join('\n'));
    assert.equal(existsSync(inTmp), false, 'the fallback file is removed');
    assert.deepEqual(await monthIds(), sent, 'every line once, in order');
    assert.equal(await spendRequests(second.daemon), sent.length);
    await stop();
    const third = await start();
    assert.equal(await spendRequests(third.daemon), sent.length, 'nothing counted twice');
  });

  it('with ledger.onWriteFailure "refuse": new requests get a clear 503 while failing, and are served again once it recovers', async () => {
    const { daemon, client } = await start({ ledger: { onWriteFailure: 'refuse' } });
    const first = await ask(client, 0);
    const filler = await fill();
    const during: string[] = [];
    // Served until a write fails: the disk's state is learned by writing (the page in use may take a few lines).
    while ((await status(daemon)).state === 'ok') during.push(await ask(client, during.length + 1));
    assert.ok(during.length > 0 && during.length < 40, `${during.length} served before the ledger failed`);
    const refused = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }).then(
      () => assert.fail('served while the ledger fails'),
      (err: unknown) => err,
    );
    assert.ok(refused instanceof OpenAI.APIError);
    assert.equal(refused.status, 503);
    assert.equal(refused.code, 'ledger_unavailable');
    assert.match(refused.message, /ledger cannot be written .*ENOSPC.*ledger\.onWriteFailure is "refuse"/);
    await unlink(filler);
    await eventually(async () => (await status(daemon)).state === 'ok', 5_000, 'the ledger to recover');
    const after = await ask(client, 99);
    assert.deepEqual(await monthIds(), [first, ...during, after], 'the refused request has no line; the others are all there');
  });
});
