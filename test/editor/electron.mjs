// The same extension suite (suite/index.js) in a VS Code downloaded by @vscode/test-electron, for
// machines that can download VS Code (this build environment cannot: use run.mjs with code-server).
// Runs the extension from this checkout (npm run build first) in a scratch profile and data dir.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTests } from '@vscode/test-electron';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const work = mkdtempSync(join(tmpdir(), 'shepherd-electron-'));
const workspace = join(work, 'workspace');
const userData = join(work, 'user');
mkdirSync(join(userData, 'User'), { recursive: true });
mkdirSync(workspace, { recursive: true });
writeFileSync(join(userData, 'User/settings.json'), JSON.stringify({ 'shepherd.dataDir': join(work, 'data'), 'shepherd.port': 0, 'security.workspace.trust.enabled': false }));

const env = { ...process.env };
for (const k of Object.keys(env)) if (/_API_KEY$/.test(k) || k.startsWith('SHEPHERD_')) delete env[k];
try {
  await runTests({
    extensionDevelopmentPath: root,
    extensionTestsPath: join(here, 'suite/index.js'),
    launchArgs: [workspace, '--user-data-dir', userData, '--disable-extensions', '--disable-workspace-trust'],
    extensionTestsEnv: { ...env, SHEPHERD_SUITE_RESULTS: join(work, 'results.json') },
  });
  console.log('extension suite passed in VS Code (test-electron)');
} catch (err) {
  console.error(`extension suite failed in VS Code (test-electron): ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
