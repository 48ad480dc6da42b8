#!/usr/bin/env node
// `npm start`: builds, then runs `shepherd start` (with the flags after `--`) in this process.
// npm runs a script through `sh -c` and forwards SIGTERM to that shell only; the shell dies without
// passing it on, and this process would be re-parented and keep serving. So it watches its parent:
// once that is gone, it stops the daemon as SIGTERM would (finishing in-flight requests).
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');

const root = join(__dirname, '..');
const built = spawnSync(process.execPath, [join(root, 'esbuild.mjs')], { cwd: root, stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);

const parent = process.ppid;
let signalled = false;
// A signal that reached us directly (Ctrl-C reaches the whole group) is handled by the daemon;
// the shell exiting after it must not count as a second one.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => (signalled = true));
const watch = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(watch);
  if (!signalled) process.kill(process.pid, 'SIGTERM');
}, 200);
watch.unref();

process.argv = [process.argv[0], join(root, 'dist/daemon.js'), 'start', ...process.argv.slice(2)];
require('../dist/daemon.js');
