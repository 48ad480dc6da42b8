// Claude Code and other real Anthropic-format clients against Shepherd, as a user would run them:
// Claude Code from npm (installed by ./install.sh into this folder), the built daemon (dist/daemon.js)
// started fresh with no keys and no flags (the sandbox serves the presets), and checks that
//   - `claude -p` with its default model, `--model sonnet` and `--model haiku` finishes a task with a
//     tool round trip (the sandbox asks for Bash `ls`, Claude Code runs it, the answer quotes it);
//   - through an Anthropic-type deployment that records what it receives, Claude Code's requests
//     arrive unchanged apart from `model` (cache_control, thinking, context_management, anthropic-beta);
//   - the AI SDK's Anthropic provider's generateObject, and the Anthropic SDK's countTokens, work.
// Prints one line per check and ends with `claude-code: N passed, M failed[, K skipped]`.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const daemonJs = join(root, 'dist/daemon.js');
const claudeBin = join(here, 'node_modules/.bin/claude');
const CLAUDE_TIMEOUT_MS = 120_000;

const results = [];
const children = [];
const temp = mkdtempSync(join(tmpdir(), 'shepherd-claude-code-'));

async function check(name, fn) {
  const started = Date.now();
  try {
    const note = await fn();
    if (note === 'skipped') {
      results.push({ name, skipped: true });
      return;
    }
    results.push({ name, ok: true });
    console.log(`  ✔ ${name} (${Date.now() - started} ms)`);
  } catch (err) {
    results.push({ name, ok: false });
    console.log(`  ✘ ${name}\n    ${err instanceof Error ? err.message.split('\n').join('\n    ') : String(err)}`);
  }
}

function assert(ok, message) {
  if (!ok) throw new Error(message);
}

/** Starts `node dist/daemon.js ARGS` and resolves with its port once it says it is listening. */
function startDaemon(args, env, label) {
  return new Promise((resolveStart, reject) => {
    const child = spawn(process.execPath, [daemonJs, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${label} did not start: ${out}`)), 15_000);
    const onData = (chunk) => {
      out += chunk;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out); // the daemon and `shepherd sandbox` both say so
      if (m) {
        clearTimeout(timer);
        resolveStart({ port: Number(m[1]), child, output: () => out });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${label} exited (${code}): ${out}`)));
  });
}

/** A clean environment: no provider keys, no proxies, nothing of the machine's Claude Code setup. */
function baseEnv(extra = {}) {
  const env = {};
  for (const k of ['PATH', 'LANG', 'TERM', 'TMPDIR', 'SystemRoot']) if (process.env[k] !== undefined) env[k] = process.env[k];
  return { ...env, ...extra };
}

function runClaude(baseUrl, args, cwd) {
  const home = join(temp, 'home');
  mkdirSync(home, { recursive: true });
  const env = baseEnv({
    HOME: home,
    ANTHROPIC_BASE_URL: baseUrl,
    ANTHROPIC_API_KEY: 'sk-ant-shepherd-ci-dummy',
    DISABLE_TELEMETRY: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_ERROR_REPORTING: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  });
  return new Promise((resolveRun, reject) => {
    const child = spawn(claudeBin, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`claude ${args.join(' ')} timed out after ${CLAUDE_TIMEOUT_MS} ms\n${stdout}${stderr}`));
    }, CLAUDE_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}

function ledger(dataDir) {
  const dir = join(dataDir, 'ledger');
  return readdirSync(dir)
    .filter((f) => /^\d{4}-\d{2}\.jsonl$/.test(f))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)));
}

/** A loopback proxy that records each request (headers, JSON body) and forwards it unchanged. */
function recordingProxy(targetPort) {
  const seen = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      if (req.url.startsWith('/v1/messages')) seen.push({ path: req.url, headers: req.headers, body: raw.length ? JSON.parse(raw.toString('utf8')) : undefined });
      const up = httpRequest({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: { ...req.headers, host: `127.0.0.1:${targetPort}` } }, (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      });
      up.on('error', () => res.destroy());
      up.end(raw);
    });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r({ port: server.address().port, seen, close: () => server.close() })));
}

async function main() {
  console.log('claude-code: Claude Code and Anthropic SDK clients against Shepherd');
  const version = await runClaude('http://127.0.0.1:9', ['--version'], temp);
  assert(version.code === 0, `claude --version failed: ${version.stderr}`);
  console.log(`  Claude Code ${version.stdout.trim()}`);

  // 1. A fresh install: no config, no keys, no flags. The presets and the sandbox serve Claude Code.
  const freshDir = join(temp, 'fresh');
  mkdirSync(freshDir);
  const fresh = await startDaemon(['start', '--port', '0', '--data-dir', freshDir], baseEnv({ HOME: join(temp, 'home') }), 'shepherd (fresh)');
  const freshUrl = `http://127.0.0.1:${fresh.port}`;
  const work = join(temp, 'work');
  mkdirSync(work);
  writeFileSync(join(work, 'flock-notes.txt'), 'seven sheep by the gate\n');

  const families = [
    { name: 'its default model', args: [], group: 'claude-opus-4.5' },
    { name: '--model sonnet', args: ['--model', 'sonnet'], group: 'claude-sonnet-4.5' },
    { name: '--model haiku', args: ['--model', 'haiku'], group: 'claude-haiku-4.5' },
  ];
  for (const f of families) {
    await check(`claude -p with ${f.name} finishes a task with a tool round trip (Bash ls)`, async () => {
      const before = ledger(freshDir).length;
      const r = await runClaude(freshUrl, ['-p', 'Use the Bash tool to run `ls` and tell me what is here', '--allowedTools', 'Bash(ls:*)', ...f.args], work);
      assert(r.code === 0, `exit code ${r.code}: ${r.stdout}${r.stderr}`);
      assert(/The tool said: .*flock-notes\.txt/.test(r.stdout), `the answer does not quote the ls output: ${r.stdout}`);
      const lines = ledger(freshDir).slice(before);
      assert(lines.length >= 2, `expected a tool call and an answer in the ledger, got ${lines.length} lines`);
      for (const l of lines) {
        assert(l.ok && l.model === f.group, `${l.requestedModel} went to ${l.model} (${l.status}), expected ${f.group}`);
        assert(l.provider.endsWith('-anthropic'), `not served natively: ${l.deployment}`);
      }
      console.log(`    ${lines[0].requestedModel} -> ${f.group}; ${lines.length} requests`);
    });
  }

  await check('the Anthropic SDK counts tokens (messages.countTokens) through Shepherd', async () => {
    const { default: Anthropic } = await import('@anthropic-ai/sdk');
    const client = new Anthropic({ baseURL: freshUrl, apiKey: 'dummy', maxRetries: 0 });
    const counted = await client.messages.countTokens({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'How many sheep are in the flock?' }] });
    assert(Number.isInteger(counted.input_tokens) && counted.input_tokens > 0, `input_tokens ${counted.input_tokens}`);
  });

  await check('the Anthropic SDK retrieves a model (models.retrieve)', async () => {
    const res = await fetch(`${freshUrl}/v1/models/claude-sonnet-4.5`, { headers: { 'anthropic-version': '2023-06-01' } });
    if (res.status === 404) {
      console.log('  - the Anthropic SDK retrieves a model: skipped (GET /v1/models/{id} is not served by this build)');
      return 'skipped';
    }
    const { default: Anthropic } = await import('@anthropic-ai/sdk');
    const client = new Anthropic({ baseURL: freshUrl, apiKey: 'dummy', maxRetries: 0 });
    const model = await client.models.retrieve('claude-sonnet-4.5');
    assert(model.type === 'model' && model.id === 'claude-sonnet-4.5', JSON.stringify(model));
  });

  await check("the AI SDK's Anthropic provider: generateObject returns an object that fits the schema", async () => {
    globalThis.AI_SDK_LOG_WARNINGS = false; // generateObject is deprecated in AI SDK 7 but still what most code calls
    const { generateObject } = await import('ai');
    const { createAnthropic } = await import('@ai-sdk/anthropic');
    const { z } = await import('zod');
    const anthropic = createAnthropic({ baseURL: `${freshUrl}/v1`, apiKey: 'dummy' });
    const schema = z.object({ name: z.string(), count: z.number().int().min(1), colour: z.enum(['white', 'black']) });
    const { object } = await generateObject({ model: anthropic('claude-sonnet-4-5'), schema, prompt: 'Name a sheep, count the flock and say its colour.', maxRetries: 0 });
    assert(schema.safeParse(object).success, `not schema-valid: ${JSON.stringify(object)}`);
  });

  // 2. Passthrough fidelity: Claude Code -> recording proxy -> Shepherd -> an Anthropic-type
  //    deployment (a sandbox that records what it receives). Every request must arrive unchanged.
  const upstream = await startDaemon(['sandbox', '--port', '0'], baseEnv(), 'sandbox');
  const nativeDir = join(temp, 'native');
  mkdirSync(nativeDir);
  const config = {
    sandbox: false,
    providers: { anthropic: { type: 'anthropic', baseUrl: `http://127.0.0.1:${upstream.port}/v1`, apiKey: 'sk-ant-upstream-secret' } },
    models: { claude: { aliases: ['claude-*', 'opus', 'sonnet', 'haiku'], deployments: [{ provider: 'anthropic', model: 'claude-upstream' }] } },
    routing: { health: { probes: { enabled: false } }, hedge: { enabled: false } },
  };
  writeFileSync(join(nativeDir, 'config.json'), JSON.stringify(config));
  const native = await startDaemon(['start', '--port', '0', '--data-dir', nativeDir, '--config', join(nativeDir, 'config.json')], baseEnv({ HOME: join(temp, 'home') }), 'shepherd (native)');
  const proxy = await recordingProxy(native.port);

  await check('Claude Code\'s requests reach an Anthropic deployment unchanged apart from model (cache_control, thinking, context_management, anthropic-beta)', async () => {
    const r = await runClaude(`http://127.0.0.1:${proxy.port}`, ['-p', 'Use the Bash tool to run `ls`', '--allowedTools', 'Bash(ls:*)'], work);
    assert(r.code === 0, `exit code ${r.code}: ${r.stdout}${r.stderr}`);
    const received = await (await fetch(`http://127.0.0.1:${upstream.port}/_sandbox/requests`)).json();
    const arrived = received.filter((q) => q.path.startsWith('/v1/messages'));
    assert(proxy.seen.length >= 2 && arrived.length === proxy.seen.length, `client sent ${proxy.seen.length}, upstream got ${arrived.length}`);
    const fields = new Set();
    proxy.seen.forEach((sent, i) => {
      const got = arrived[i];
      assert(got.body.model === 'claude-upstream', `model upstream: ${got.body.model}`);
      assert(isDeepStrictEqual({ ...got.body, model: sent.body.model }, sent.body), `request ${i} changed on the way: ${diff(sent.body, got.body)}`);
      const want = String(sent.headers['anthropic-beta'] ?? '').split(',').filter(Boolean);
      const have = new Set(String(got.headers['anthropic-beta'] ?? '').split(','));
      assert(want.every((f) => have.has(f)), `anthropic-beta lost flags: sent ${want}, got ${[...have]}`);
      assert(got.headers['anthropic-version'] === sent.headers['anthropic-version'], 'anthropic-version changed');
      assert(got.headers['x-api-key'] === 'sk-ant-upstream-secret', 'the upstream got the client\'s key');
      const text = JSON.stringify(sent.body);
      if (text.includes('"cache_control"')) fields.add('cache_control');
      if (sent.body.thinking) fields.add('thinking');
      if (sent.body.context_management) fields.add('context_management');
      if (want.length) fields.add('anthropic-beta');
      if (text.includes('"tool_result"')) fields.add('tool_result');
    });
    for (const f of ['cache_control', 'thinking', 'context_management', 'anthropic-beta', 'tool_result']) assert(fields.has(f), `Claude Code sent no ${f} this time, so it was not checked`);
    console.log(`    ${proxy.seen.length} requests compared; checked: ${[...fields].join(', ')}`);
  });
  proxy.close();
}

function diff(a, b) {
  const keys = new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})]);
  return [...keys].filter((k) => k !== 'model' && !isDeepStrictEqual(a?.[k], b?.[k])).join(', ') || '(model only)';
}

try {
  await main();
} catch (err) {
  results.push({ name: 'setup', ok: false });
  console.log(`  ✘ setup: ${err instanceof Error ? err.message : String(err)}`);
} finally {
  // Let the daemons finish writing (ledger, state file) before their folders go.
  await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => { c.once('exit', r); c.kill('SIGTERM'); setTimeout(r, 5_000).unref(); }))));
  rmSync(temp, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}
const passed = results.filter((r) => r.ok).length;
const failed = results.filter((r) => r.ok === false).length;
const skipped = results.filter((r) => r.skipped).length;
console.log(`claude-code: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
