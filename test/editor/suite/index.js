// The extension suite that runs inside a real VS Code's extension host: through @vscode/test-electron
// (electron.mjs) where VS Code can be downloaded, and here through the small runner extension in
// ../runner installed beside Shepherd in code-server. It uses only the public vscode API, the way a
// user's commands do. Exports run() (test-electron's contract); writes results to
// $SHEPHERD_SUITE_RESULTS, else to .shepherd-suite.json in the workspace folder.
const assert = require('node:assert/strict');
const { existsSync, readdirSync, readFileSync, writeFileSync } = require('node:fs');
const { createServer } = require('node:http');
const { join } = require('node:path');
const vscode = require('vscode');

const EXTENSION_ID = 'shepherd.shepherd';
/** This runner's own id, as VS Code names the extension behind a language model request. */
const RUNNER_ID = 'shepherd-tests.shepherd-suite-runner';
const tests = [];
const test = (name, fn) => tests.push({ name, fn });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function eventually(what, fn, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await Promise.resolve().then(fn).catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

function dataDir() {
  const dir = vscode.workspace.getConfiguration('shepherd').get('dataDir');
  assert.ok(dir, 'the suite needs shepherd.dataDir set to a scratch directory');
  return dir;
}

const stateFile = () => join(dataDir(), 'daemon.json');
const daemonState = () => JSON.parse(readFileSync(stateFile(), 'utf8'));

test('the extension is installed and activates', async () => {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is not installed`);
  await ext.activate();
  assert.equal(ext.isActive, true);
});

test('every contributed command is registered', async () => {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  const contributed = ext.packageJSON.contributes.commands.map((c) => c.command);
  const registered = new Set(await vscode.commands.getCommands(true));
  assert.deepEqual(contributed.filter((c) => !registered.has(c)), []);
});

test('Start Daemon starts a daemon that serves the sandbox', async () => {
  await vscode.commands.executeCommand('shepherd.start');
  const state = await eventually('the state file', () => existsSync(stateFile()) && daemonState());
  const status = await (await fetch(`${state.url}/v1/shepherd/status`)).json();
  assert.equal(status.sandbox, true);
  assert.ok(status.deployments.length > 0);
});

test('Copy Base URL puts the daemon\'s OpenAI base URL on the clipboard', async () => {
  await vscode.commands.executeCommand('shepherd.copyBaseUrl');
  assert.equal(await vscode.env.clipboard.readText(), `${daemonState().url}/v1`);
});

test('Explain Selection streams an answer into a side editor, naming model, deployment and cost', async () => {
  const doc = await vscode.workspace.openTextDocument({ language: 'javascript', content: 'function add(a, b) {\n  return a + b;\n}\n' });
  const editor = await vscode.window.showTextDocument(doc);
  editor.selection = new vscode.Selection(0, 0, 2, 1);
  await vscode.commands.executeCommand('shepherd.explainSelection');
  const answer = await eventually('the answer document', () =>
    vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'shepherd-answer' && /Served by/.test(d.getText())),
  );
  const text = answer.getText();
  // An untitled editor left dirty would ask to be saved when the next step closes editors.
  await vscode.window.showTextDocument(doc);
  await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  assert.match(text, /\[sandbox\]/);
  assert.match(text, /via `sandbox-[a-z]+\//);
  assert.match(text, /\$\d+\.\d+/);
});

// ---- Shepherd's models through VS Code's language model API, as another extension uses them ----

const cancelled = () => new vscode.CancellationTokenSource().token;
const shepherdModel = (id) =>
  eventually(`Shepherd model "${id}"`, async () => (await vscode.lm.selectChatModels({ vendor: 'shepherd', id }))[0], 30_000);
/** Every ledger line on disk (only the month files: the folder also holds summaries and checkpoints). */
function ledger() {
  const dir = join(dataDir(), 'ledger');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^\d{4}-\d{2}\.jsonl$/.test(f))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean))
    .map((l) => JSON.parse(l));
}
const TOOL = { name: 'suite_lookup', description: 'Looks a word up in a dictionary', inputSchema: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] } };

test('selectChatModels({ vendor: "shepherd" }) lists every model group and auto, with price and limits', async () => {
  const models = await eventually('Shepherd models', async () => {
    const m = await vscode.lm.selectChatModels({ vendor: 'shepherd' });
    return m.length > 0 && m;
  }, 30_000);
  const ids = models.map((m) => m.id);
  for (const id of ['gpt-4.1', 'claude-sonnet-4.5', 'auto']) assert.ok(ids.includes(id), `${id} missing from ${ids.join(', ')}`);
  const gpt = models.find((m) => m.id === 'gpt-4.1');
  assert.equal(gpt.vendor, 'shepherd');
  assert.match(gpt.name, /gpt-4\.1 \(\$2\.00 in \/ \$8\.00 out\)/);
  // The preset's published limits: a 1,047,576-token window less a 32,768-token answer.
  assert.equal(gpt.maxInputTokens, 1_047_576 - 32_768);
});

test('a Shepherd model streams an answer from a sandbox deployment, and counts tokens with a real tokenizer', async () => {
  const model = await shepherdModel('gpt-4.1');
  const response = await model.sendRequest([vscode.LanguageModelChatMessage.User('Say hello to the flock')], {}, cancelled());
  const pieces = [];
  for await (const piece of response.text) pieces.push(piece);
  assert.match(pieces.join(''), /^\[sandbox\]/);
  assert.ok(pieces.length > 1, `streamed in ${pieces.length} piece(s)`);
  assert.equal(await model.countTokens('hello world'), 2);
});

test('a Shepherd model completes a tool-call round trip', async () => {
  const model = await shepherdModel('gpt-4.1');
  const messages = [vscode.LanguageModelChatMessage.User('define shepherd')];
  const first = await model.sendRequest(messages, { tools: [TOOL], toolMode: vscode.LanguageModelChatToolMode.Required }, cancelled());
  const calls = [];
  for await (const part of first.stream) if (part instanceof vscode.LanguageModelToolCallPart) calls.push(part);
  assert.equal(calls.length, 1);
  assert.equal(calls[0].name, 'suite_lookup');
  assert.deepEqual(calls[0].input, { query: 'define shepherd' });
  messages.push(
    vscode.LanguageModelChatMessage.Assistant([calls[0]]),
    vscode.LanguageModelChatMessage.User([new vscode.LanguageModelToolResultPart(calls[0].callId, [new vscode.LanguageModelTextPart('a person who herds sheep')])]),
  );
  const second = await model.sendRequest(messages, { tools: [TOOL] }, cancelled());
  let text = '';
  for await (const piece of second.text) text += piece;
  assert.match(text, /^\[sandbox\]/, 'after the tool result the model answers in text');
});

test('cancelling a Shepherd model\'s long answer disconnects the upstream; an exhausted budget is a LanguageModelError', async () => {
  // A scripted upstream that talks slowly and notices when its request is closed early.
  const seen = { requests: 0, disconnected: 0 };
  const upstream = createServer((req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ object: 'list', data: [{ id: 'slow-1', object: 'model' }] }));
    }
    seen.requests++;
    req.resume();
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let n = 0;
    const timer = setInterval(() => {
      res.write(`data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 0, model: 'slow-1', choices: [{ index: 0, delta: { content: ` word${n}` }, finish_reason: null }] })}\n\n`);
      if (++n >= 600) {
        clearInterval(timer);
        res.end('data: [DONE]\n\n');
      }
    }, 50);
    res.on('close', () => {
      if (n < 600) seen.disconnected++;
      clearInterval(timer);
    });
  });
  await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
  try {
    writeFileSync(join(dataDir(), 'config.json'), JSON.stringify({
      sandbox: false,
      providers: { scripted: { baseUrl: `http://127.0.0.1:${upstream.address().port}/v1`, apiKey: 'sk-suite-0000' } },
      models: {
        slow: { price: { input: 1, output: 1 }, deployments: [{ provider: 'scripted', model: 'slow-1' }] },
        capped: { price: { input: 1, output: 1 }, deployments: [{ provider: 'scripted', model: 'slow-1' }] },
      },
      budgets: { capped: { limitUsd: 0, scope: { group: 'capped' }, action: 'block' } },
    }));
    await vscode.commands.executeCommand('shepherd.reloadConfig');
    const slow = await shepherdModel('slow');
    const source = new vscode.CancellationTokenSource();
    const response = await slow.sendRequest([vscode.LanguageModelChatMessage.User('tell me a long story')], {}, source.token);
    let pieces = 0;
    for await (const piece of response.text) {
      if (piece && ++pieces === 3) source.cancel();
    }
    await eventually('the upstream to see the disconnect', () => seen.disconnected === 1, 10_000);

    const capped = await shepherdModel('capped');
    const before = seen.requests;
    await assert.rejects(
      async () => {
        const r = await capped.sendRequest([vscode.LanguageModelChatMessage.User('hi')], {}, cancelled());
        for await (const _ of r.text) void _;
      },
      (err) => {
        assert.ok(err instanceof vscode.LanguageModelError, `not a LanguageModelError: ${err}`);
        assert.equal(err.code, 'Blocked');
        assert.match(err.message, /budget "capped".*Shepherd: Set Budget/);
        return true;
      },
    );
    assert.equal(seen.requests, before, 'the blocked request never reached the upstream');
  } finally {
    upstream.close();
    upstream.closeAllConnections?.();
  }
});

test('every language model request is in the ledger, tagged with the extension that made it', async () => {
  const mine = await eventually('the tagged ledger lines', () => {
    const lines = ledger().filter((e) => e.client === RUNNER_ID);
    return lines.length >= 5 && lines;
  }, 10_000);
  assert.ok(mine.some((e) => e.ok && e.sandbox && e.model === 'gpt-4.1'), 'the sandbox answer');
  assert.ok(mine.some((e) => e.model === 'slow' && !e.ok), 'the cancelled answer');
  assert.ok(mine.some((e) => e.model === 'capped' && e.status === 402), 'the budget refusal');
});

test('Stop Daemon stops it and removes the state file', async () => {
  const { pid } = daemonState();
  await vscode.commands.executeCommand('shepherd.stop');
  assert.equal(existsSync(stateFile()), false);
  assert.throws(() => process.kill(pid, 0), /ESRCH/);
});

/** Where results go: $SHEPHERD_SUITE_RESULTS, else .shepherd-suite.json in the first workspace folder. */
function resultsFile() {
  if (process.env.SHEPHERD_SUITE_RESULTS) return process.env.SHEPHERD_SUITE_RESULTS;
  const folder = vscode.workspace.workspaceFolders?.[0];
  return folder ? join(folder.uri.fsPath, '.shepherd-suite.json') : undefined;
}

async function run() {
  const results = [];
  const out = resultsFile();
  for (const t of tests) {
    const started = Date.now();
    try {
      await t.fn();
      results.push({ name: t.name, ok: true, ms: Date.now() - started });
    } catch (err) {
      results.push({ name: t.name, ok: false, ms: Date.now() - started, error: err instanceof Error ? err.message : String(err) });
    }
    // Written after every test, so a hang shows how far the suite got.
    if (out) writeFileSync(`${out}.partial`, JSON.stringify(results, null, 2));
  }
  if (out) writeFileSync(out, JSON.stringify(results, null, 2));
  const failed = results.filter((r) => !r.ok);
  if (failed.length > 0) throw new Error(`${failed.length} of ${results.length} failed: ${failed.map((f) => `${f.name}: ${f.error}`).join('; ')}`);
  return results;
}

module.exports = { run };
