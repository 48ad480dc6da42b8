// Issue 14: a failed start closes what it opened and exits; one daemon per data directory (a second
// start names the holder, a dead holder's lock is taken over, the extension attaches); `npm start`
// stopped with SIGTERM stops the daemon; an existing data directory is tightened to owner-only.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensureConfigFile } from '../../daemon/config/load';
import { startDaemon, StartError } from '../../daemon/start';
import { processStart } from '../../daemon/lifecycle/lock';
import { launchDaemon } from '../../extension/daemon-process';
import { EXIT_ALREADY_RUNNING, type DaemonState } from '../../shared/protocol';
import { captureLogger, configFor, eventually, startHarness, startSandboxes } from '../support/harness';
import { answers, cleanEnv, deadPid, freePort, spawnCaptured, type Spawned } from '../support/processes';

const root = resolve(__dirname, '../..');
const daemonJs = join(root, 'dist/daemon.js');
const cli = (args: string[], env: NodeJS.ProcessEnv = cleanEnv()) => spawnCaptured(process.execPath, [daemonJs, ...args], { cwd: root, env });
const readState = async (dir: string) => JSON.parse(await readFile(join(dir, 'daemon.json'), 'utf8')) as DaemonState;

describe('daemon start and stop (issue 14)', function () {
  this.timeout(60_000);
  const cleanups: (() => unknown)[] = [];
  const later = (f: () => unknown) => cleanups.push(f);
  const tempDir = async (prefix: string) => {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    later(() => rm(dir, { recursive: true, force: true }));
    return dir;
  };
  const track = (p: Spawned) => {
    later(() => p.child.exitCode === null && p.child.signalCode === null && p.child.kill('SIGKILL'));
    return p;
  };

  before(function () {
    this.timeout(60_000);
    const built = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: root, encoding: 'utf8' });
    assert.equal(built.status, 0, built.stderr);
  });
  afterEach(async () => {
    for (const f of cleanups.splice(0).reverse()) {
      try {
        await f();
      } catch {
        // Best effort: one failed cleanup must not hide the others.
      }
    }
  });

  describe('a failed start', () => {
    it('on a read-only data directory: exits non-zero naming the step and the cause, and leaves nothing serving', async function () {
      const dir = await tempDir('shepherd-ro-');
      // Root ignores file modes, so a read-only mount is the only honest read-only directory here.
      const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', dir], { encoding: 'utf8' });
      if (mounted.status !== 0) {
        process.stderr.write(`  skipped: cannot mount a tmpfs (${mounted.stderr.trim() || mounted.error?.message}); needs root\n`);
        this.skip();
      }
      later(() => spawnSync('umount', ['-l', dir]));
      // What the report had: a config, a ledger directory and the previous process's daemon.json.
      await ensureConfigFile(join(dir, 'config.json'));
      await mkdir(join(dir, 'ledger'));
      await writeFile(join(dir, 'daemon.json'), JSON.stringify({ pid: await deadPid(), port: 1 }));
      assert.equal(spawnSync('mount', ['-o', 'remount,ro', dir]).status, 0, 'remount read-only');

      const port = await freePort();
      const run = track(cli(['start', '--data-dir', dir, '--port', String(port)]));
      const code = await run.exit(20_000);
      assert.equal(code, 1, `exit code (stdout: ${run.stdout()} stderr: ${run.stderr()})`);
      assert.match(run.stderr(), /^shepherd: could not lock the data directory: .*read-only file system/m);
      assert.doesNotMatch(run.stderr(), /unexpected error|\n\s+at /, 'a message, not a stack trace');
      assert.doesNotMatch(run.stdout(), /listening/);
      assert.equal(await answers(port), false, 'nothing answers on the port');
    });

    it('after the port is open (state file cannot be written): closes the port, unlocks, exits 1', async () => {
      const dir = await tempDir('shepherd-late-');
      await ensureConfigFile(join(dir, 'config.json'));
      // A directory where the state file goes: the rename over it fails, after the gateway listens.
      await mkdir(join(dir, 'daemon.json', 'in-the-way'), { recursive: true });
      const port = await freePort();
      const run = track(cli(['start', '--data-dir', dir, '--port', String(port)]));
      const code = await run.exit(20_000);
      assert.equal(code, 1, `exit code (stdout: ${run.stdout()} stderr: ${run.stderr()})`);
      assert.match(run.stderr(), /^shepherd: could not write the state file: /m);
      assert.equal(await answers(port), false, 'the port is closed');
      assert.equal(existsSync(join(dir, 'daemon.lock')), false, 'the lock is released');
    });

    it('in-process: rejects with a StartError and closes the gateway it had opened', async () => {
      const [sandbox] = await startSandboxes(1);
      later(() => sandbox.close());
      const dir = await tempDir('shepherd-late-in-');
      const configPath = join(dir, 'config.json');
      await writeFile(configPath, JSON.stringify(configFor([sandbox])));
      await mkdir(join(dir, 'daemon.json', 'in-the-way'), { recursive: true });
      const port = await freePort();
      await assert.rejects(startDaemon({ configPath, dataDir: dir, port, env: {}, log: captureLogger([]), watch: false }), (err: unknown) => {
        assert.ok(err instanceof StartError);
        assert.match(err.message, /^could not write the state file: /);
        return true;
      });
      assert.equal(await answers(port), false, 'the port is closed');
      // Everything is released: the same directory starts again once the obstacle is gone.
      await rm(join(dir, 'daemon.json'), { recursive: true });
      const again = await startDaemon({ configPath, dataDir: dir, port: 0, env: {}, log: captureLogger([]), watch: false });
      await again.stop();
    });
  });

  describe('one daemon per data directory', () => {
    it('refuses a second CLI start there, naming the pid and port that hold it, and leaves its state file alone', async () => {
      const sandboxes = await startSandboxes(1);
      const h = await startHarness(configFor(sandboxes), { sandboxes });
      later(() => h.close());
      const before = await readState(h.dir);
      const run = track(cli(['start', '--data-dir', h.dir, '--port', '0']));
      assert.equal(await run.exit(20_000), EXIT_ALREADY_RUNNING, run.stderr());
      assert.match(run.stderr(), new RegExp(`already running in .* \\(pid ${process.pid}, port ${h.daemon.port}`));
      assert.deepEqual(await readState(h.dir), before);
      assert.equal((await fetch(`${h.daemon.url}/v1/shepherd/status`)).status, 200, 'the first one still serves');
    });

    it('lets exactly one of two starts racing on one directory win', async () => {
      const dir = await tempDir('shepherd-race-');
      await writeFile(join(dir, 'daemon.lock'), JSON.stringify({ pid: await deadPid() })); // both must take over a stale lock
      const runs = [0, 1].map(() => track(cli(['start', '--data-dir', dir, '--port', '0'])));
      const winner = await eventually(() => runs.find((r) => /listening on/.test(r.stdout())), 20_000, 'one listening line');
      const loser = runs.find((r) => r !== winner)!;
      assert.equal(await loser.exit(20_000), EXIT_ALREADY_RUNNING, loser.stderr());
      assert.equal((await readState(dir)).pid, winner.child.pid);
      winner.child.kill('SIGTERM');
      assert.equal(await winner.exit(20_000), 0, winner.stderr());
      assert.equal(existsSync(join(dir, 'daemon.lock')), false, 'released on stop');
    });

    it('takes over a lock left by a killed daemon, and releases it on stop', async () => {
      const [sandbox] = await startSandboxes(1);
      later(() => sandbox.close());
      const dir = await tempDir('shepherd-stale-');
      const configPath = join(dir, 'config.json');
      await writeFile(configPath, JSON.stringify(configFor([sandbox])));
      await writeFile(join(dir, 'daemon.lock'), JSON.stringify({ pid: await deadPid() }));
      const daemon = await startDaemon({ configPath, dataDir: dir, port: 0, env: {}, log: captureLogger([]), watch: false });
      assert.equal(JSON.parse(await readFile(join(dir, 'daemon.lock'), 'utf8')).pid, process.pid);
      await assert.rejects(startDaemon({ configPath, dataDir: dir, port: 0, env: {}, log: captureLogger([]), watch: false }), (err: unknown) => {
        assert.ok(err instanceof StartError);
        assert.equal(err.exitCode, EXIT_ALREADY_RUNNING);
        return true;
      });
      await daemon.stop();
      assert.equal(existsSync(join(dir, 'daemon.lock')), false);
    });

    it('takes over a lock whose pid now belongs to another process (a reused pid), but not one its holder still runs under', async () => {
      const [sandbox] = await startSandboxes(1);
      later(() => sandbox.close());
      const dir = await tempDir('shepherd-reused-');
      const configPath = join(dir, 'config.json');
      await writeFile(configPath, JSON.stringify(configFor([sandbox])));
      // A live process that is not the lock's writer: same pid, another start time.
      const other = spawn('sleep', ['30'], { stdio: 'ignore' });
      later(() => other.kill());
      const pid = other.pid!;
      const started = await eventually(() => processStart(pid), 5_000, 'the sleeper in /proc');
      await writeFile(join(dir, 'daemon.lock'), JSON.stringify({ pid, started: `${started}0` }));
      const daemon = await startDaemon({ configPath, dataDir: dir, port: 0, env: {}, log: captureLogger([]), watch: false });
      assert.equal(JSON.parse(await readFile(join(dir, 'daemon.lock'), 'utf8')).pid, process.pid, 'taken over');
      await daemon.stop();
      // The same pid with its real start time is its holder, still running: refused.
      await writeFile(join(dir, 'daemon.lock'), JSON.stringify({ pid, started }));
      await assert.rejects(startDaemon({ configPath, dataDir: dir, port: 0, env: {}, log: captureLogger([]), watch: false }), (err: unknown) => {
        assert.ok(err instanceof StartError);
        assert.equal(err.exitCode, EXIT_ALREADY_RUNNING);
        return true;
      });
    });

    it("the extension's start attaches to the daemon that holds the directory instead of failing", async () => {
      const dir = await tempDir('shepherd-attach-');
      // A daemon (this process stands in for it) holds the lock and has not written its state file yet.
      await writeFile(join(dir, 'daemon.lock'), JSON.stringify({ pid: process.pid }));
      const launching = launchDaemon({ dataDir: dir, script: daemonJs, execPath: process.execPath, env: cleanEnv(), port: 0, timeoutMs: 20_000 });
      let outcome: { state: DaemonState } | { error: unknown } | undefined;
      const settled = launching.then(
        (state) => (outcome = { state }),
        (error: unknown) => (outcome = { error }),
      );
      await eventually(
        async () => outcome !== undefined || (await readFile(join(dir, 'daemon.log'), 'utf8').catch(() => '')).includes('already running'),
        20_000,
        'the launched daemon to find the directory held',
      );
      const holder: DaemonState = {
        pid: process.pid,
        version: '0.1.0',
        host: '127.0.0.1',
        port: 1,
        url: 'http://127.0.0.1:1',
        sandbox: true,
        startedAt: new Date().toISOString(),
        controlToken: 'a'.repeat(64),
        protocol: 1,
      };
      await writeFile(join(dir, 'daemon.json'), JSON.stringify(holder));
      await settled;
      const result = outcome!;
      if ('state' in result && result.state.pid !== process.pid) process.kill(result.state.pid, 'SIGKILL'); // a second daemon started: the bug
      assert.ok('state' in result, `launchDaemon failed: ${'error' in result ? String(result.error) : ''}`);
      assert.equal(result.state.pid, process.pid);
    });
  });

  it('`npm start` stopped with SIGTERM stops the daemon: the port closes and daemon.json goes', async () => {
    const dir = await tempDir('shepherd-npm-');
    // Its own process group, so cleanup can end the whole tree if the test fails half-way.
    const npm = track(spawnCaptured('npm', ['start', '--silent', '--', '--data-dir', dir, '--port', '0'], { cwd: root, env: cleanEnv(), detached: true }));
    later(() => {
      try {
        process.kill(-npm.child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    });
    const line = await eventually(() => /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(npm.stdout()) ?? undefined, 40_000, `the listening line (stderr: ${npm.stderr()})`);
    const port = Number(line[1]);
    const { pid } = await readState(dir);
    assert.notEqual(pid, npm.child.pid, 'the daemon is a grandchild, not npm itself');
    npm.child.kill('SIGTERM');
    await eventually(async () => !(await answers(port)) && !existsSync(join(dir, 'daemon.json')), 15_000, 'the port to close and daemon.json to go');
    await eventually(() => !alive(pid), 15_000, 'the daemon process to exit');
  });

  it('tightens an existing data directory to owner-only', async () => {
    const [sandbox] = await startSandboxes(1);
    later(() => sandbox.close());
    const dir = await tempDir('shepherd-mode-');
    await chmod(dir, 0o755);
    const configPath = join(dir, 'config.json');
    await writeFile(configPath, JSON.stringify(configFor([sandbox])));
    const logs: string[] = [];
    const daemon = await startDaemon({ configPath, dataDir: dir, port: 0, env: {}, log: captureLogger(logs), watch: false });
    await daemon.stop();
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.ok(logs.some((l) => /tightened the data directory .* from mode 755 to 700/.test(l)), logs.join(''));
  });

  it('warns that a server.port change on reload needs a restart, and keeps serving on the old port', async () => {
    const sandboxes = await startSandboxes(1);
    const [first, second] = [await freePort(), await freePort()];
    const h = await startHarness(configFor(sandboxes, { server: { port: first } }), { sandboxes, start: { port: undefined, watch: false } });
    later(() => h.close());
    assert.equal(h.daemon.port, first);
    await h.writeConfig(configFor(sandboxes, { server: { port: second } }));
    assert.equal((await h.daemon.reload()).ok, true);
    assert.ok(
      h.logs.some((l) => l.includes(`WARN  server.port changed from ${first} to ${second}; still listening on http://127.0.0.1:${first} until Shepherd is restarted`)),
      h.logs.join(''),
    );
    assert.equal((await fetch(`http://127.0.0.1:${first}/v1/shepherd/status`)).status, 200);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
