#!/usr/bin/env node
// Real Responses API clients against Shepherd's sandbox, each installed from npm into this folder
// (on first use, from package-lock.json; see install.mjs): Codex CLI runs `codex exec` on a small task
// and finishes it with a tool call, the AI SDK's OpenAI provider (its default model speaks the
// Responses API) and LangChain's ChatOpenAI with useResponsesApi answer, stream, call tools and
// return structured output. One daemon (`shepherd start --sandbox`, built dist/daemon.js) serves them
// all from a temp data directory. Ends with `agents: N passed, M failed`, as .ci/run reads it.
//   node test/agents/run.mjs [--grep TEXT]
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import assert from 'node:assert/strict';
import { ensureInstalled } from './install.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const grep = process.argv.includes('--grep') ? process.argv[process.argv.indexOf('--grep') + 1] : undefined;
const TEST_TIMEOUT_MS = 120_000;

/** Loads a package from this folder's node_modules (not the project's). */
const local = createRequire(join(here, 'package.json'));
const load = (name) => import(pathToFileURL(local.resolve(name)).href);

/** `shepherd start --sandbox` on an ephemeral port, with a data directory of its own. */
async function startShepherd(dataDir) {
  const daemonJs = join(root, 'dist', 'daemon.js');
  if (!existsSync(daemonJs)) throw new Error('dist/daemon.js is missing: run `npm run build` first');
  // No provider keys reach it: the sandbox serves every model group.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/_API_KEY$|^SHEPHERD_/.test(k)));
  const child = spawn(process.execPath, [daemonJs, 'start', '--sandbox', '--port', '0', '--data-dir', dataDir, '--log-level', 'info'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => (log += d));
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`Shepherd did not start within 15 s:\n${out}${log}`)), 15_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`Shepherd exited with ${code}:\n${out}${log}`)));
  });
  return {
    url,
    log: () => log,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}

function ledger(dataDir) {
  const dir = join(dataDir, 'ledger');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^\d{4}-\d{2}\.jsonl$/.test(f))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)));
}

/** Runs a command to its end (or kills it at the deadline); resolves with its exit code and output. */
function run(cmd, args, options) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

// ---------------------------------------------------------------------------------------------------

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('Codex CLI: `codex exec` lists a folder through Shepherd, tool call and all, and finishes', async (ctx) => {
  const work = mkdtempSync(join(tmpdir(), 'shepherd-codex-work-'));
  const home = mkdtempSync(join(tmpdir(), 'shepherd-codex-home-'));
  try {
    writeFileSync(join(work, 'shepherd-marker.txt'), 'baa\n');
    // Shepherd as Codex's model provider, speaking the Responses API; a sandbox group as the model.
    writeFileSync(
      join(home, 'config.toml'),
      [
        'model = "gpt-4.1"',
        'model_provider = "shepherd"',
        'approval_policy = "never"',
        'sandbox_mode = "danger-full-access"',
        'check_for_update_on_startup = false',
        '',
        '[model_providers.shepherd]',
        'name = "Shepherd"',
        `base_url = "${ctx.url}/v1"`,
        'wire_api = "responses"',
        'env_key = "SHEPHERD_API_KEY"',
        'request_max_retries = 0',
        'stream_max_retries = 0',
        '',
      ].join('\n'),
    );
    const before = ledger(ctx.dataDir).length;
    const codex = join(here, 'node_modules', '.bin', 'codex');
    const env = { ...process.env, CODEX_HOME: home, SHEPHERD_API_KEY: 'unused-by-shepherd', NO_COLOR: '1' };
    delete env.OPENAI_API_KEY;
    const r = await run(codex, ['exec', '--json', '--skip-git-repo-check', '-C', work, 'list the files in this folder'], { cwd: work, env, timeoutMs: TEST_TIMEOUT_MS - 10_000 });
    assert.equal(r.code, 0, `codex exited ${r.code ?? r.signal}\n${r.stdout}\n${r.stderr.slice(-4000)}`);
    const events = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    const items = events.filter((e) => e.type === 'item.completed').map((e) => e.item);
    const command = items.find((i) => i.type === 'command_execution');
    assert.ok(command, `Codex ran a command: ${r.stdout}`);
    assert.equal(command.exit_code, 0);
    assert.match(command.aggregated_output, /shepherd-marker\.txt/);
    // The sandbox's final answer quotes the tool's output: the function_call_output came back through Shepherd.
    const message = items.filter((i) => i.type === 'agent_message').at(-1);
    assert.match(message?.text ?? '', /^\[sandbox\] Done\. The tool said: .*shepherd-marker\.txt/);
    assert.ok(events.some((e) => e.type === 'turn.completed'), 'the turn completed');
    const lines = ledger(ctx.dataDir).slice(before);
    assert.ok(lines.length >= 2, `a tool round trip is two requests; the ledger has ${lines.length}`);
    for (const l of lines) {
      assert.equal(l.endpoint, 'responses');
      assert.equal(l.ok, true);
      assert.equal(l.stream, true);
      assert.equal(l.model, 'gpt-4.1');
    }
    // Codex offers hosted tools (web_search, ...) that chat deployments cannot run: left out, and logged.
    assert.match(ctx.log(), /left out what a chat deployment cannot run/);
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  }
});

test('AI SDK (@ai-sdk/openai, Responses API by default): generateText, streamText, a tool loop and structured output', async (ctx) => {
  const { generateText, streamText, tool, stepCountIs, Output } = await load('ai');
  const { createOpenAI } = await load('@ai-sdk/openai');
  const { z } = await load('zod');
  const provider = createOpenAI({ baseURL: `${ctx.url}/v1`, apiKey: 'unused-by-shepherd' });
  const model = provider('gpt-4.1');
  const before = ledger(ctx.dataDir).length;

  const whole = await generateText({ model, prompt: 'Say something about sheep.' });
  assert.match(whole.text, /^\[sandbox\]/);
  assert.ok(whole.usage.inputTokens > 0 && whole.usage.outputTokens > 0);

  const streamed = streamText({ model, prompt: 'Say something about sheep.' });
  let text = '';
  for await (const part of streamed.textStream) text += part;
  assert.equal(text, whole.text);

  let ran = 0;
  const looped = await generateText({
    model,
    prompt: 'What is the weather in Hay?',
    tools: {
      weather: tool({
        description: 'The weather in a town',
        inputSchema: z.object({ town: z.string(), unit: z.enum(['c', 'f']) }),
        execute: async ({ town, unit }) => {
          ran++;
          assert.equal(typeof town, 'string');
          assert.equal(unit, 'c');
          return `sunny-in-${unit}`;
        },
      }),
    },
    stopWhen: stepCountIs(3),
  });
  assert.equal(ran, 1, 'the tool ran once');
  assert.match(looped.text, /sunny-in-c/);

  const structured = await generateText({
    model,
    prompt: 'Describe a sheep.',
    output: Output.object({ schema: z.object({ name: z.string(), legs: z.number().int(), woolly: z.boolean() }) }),
  });
  assert.deepEqual(Object.keys(structured.output).sort(), ['legs', 'name', 'woolly']);

  const lines = ledger(ctx.dataDir).slice(before);
  assert.ok(lines.length >= 5 && lines.every((l) => l.endpoint === 'responses'), `every call went to /v1/responses: ${lines.map((l) => l.endpoint)}`);
});

test('LangChain (ChatOpenAI with useResponsesApi): invoke, stream, tool calls and structured output', async (ctx) => {
  const { ChatOpenAI } = await load('@langchain/openai');
  const { z } = await load('zod');
  const llm = new ChatOpenAI({ model: 'gpt-4.1', useResponsesApi: true, apiKey: 'unused-by-shepherd', configuration: { baseURL: `${ctx.url}/v1` }, maxRetries: 0 });
  const before = ledger(ctx.dataDir).length;

  const answer = await llm.invoke('Say something about sheep.');
  assert.match(String(answer.text ?? answer.content), /^\[sandbox\]/);

  let streamed = '';
  for await (const chunk of await llm.stream('Say something about sheep.')) streamed += chunk.text ?? '';
  assert.equal(streamed, String(answer.text ?? answer.content));

  const withTools = llm.bindTools([
    { type: 'function', function: { name: 'count_sheep', description: 'Counts sheep in a field', parameters: { type: 'object', properties: { field: { type: 'string' }, max: { type: 'integer', minimum: 1 } }, required: ['field', 'max'] } } },
  ]);
  const call = await withTools.invoke('How many sheep are in the north field?');
  assert.equal(call.tool_calls?.length, 1);
  assert.equal(call.tool_calls[0].name, 'count_sheep');
  assert.equal(typeof call.tool_calls[0].args.field, 'string');
  assert.equal(call.tool_calls[0].args.max, 1);

  const Sheep = z.object({ name: z.string(), age: z.number() });
  const sheep = await llm.withStructuredOutput(Sheep, { name: 'sheep' }).invoke('Describe a sheep.');
  assert.deepEqual(Sheep.parse(sheep), sheep);

  const lines = ledger(ctx.dataDir).slice(before);
  assert.ok(lines.length >= 4 && lines.every((l) => l.endpoint === 'responses'), `every call went to /v1/responses: ${lines.map((l) => l.endpoint)}`);
});

// ---------------------------------------------------------------------------------------------------

async function main() {
  const started = Date.now();
  const installMs = ensureInstalled(here);
  const dataDir = mkdtempSync(join(tmpdir(), 'shepherd-agents-data-'));
  mkdirSync(dataDir, { recursive: true });
  const shepherd = await startShepherd(dataDir);
  const ctx = { url: shepherd.url, dataDir, log: shepherd.log };
  let passed = 0;
  let failed = 0;
  try {
    for (const t of tests) {
      if (grep && !t.name.includes(grep)) continue;
      const t0 = Date.now();
      let timer;
      try {
        await Promise.race([t.fn(ctx), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${TEST_TIMEOUT_MS / 1000} s`)), TEST_TIMEOUT_MS)))]);
        passed++;
        console.log(`  ✔ ${t.name} (${Date.now() - t0} ms)`);
      } catch (err) {
        failed++;
        console.log(`  ✖ ${t.name} (${Date.now() - t0} ms)\n      ${String(err?.stack ?? err).split('\n').join('\n      ')}`);
      } finally {
        clearTimeout(timer);
      }
    }
  } finally {
    await shepherd.stop();
    if (failed > 0) console.log(`Shepherd's log:\n${shepherd.log().split('\n').slice(-40).join('\n')}`);
    rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(`(install ${installMs} ms, whole suite ${Date.now() - started} ms)`);
  console.log(`agents: ${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    console.log('agents: 0 passed, 1 failed');
    process.exit(1);
  },
);
