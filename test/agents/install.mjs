// Installs the agent suite's clients into test/agents/node_modules from its lock file, on first use
// and whenever the lock file changes (as test/bench does), so the project's own install stays small.
// The Codex CLI package vendors its native binary per platform: nothing is downloaded when it runs.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Returns how long the install took (0 when it was already current). */
export function ensureInstalled(dir) {
  const installed = join(dir, 'node_modules', '.package-lock.json');
  const lock = join(dir, 'package-lock.json');
  if (existsSync(installed) && statSync(installed).mtimeMs >= statSync(lock).mtimeMs) return 0;
  const t0 = Date.now();
  console.log('installing the agent clients into test/agents/node_modules (npm ci) ...');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'inherit' });
  return Date.now() - t0;
}
