// ESLint (flat config): typescript-eslint's recommended rules, plus the layer rules of docs/DEVELOPMENT.md
// ("Layers and lint"): who may import whom, what may do I/O, no import cycles. `npm test` runs it.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import globals from 'globals';
import { readdirSync } from 'node:fs';

// The daemon's folders, lowest first, and the folders each may import besides itself and shared/. Each
// lists only folders above it (checked below), so folders cannot import each other in a cycle; `no-cycle`
// checks files.
const LAYERS = {
  core: [],
  routing: ['core'],
  formats: ['core'],
  config: ['core', 'routing'],
  upstream: ['core', 'formats'],
  metrics: ['core'],
  health: ['core', 'routing', 'config', 'formats', 'upstream'],
  spend: ['core', 'routing', 'config', 'metrics'],
  sandbox: ['core', 'formats'],
  // Team mode's Redis and PostgreSQL, behind the interfaces spend/ and health/ define; loaded only when configured.
  team: ['core', 'routing', 'config', 'metrics', 'health', 'spend'],
  pipeline: ['core', 'routing', 'formats', 'config', 'upstream', 'metrics', 'health', 'spend', 'sandbox'],
  http: ['core', 'routing', 'formats', 'config', 'upstream', 'metrics', 'health', 'spend', 'sandbox', 'pipeline'],
  // control/ may import http/ only for http/guard.ts, the shared host check (a zone of its own, below).
  control: ['core', 'routing', 'formats', 'config', 'upstream', 'metrics', 'health', 'spend', 'sandbox', 'pipeline', 'http'],
  // The top: the composition root and the command line. Ordered too, so they cannot form a cycle.
  lifecycle: ['core', 'routing', 'formats', 'config', 'upstream', 'metrics', 'health', 'spend', 'sandbox', 'team', 'pipeline', 'http', 'control'],
  cli: ['core', 'routing', 'formats', 'config', 'upstream', 'metrics', 'health', 'spend', 'sandbox', 'team', 'pipeline', 'http', 'control', 'lifecycle'],
  'start.ts': ['core', 'routing', 'formats', 'config', 'upstream', 'metrics', 'health', 'spend', 'sandbox', 'team', 'pipeline', 'http', 'control', 'lifecycle', 'cli'],
  'main.ts': ['core', 'routing', 'formats', 'config', 'upstream', 'metrics', 'health', 'spend', 'sandbox', 'team', 'pipeline', 'http', 'control', 'lifecycle', 'cli', 'start.ts'],
};

// Each layer may import only layers listed before it: then the table has no cycle.
Object.entries(LAYERS).forEach(([name, allowed], i) => {
  const earlier = Object.keys(LAYERS).slice(0, i);
  const wrong = allowed.filter((a) => !earlier.includes(a));
  if (wrong.length > 0) throw new Error(`eslint.config.mjs: daemon/${name} may only list layers above it in LAYERS, not ${wrong.join(', ')}`);
});
// A new folder (or top-level file) in daemon/ gets its place in the table, or it would be checked by nothing.
const unplaced = readdirSync(new URL('./daemon', import.meta.url)).filter((entry) => !(entry in LAYERS));
if (unplaced.length > 0) throw new Error(`eslint.config.mjs: add daemon/${unplaced.join(', daemon/')} to LAYERS`);

const RULES = 'see "Layers and lint" in docs/DEVELOPMENT.md';

const layerZones = Object.entries(LAYERS).map(([name, allowed]) => ({
  target: `daemon/${name}`,
  from: [
    ...Object.keys(LAYERS).filter((other) => other !== name && !allowed.includes(other)).map((other) => `daemon/${other}`),
    'extension',
    'test',
  ],
  message: `daemon/${name} may import only ${['shared', ...allowed.map((a) => `daemon/${a}`), `daemon/${name}`].join(', ')} (${RULES}).`,
}));

const zones = [
  ...layerZones,
  {
    target: 'daemon/control',
    from: 'daemon/http',
    except: ['./guard.ts'],
    message: `daemon/control may import from daemon/http only guard.ts, the shared host check (${RULES}).`,
  },
  { target: 'shared', from: ['daemon', 'extension', 'test'], message: `shared/ may import only zod and shared/ (${RULES}).` },
  { target: 'extension', from: ['daemon', 'test'], message: `The extension never imports the daemon: only shared/ and extension/ (${RULES}).` },
];

// Node modules and packages that do I/O: none in formats/ (translation only); routing/ imports no Node
// module at all (no I/O, and its clock and randomness are injected) and none of these packages.
const IO_PACKAGES = '^(undici|ws|prom-client|ioredis|pg|pg-copy-streams)(/.*)?$';
// Team mode's clients: only daemon/team/ loads them, so local mode never pays for them (dist/team.js).
const TEAM_PACKAGES = '^(ioredis|pg|pg-copy-streams)(/.*)?$';
const IO_MODULES = `^(node:)?(fs|net|http|https|http2|child_process|dgram|dns|tls|worker_threads|cluster|readline|inspector|v8|vm)(/.*)?$|${IO_PACKAGES}`;
const noIo = (folder, regex) => ({ patterns: [{ regex, message: `${folder} does no I/O (${RULES}).` }] });

export default defineConfig(
  {
    ignores: ['**/dist/', '**/node_modules/', '**/.tools/', 'test/bench/bench-results/', '.scratch/', '**/*.d.ts'],
  },
  {
    // A disable comment for a rule that no longer fires is itself an error: no comments that point nowhere.
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // Plain-JS scripts (bin/, esbuild.mjs, test runners) are CommonJS or ESM as their extension says.
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['test/editor/suite/**/*.js'],
    languageOptions: { globals: { ...globals.mocha } },
  },
  {
    rules: {
      // tsc's noUnusedLocals/noUnusedParameters already report these (and honour the `_name` convention).
      '@typescript-eslint/no-unused-vars': 'off',
      // Tests match printed, column-aligned lines (`WARN  upstream ...`): literal spaces read better than ` {2}`.
      'no-regex-spaces': 'off',
    },
  },
  {
    files: ['**/*.ts', '**/*.mjs', '**/*.js', '**/*.cjs'],
    plugins: { 'import-x': importX },
    settings: {
      // no-cycle follows imports through the files it parses: without these it skips every .ts file.
      'import-x/extensions': ['.ts', '.js', '.mjs', '.cjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      // Resolves `./x` to x.ts as tsc (moduleResolution node10) does; no-restricted-paths needs real paths.
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.node'] })],
    },
    rules: {
      // A relative import the linter cannot resolve would slip past the layer rules: tsc resolves it, so must we.
      // (Packages are tsc's business; dist/ is built output; the editor runner's suite.js is copied in when packaged.)
      'import-x/no-unresolved': ['error', { ignore: ['^[^.]', '/dist/', '^\\./suite\\.js$'], commonjs: true }],
      'import-x/no-restricted-paths': ['error', { basePath: import.meta.dirname, zones }],
    },
  },
  {
    // Cycles can only form among files that something imports: not the tests themselves (half the lint's time).
    files: ['shared/**/*.ts', 'daemon/**/*.ts', 'extension/**/*.ts', 'test/support/**/*.ts'],
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^(?!zod(/.*)?$|\\.)', message: `shared/ may import only zod and shared/ (${RULES}).` }] }],
    },
  },
  {
    files: ['daemon/routing/**/*.ts'],
    rules: {
      'import-x/no-nodejs-modules': 'error',
      'no-restricted-imports': ['error', noIo('daemon/routing', IO_PACKAGES)],
    },
  },
  {
    files: ['daemon/formats/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', noIo('daemon/formats', IO_MODULES)] },
  },
  {
    files: ['daemon/**/*.ts', 'extension/**/*.ts'],
    ignores: ['daemon/team/**', 'daemon/routing/**', 'daemon/formats/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: TEAM_PACKAGES, message: `only daemon/team/ imports the Redis and PostgreSQL clients (bundled apart in dist/team.js; ${RULES}).` }] },
      ],
    },
  },
);
