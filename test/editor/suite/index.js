// The extension suite that runs inside a real VS Code's extension host: through @vscode/test-electron
// (electron.mjs) where VS Code can be downloaded, and here through the small runner extension in
// ../runner installed beside Shepherd in code-server. It uses only the public vscode API, the way a
// user's commands do. Exports run() (test-electron's contract); writes results to
// $SHEPHERD_SUITE_RESULTS, else to .shepherd-suite.json in the workspace folder.
const assert = require('node:assert/strict');
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const vscode = require('vscode');

const EXTENSION_ID = 'shepherd.shepherd';
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
