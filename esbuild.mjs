// Bundles the daemon, the VS Code extension and the spend view's page into dist/, one bundle per
// runtime: the daemon runs on plain Node or on VS Code's own runtime, the extension in the extension
// host (`vscode` is provided there), the page in a browser-like webview (Chart.js bundled in: no CDN).
import { build, context } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const watch = process.argv.includes('--watch');
const define = { SHEPHERD_VERSION: JSON.stringify(pkg.version) };

// daemon/spend/tokenizer is its own bundle, dist/tokenizer.js: the daemon's lazy require of it is left for
// Node to resolve beside dist/daemon.js at run time, instead of pulling its 2.4 MB of ranks in.
const tokenizerApart = {
  name: 'tokenizer-apart',
  setup(b) {
    b.onResolve({ filter: /^\.\/tokenizer$/ }, () => ({ path: './tokenizer.js', external: true }));
    // The cascade's parsers (daemon/pipeline/cascade/tools.ts): acorn and ajv, and TypeScript's parser.
    b.onResolve({ filter: /^\.\/cascade-(?:ts-parser|parsers|tree-sitter)$/ }, (args) => ({ path: `${args.path}.js`, external: true }));
  },
};

// Team mode (daemon/team/, with ioredis and pg) is its own bundle too, dist/team.js, required only when
// the config has a team section: local mode starts without parsing either client.
const teamApart = {
  name: 'team-apart',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/team$/ }, () => ({ path: './team.js', external: true }));
  },
};

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
  define,
  plugins: [tokenizerApart, teamApart],
};

const extension = {
  ...daemon,
  entryPoints: ['extension/extension.ts'],
  outfile: 'dist/extension.js',
  external: ['vscode'],
  // ws's optional native speed-ups; it falls back to JavaScript without them.
  define: { ...define, 'process.env.WS_NO_BUFFER_UTIL': '"1"', 'process.env.WS_NO_UTF_8_VALIDATE': '"1"' },
};

// The tokenizer (daemon/spend/tokenizer.ts): loaded on first use by the daemon's usage estimates and the
// language model provider's token counts.
const tokenizer = {
  ...daemon,
  entryPoints: ['daemon/spend/tokenizer.ts'],
  outfile: 'dist/tokenizer.js',
  sourcemap: false,
  plugins: [],
};

// The ledger replay's worker thread (daemon/spend/replay-worker.ts): started by the daemon from beside
// dist/daemon.js for a cold replay of a big ledger, so it must be a file of its own.
const replayWorker = {
  ...daemon,
  entryPoints: ['daemon/spend/replay-worker.ts'],
  outfile: 'dist/replay-worker.js',
  plugins: [],
};

// The cascade checks' parsers, loaded on a cascade's first check: acorn and ajv (small), and apart
// from them TypeScript's own parser (3.5 MB minified), loaded only when an answer holds TS or JSX.
const cascadeParsers = {
  ...daemon,
  entryPoints: ['daemon/pipeline/cascade/cascade-parsers.ts'],
  outfile: 'dist/cascade-parsers.js',
  sourcemap: false,
  minify: true,
  plugins: [],
};
const cascadeTsParser = { ...cascadeParsers, entryPoints: ['daemon/pipeline/cascade/cascade-ts-parser.ts'], outfile: 'dist/cascade-ts-parser.js' };
// Python through web-tree-sitter: the bundle, and beside it the runtime's and the grammar's WebAssembly.
const cascadeTreeSitter = { ...cascadeParsers, entryPoints: ['daemon/pipeline/cascade/cascade-tree-sitter.ts'], outfile: 'dist/cascade-tree-sitter.js' };
function copyWasm() {
  mkdirSync('dist', { recursive: true });
  copyFileSync('node_modules/web-tree-sitter/tree-sitter.wasm', 'dist/tree-sitter.wasm');
  copyFileSync('node_modules/tree-sitter-python/tree-sitter-python.wasm', 'dist/tree-sitter-python.wasm');
}

// Team mode (daemon/team/index.ts): Redis and PostgreSQL clients; pg's optional native binding is left out.
const team = {
  ...daemon,
  entryPoints: ['daemon/team/index.ts'],
  outfile: 'dist/team.js',
  external: ['pg-native'],
  plugins: [tokenizerApart],
};

const webview = {
  entryPoints: ['extension/webview/main.ts'],
  outfile: 'dist/webview.js',
  bundle: true,
  platform: 'browser',
  target: 'es2022',
  format: 'iife',
  minify: true,
  sourcemap: false,
  logLevel: 'warning',
};

/**
 * esbuild escapes non-ASCII in code, but copies comments as they are, and one curly quote in a
 * dependency's comment makes V8 hold the whole 2.6 MB script as two bytes per character. Comments
 * are all that is left to change, so each such character becomes '?' (one per UTF-16 unit: the
 * source map's columns stay right).
 */
function asciiOnly(file) {
  const text = readFileSync(file, 'utf8');
  const ascii = text.replace(/[\u0080-\uffff]/g, '?');
  if (ascii !== text) writeFileSync(file, ascii);
}

/** The config's JSON Schema, shipped in the VSIX so VS Code validates and completes the config file. */
function writeSchema() {
  const schema = execFileSync(process.execPath, ['dist/daemon.js', 'config', 'schema'], { encoding: 'utf8' });
  mkdirSync('dist', { recursive: true });
  writeFileSync('dist/config.schema.json', schema);
}

if (watch) {
  copyWasm();
  for (const options of [daemon, extension, webview, tokenizer, replayWorker, team, cascadeParsers, cascadeTsParser, cascadeTreeSitter]) await (await context(options)).watch();
} else {
  await Promise.all([build(daemon), build(extension), build(webview), build(tokenizer), build(replayWorker), build(team), build(cascadeParsers), build(cascadeTsParser), build(cascadeTreeSitter)]);
  copyWasm();
  asciiOnly('dist/daemon.js');
  writeSchema();
}
