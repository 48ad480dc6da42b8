// Bundles the daemon (and, once they exist, the extension and webview) into dist/.
// One bundle per runtime: the daemon runs on plain Node or on VS Code's own runtime.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const watch = process.argv.includes('--watch');

const daemon = {
  entryPoints: ['daemon/main.ts'],
  outfile: 'dist/daemon.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // Prefer packages' ESM builds: jsonc-parser's `main` is a UMD wrapper whose requires esbuild cannot follow.
  mainFields: ['module', 'main'],
  sourcemap: true,
  logLevel: 'warning',
  define: { SHEPHERD_VERSION: JSON.stringify(pkg.version) },
};

if (watch) {
  const { context } = await import('esbuild');
  const ctx = await context(daemon);
  await ctx.watch();
} else {
  await build(daemon);
}
