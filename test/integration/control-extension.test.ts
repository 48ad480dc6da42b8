// The extension's side of the lifecycle, without VS Code: find no daemon, start the bundled one
// detached the way the extension does, connect with the token, stream a chat, see the daemon stop,
// and reconnect by itself once a daemon runs again.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { DaemonState, ServerMessage } from '../../shared/protocol';
import { ControlClient } from '../../extension/control-client';
import { findDaemon, launchDaemon, stopDaemon } from '../../extension/daemon-process';
import { eventually } from '../support/harness';

const root = resolve(__dirname, '../..');

describe('extension lifecycle against the bundled daemon', function () {
  this.timeout(60_000);
  let dataDir: string;
  let client: ControlClient | undefined;
  const messages: ServerMessage[] = [];
  const connects: DaemonState[] = [];
  const disconnects: (DaemonState | undefined)[] = [];

  before(async function () {
    const built = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: root, encoding: 'utf8' });
    assert.equal(built.status, 0, built.stderr);
    dataDir = await mkdtemp(join(tmpdir(), 'shepherd-ext-'));
  });
  after(async () => {
    client?.stop();
    const running = await findDaemon(dataDir);
    if (running) await stopDaemon(running);
    await rm(dataDir, { recursive: true, force: true });
  });

  const env = () => {
    const e: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!/_API_KEY$/.test(k) && !k.startsWith('SHEPHERD_')) e[k] = v;
    return e;
  };
  const launch = () => launchDaemon({ dataDir, script: join(root, 'dist/daemon.js'), execPath: process.execPath, env: env(), port: 0 });

  it('finds no daemon in an empty data dir, nor behind a stale state file', async () => {
    assert.equal(await findDaemon(dataDir), undefined);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    await writeFile(join(dataDir, 'daemon.json'), JSON.stringify({ pid: dead, version: '0.1.0', host: '127.0.0.1', port: 1, url: 'http://127.0.0.1:1', sandbox: true, startedAt: '', controlToken: 'f'.repeat(64), protocol: 1 }));
    assert.equal(await findDaemon(dataDir), undefined);
  });

  it('starts the daemon detached, connects with the token and receives the snapshot', async () => {
    const state = await launch();
    assert.notEqual(state.pid, process.pid);
    assert.equal((await findDaemon(dataDir))?.pid, state.pid);
    client = new ControlClient({
      discover: () => findDaemon(dataDir),
      clientVersion: 'test',
      log: () => undefined,
      events: { message: (m) => messages.push(m), connected: (d) => connects.push(d), disconnected: (_r, d) => disconnects.push(d) },
    });
    client.start();
    const snap = await eventually(() => messages.find((m) => m.type === 'snapshot'), 10_000, 'the snapshot');
    assert.ok(snap.type === 'snapshot' && snap.snapshot.sandbox, 'no keys: the sandbox serves');
    assert.equal(connects.length, 1);
  });

  it('streams a chat and reports who served it', async () => {
    let text = '';
    const done = await client!.chat('gpt-4.1', [{ role: 'user', content: 'explain' }], { onDelta: (t) => (text += t) });
    assert.match(text, /^\[sandbox\]/);
    assert.match(done.deployment ?? '', /^sandbox-/);
    assert.equal(done.model, 'gpt-4.1');
  });

  it('notices the daemon stopping, and reconnects by itself when one runs again', async () => {
    const state = (await findDaemon(dataDir))!;
    assert.equal(await stopDaemon(state), true);
    assert.equal(existsSync(join(dataDir, 'daemon.json')), false);
    await eventually(() => disconnects.includes(undefined), 10_000, 'a disconnect with no daemon found');
    assert.equal(client!.connected, false);
    await launch();
    await eventually(() => connects.length === 2, 20_000, 'the reconnect');
    assert.equal(client!.connected, true);
  });
});
