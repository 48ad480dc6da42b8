// Config errors and live reload, the ledger surviving a torn line, and the real CLI: start on the
// embedded defaults (sandbox), answer, and shut down cleanly on SIGTERM with a request in flight.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startDaemon, StartError } from '../../daemon/start';
import { captureLogger, configFor, eventually, readLedger, startHarness, startSandboxes, type Harness } from '../support/harness';

const root = resolve(__dirname, '../..');
const daemonJs = join(root, 'dist/daemon.js');
const user = (content: string) => [{ role: 'user' as const, content }];

describe('config errors', () => {
  it('refuses to start on an invalid config, listing every problem by path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shepherd-cfg-'));
    try {
      const configPath = join(dir, 'config.json');
      await writeFile(
        configPath,
        JSON.stringify({
          providers: { openai: { baseUrl: 'https://api.openai.com/v1', apiKeyEnv: 'OPENAI_API_KEY' } },
          models: {
            'gpt-4.1': { deployments: [{ provider: 'opnai', model: 'gpt-4.1' }] },
            other: { deployments: [{ provider: 'openai', model: 5 }] },
          },
        }),
      );
      await assert.rejects(startDaemon({ configPath, dataDir: dir, port: 0, env: {}, log: captureLogger([]), watch: false }), (err: unknown) => {
        assert.ok(err instanceof StartError);
        assert.match(err.message, /models\.gpt-4\.1\.deployments\[0\]\.provider: unknown provider "opnai" \(did you mean "openai"\?\)/);
        assert.match(err.message, /models\.other\.deployments\[0\]\.model: /);
        assert.doesNotMatch(err.message, /\n\s+at /, 'no stack trace');
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('real providers when a key is set', () => {
  it('leaves the sandbox, uses the keyed provider and says why the others are unavailable', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'shepherd-keys-'));
    const daemon = await startDaemon({ dataDir, port: 0, env: { OPENAI_API_KEY: 'sk-test-real' }, log: captureLogger([]), watch: false });
    try {
      assert.equal(daemon.sandbox(), false);
      const status = (await (await fetch(`${daemon.url}/v1/shepherd/status`)).json()) as {
        sandbox: boolean;
        deployments: { id: string; available: boolean; unavailableReason?: string }[];
      };
      assert.equal(status.sandbox, false);
      const byId = new Map(status.deployments.map((d) => [d.id, d]));
      assert.equal(byId.get('openai/gpt-4.1')?.available, true);
      assert.equal(byId.get('anthropic/claude-sonnet-4-5')?.available, false);
      assert.match(byId.get('anthropic/claude-sonnet-4-5')?.unavailableReason ?? '', /ANTHROPIC_API_KEY is not set/);
      // A group with no usable deployment (and no fallback group) answers 503 naming why, without any
      // network call.
      const res = await fetch(`${daemon.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'deepseek-v3.2', messages: user('x') }) });
      assert.equal(res.status, 503);
      assert.match(((await res.json()) as { error: { message: string } }).error.message, /no usable deployment.*DEEPSEEK_API_KEY/);
      const [entry] = await readLedger(dataDir);
      assert.equal(entry.id, res.headers.get('x-request-id'));
      assert.equal(entry.model, 'deepseek-v3.2');
      assert.equal(entry.status, 503);
      assert.equal(entry.attempts, 0);
    } finally {
      await daemon.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('config reload', function () {
  let h: Harness;
  before(async () => {
    const sandboxes = await startSandboxes(1);
    h = await startHarness(configFor(sandboxes), { sandboxes });
  });
  after(() => h.close());

  it('applies an edit while running', async () => {
    const next = configFor(h.sandboxes);
    next.models!.chat.aliases = ['chat-alias', 'fresh-name'];
    await h.writeConfig(next);
    await eventually(async () => (await h.client.models.list()).data.some((m) => m.id === 'fresh-name'), 5_000, 'the new alias');
    const res = await h.client.chat.completions.create({ model: 'fresh-name', messages: user('hi') }).withResponse();
    assert.equal(res.response.headers.get('x-shepherd-model'), 'chat');
  });

  it('keeps the last good config after a bad edit and says why', async () => {
    await h.writeConfig('{ "models": { "chat": { "deployments": [] } ');
    await eventually(() => h.logs.some((l) => l.includes('config not reloaded')), 5_000, 'the reload error in the log');
    const res = await h.client.chat.completions.create({ model: 'fresh-name', messages: user('still here?') });
    assert.match(res.choices[0].message.content ?? '', /^\[sandbox\]/);
    const broken = configFor(h.sandboxes);
    broken.models!.chat.deployments[0].provider = 'nope';
    await h.writeConfig(broken);
    await eventually(() => h.logs.some((l) => l.includes('models.chat.deployments[0].provider: unknown provider "nope"')), 5_000, 'the problem path in the log');
    assert.ok((await h.client.chat.completions.create({ model: 'chat', messages: user('x') })).choices.length > 0);
  });
});

describe('shutdown', () => {
  it('ends a request still running after the grace period with a 503, and records it', async () => {
    const sandboxes = await startSandboxes(1);
    const h = await startHarness(configFor(sandboxes), { sandboxes, start: { graceMs: 200 } });
    await sandboxes[0].setFaults([{ fault: { type: 'hang' } }]);
    const pending = fetch(`${h.daemon.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'chat', messages: user('stuck') }) });
    await eventually(() => sandboxes[0].requests.length > 0, 3_000, 'the request to reach the upstream');
    const dataDir = h.dir;
    const stopping = h.daemon.stop();
    const res = await pending;
    assert.equal(res.status, 503);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /shutting down/);
    await stopping;
    const entries = await readLedger(dataDir);
    assert.equal(entries.length, 1);
    assert.equal(entries[0].status, 503);
    assert.equal(entries[0].ok, false);
    await h.close();
  });
});

describe('ledger durability', () => {
  it('starts over a torn last line, skips it with a warning, and appends cleanly after it', async () => {
    const [sandbox] = await startSandboxes(1);
    const dir = await mkdtemp(join(tmpdir(), 'shepherd-torn-'));
    const month = new Date().toISOString().slice(0, 7);
    const file = join(dir, 'ledger', `${month}.jsonl`);
    await mkdir(join(dir, 'ledger'), { recursive: true });
    const good = {
      id: 'old-1',
      time: new Date().toISOString(),
      requestedModel: 'chat',
      model: 'chat',
      servedModel: 'm',
      deployment: 'up0/m',
      provider: 'up0',
      attempts: 1,
      status: 200,
      ok: true,
      stream: false,
      promptTokens: 10,
      completionTokens: 5,
      usageSource: 'upstream',
      costUsd: 0.00006,
      latencyMs: 12,
    };
    await writeFile(file, `${JSON.stringify(good)}\n{"id":"torn-2","time":"20`);
    const configPath = join(dir, 'config.json');
    await writeFile(configPath, JSON.stringify(configFor([sandbox])));
    const logs: string[] = [];
    const daemon = await startDaemon({ configPath, dataDir: dir, port: 0, env: {}, log: captureLogger(logs), watch: false });
    try {
      assert.ok(logs.some((l) => /ledger replayed.*entries=1.*skipped=1/.test(l)), logs.join(''));
      const res = await fetch(`${daemon.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'chat', messages: user('after the tear') }) });
      assert.equal(res.status, 200);
      const lines = (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
      assert.equal(lines.length, 3, 'old line, torn fragment, new line');
      assert.equal(JSON.parse(lines[0]).id, 'old-1');
      assert.throws(() => JSON.parse(lines[1]));
      assert.equal(JSON.parse(lines[2]).id, res.headers.get('x-request-id'));
    } finally {
      await daemon.stop();
      await sandbox.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the shepherd CLI', function () {
  this.timeout(30_000);
  before(function () {
    this.timeout(60_000);
    const built = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: root, encoding: 'utf8' });
    assert.equal(built.status, 0, built.stderr);
    assert.ok(existsSync(daemonJs));
  });

  const run = (args: string[], env: NodeJS.ProcessEnv = cleanEnv()) =>
    spawnSync(process.execPath, [daemonJs, ...args], { cwd: root, encoding: 'utf8', env, timeout: 20_000 });

  it('runs as the `shepherd` bin and reports its version', () => {
    const out = spawnSync(process.execPath, [join(root, 'bin/shepherd.js'), '--version'], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    assert.equal(out.stdout.trim(), pkg.version);
  });

  it('prints the JSON Schema of the config', () => {
    const out = run(['config', 'schema']);
    assert.equal(out.status, 0, out.stderr);
    const schema = JSON.parse(out.stdout) as { $schema: string; properties: Record<string, unknown> };
    assert.match(schema.$schema, /json-schema\.org/);
    assert.ok('providers' in schema.properties && 'models' in schema.properties);
  });

  it('checks a config file: problems by path and exit 1, or a summary and exit 0', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shepherd-cli-'));
    try {
      const bad = join(dir, 'bad.json');
      await writeFile(bad, JSON.stringify({ providers: {}, models: { x: { deployments: [{ provider: 'opnai', model: 'm' }] } } }));
      const badRun = run(['config', 'check', bad]);
      assert.equal(badRun.status, 1);
      assert.match(badRun.stderr, /models\.x\.deployments\[0\]\.provider: unknown provider "opnai"/);
      const good = join(dir, 'good.json');
      await writeFile(good, JSON.stringify({ providers: { p: { baseUrl: 'http://127.0.0.1:9/v1', apiKeyEnv: 'P_KEY' } }, models: { x: { deployments: [{ provider: 'p', model: 'm' }] } } }));
      const goodRun = run(['config', 'check', good]);
      assert.equal(goodRun.status, 0, goodRun.stderr);
      assert.match(goodRun.stdout, /valid \(1 providers, 1 model groups\)/);
      assert.match(goodRun.stdout, /no API key in this environment for: p/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects an unknown command or flag with the message, a one-line hint and exit 2', () => {
    const cmd = run(['launch']);
    assert.equal(cmd.status, 2);
    assert.equal(cmd.stderr, 'shepherd: unknown command "launch"\nRun "shepherd --help" for usage.\n');
    const flag = run(['start', '--prot', '1']);
    assert.equal(flag.status, 2);
    assert.match(flag.stderr, /^shepherd: .*--prot.*\nRun "shepherd --help" for usage\.\n$/);
  });

  it('runs as `npx shepherd` in the checkout, and is on PATH after `npm link` (into a temp prefix)', async () => {
    const npx = spawnSync('npx', ['--no-install', 'shepherd', '--version'], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    assert.equal(npx.status, 0, npx.stderr);
    assert.match(npx.stdout, /^\d+\.\d+\.\d+\n$/);
    const prefix = await mkdtemp(join(tmpdir(), 'shepherd-link-'));
    try {
      const env = { ...process.env, npm_config_prefix: prefix };
      const linked = spawnSync('npm', ['link', '--ignore-scripts', '--offline', '--no-audit', '--no-fund'], { cwd: root, encoding: 'utf8', env, timeout: 60_000 });
      assert.equal(linked.status, 0, linked.stderr);
      const onPath = spawnSync('shepherd', ['--version'], { encoding: 'utf8', env: { ...env, PATH: `${join(prefix, 'bin')}:${process.env.PATH}` } });
      assert.equal(onPath.status, 0, onPath.stderr);
      assert.equal(onPath.stdout, npx.stdout);
    } finally {
      await rm(prefix, { recursive: true, force: true });
    }
  });

  it('starts on the embedded defaults without keys (sandbox), answers, and stops cleanly on SIGTERM mid-request', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'shepherd-cli-start-'));
    let child: ChildProcessWithoutNullStreams | undefined;
    try {
      child = spawn(process.execPath, [daemonJs, 'start', '--port', '0'], { cwd: root, env: { ...cleanEnv(), SHEPHERD_DATA_DIR: dataDir } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((res) => child!.once('exit', (code) => res(code)));
      const line = await eventually(() => /listening on (http:\/\/127\.0\.0\.1:\d+)(.*)/.exec(stdout) ?? undefined, 15_000, `the listening line (stderr: ${stderr})`);
      const url = line[1];
      assert.match(line[2], /SANDBOX/);
      assert.match(line[2], /no provider API keys are set/);
      // The simulated upstreams' own ports, so their faults can be scripted.
      await eventually(() => /sandbox upstream sandbox-eu \(eu-west\): http:\/\/127\.0\.0\.1:\d+\/v1/.test(stdout) || undefined, 5_000, 'the sandbox upstream lines');
      assert.match(stdout, /sandbox upstream sandbox-us \(us-east\): http:\/\/127\.0\.0\.1:\d+\/v1/);
      assert.ok(existsSync(join(dataDir, 'config.json')), 'starter config written');
      assert.ok(existsSync(join(dataDir, 'daemon.json')), 'state file written');

      const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'gpt-4.1', messages: user('hello') }) });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('x-shepherd-sandbox'), 'true');
      const body = (await res.json()) as { choices: { message: { content: string } }[] };
      assert.match(body.choices[0].message.content, /^\[sandbox\]/);

      // A stream still running when SIGTERM arrives finishes, and is in the ledger.
      const streaming = await fetch(`${url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'gpt-4.1', stream: true, messages: user('a long one') }) });
      const reader = streaming.body!.getReader();
      const first = await reader.read();
      assert.equal(first.done, false);
      child.kill('SIGTERM');
      let text = new TextDecoder().decode(first.value);
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      assert.match(text, /data: \[DONE\]\n\n$/);
      assert.doesNotMatch(text, /"error"/);
      assert.equal(await exited, 0, stderr);
      const entries = await readLedger(dataDir);
      assert.equal(entries.length, 2);
      assert.ok(entries.every((e) => e.ok && e.sandbox === true));
      assert.equal(existsSync(join(dataDir, 'daemon.json')), false, 'state file removed on clean exit');
    } finally {
      child?.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('explains a port that is already taken', async () => {
    const sandboxes = await startSandboxes(1);
    const h = await startHarness(configFor(sandboxes), { sandboxes });
    const dataDir = await mkdtemp(join(tmpdir(), 'shepherd-cli-port-'));
    try {
      const out = run(['start', '--port', String(h.daemon.port), '--data-dir', dataDir]);
      assert.equal(out.status, 1);
      assert.match(out.stderr, new RegExp(`port ${h.daemon.port} on 127.0.0.1 is already in use`));
    } finally {
      await h.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

/** The test machine's environment without any provider key, so the sandbox default is what runs. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/_API_KEY$/.test(k) && !k.startsWith('SHEPHERD_')) env[k] = v;
  }
  return env;
}
