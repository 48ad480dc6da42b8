import assert from 'node:assert/strict';
import { mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigSchema, configJsonSchema } from '../../shared/config';
import { ensureConfigFile, formatProblems, keyStatus, loadConfigFile, parseConfigText, resolveApiKey, type LoadResult } from '../../daemon/config/load';
import { configPathFor, resolveDataDir } from '../../daemon/config/paths';
import { presetConfig } from '../../daemon/config/presets';
import { watchConfig } from '../../daemon/config/watch';

const provider = { baseUrl: 'https://api.openai.com/v1', apiKeyEnv: 'OPENAI_API_KEY' };
const valid = { providers: { openai: provider }, models: { 'gpt-4.1': { deployments: [{ provider: 'openai', model: 'gpt-4.1' }] } } };

function problemsOf(value: unknown): { path: string; message: string }[] {
  const result = parseConfigText(typeof value === 'string' ? value : JSON.stringify(value));
  assert.equal(result.ok, false, 'expected the config to be refused');
  return result.ok ? [] : result.problems;
}

describe('config: problems by path', () => {
  const cases: { name: string; config: unknown; path: string; message: RegExp }[] = [
    {
      name: 'an unknown provider, with a did-you-mean hint',
      config: { ...valid, models: { 'gpt-4.1': { deployments: [{ provider: 'opnai', model: 'gpt-4.1' }] } } },
      path: 'models.gpt-4.1.deployments[0].provider',
      message: /^unknown provider "opnai" \(did you mean "openai"\?\)$/,
    },
    {
      name: 'a wrong type',
      config: { ...valid, server: { port: 'eighty' } },
      path: 'server.port',
      message: /expected number, received string/,
    },
    {
      name: 'a port out of range',
      config: { ...valid, server: { port: 70000 } },
      path: 'server.port',
      message: /65535/,
    },
    {
      name: 'a base URL that is not http(s)',
      config: { ...valid, providers: { openai: { baseUrl: 'ftp://x' } } },
      path: 'providers.openai.baseUrl',
      message: /must be an http\(s\) URL/,
    },
    { name: 'an unknown field', config: { ...valid, servr: {} }, path: 'servr', message: /^unknown field$/ },
    {
      name: 'an unknown field deep inside',
      config: { ...valid, models: { 'gpt-4.1': { deployments: [{ provider: 'openai', model: 'm', weight: 2 }] } } },
      path: 'models.gpt-4.1.deployments[0].weight',
      message: /^unknown field$/,
    },
    {
      name: 'a group with no deployments',
      config: { ...valid, models: { x: { deployments: [] } } },
      path: 'models.x.deployments',
      message: /at least one deployment/,
    },
    {
      name: 'both an inline key and a key variable',
      config: { ...valid, providers: { openai: { ...provider, apiKey: 'sk-x' } } },
      path: 'providers.openai',
      message: /apiKey or apiKeyEnv, not both/,
    },
    {
      name: 'an alias used by two groups',
      config: {
        ...valid,
        models: {
          a: { aliases: ['same'], deployments: [{ provider: 'openai', model: 'm' }] },
          b: { aliases: ['SAME'], deployments: [{ provider: 'openai', model: 'm' }] },
        },
      },
      path: 'models.b.aliases[0]',
      message: /alias "SAME" is already used by model group "a"/,
    },
    {
      name: 'an unknown provider type',
      config: { ...valid, providers: { openai: { ...provider, type: 'soap' } } },
      path: 'providers.openai.type',
      message: /openai-compatible/,
    },
    { name: 'a bad sandbox value', config: { ...valid, sandbox: 'maybe' }, path: 'sandbox', message: /true, false or "auto"/ },
    { name: 'a key variable that is not a variable name', config: { ...valid, providers: { openai: { baseUrl: provider.baseUrl, apiKeyEnv: 'sk-live-123' } } }, path: 'providers.openai.apiKeyEnv', message: /environment variable name/ },
  ];
  for (const c of cases) {
    it(`reports ${c.name}`, () => {
      const problems = problemsOf(c.config);
      const problem = problems.find((p) => p.path === c.path);
      assert.ok(problem, `no problem at ${c.path}; got ${JSON.stringify(problems)}`);
      assert.match(problem.message, c.message);
    });
  }

  it('reports every problem at once, not just the first', () => {
    const problems = problemsOf({
      providers: { openai: { baseUrl: 'nope' } },
      models: { a: { deployments: [{ provider: 'opnai', model: 3 }] } },
      extra: true,
    });
    assert.deepEqual(problems.map((p) => p.path).sort(), [
      'extra',
      'models.a.deployments[0].model',
      'models.a.deployments[0].provider',
      'providers.openai.baseUrl',
    ]);
  });

  it('gives line and column for a JSON syntax error', () => {
    const [problem] = problemsOf('{\n  "providers": {},\n  "models": { "x" }\n}');
    assert.equal(problem.path, '(root)');
    assert.match(problem.message, /^invalid JSON at line 3, column \d+/);
    const [truncated] = problemsOf('{\n  "providers": {');
    assert.match(truncated.message, /^invalid JSON at line 2, column 17/);
  });

  it('accepts a file that starts with a byte-order mark', () => {
    assert.equal(parseConfigText(`\ufeff${JSON.stringify(valid)}`).ok, true);
  });

  it('formats problems one per line under a header naming the file', () => {
    const text = formatProblems('/x/config.json', [
      { path: 'a.b', message: 'bad' },
      { path: 'c', message: 'worse' },
    ]);
    assert.equal(text, '/x/config.json: 2 problems\n  a.b: bad\n  c: worse');
  });

  it('says so when the file is missing or is a folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shepherd-config-'));
    try {
      const missing = await loadConfigFile(join(dir, 'none.json'));
      assert.ok(!missing.ok && /no config file at/.test(missing.problems[0].message));
      const folder = await loadConfigFile(dir);
      assert.ok(!folder.ok && /is not a file/.test(folder.problems[0].message));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('config: presets', () => {
  it('pass the schema, and every deployment names a provider that reads its key from the environment', () => {
    const parsed = ConfigSchema.parse(presetConfig());
    assert.deepEqual(Object.keys(parsed.models).sort(), ['claude-sonnet-4.5', 'deepseek-v3.2', 'gemini-2.5-flash', 'gpt-4.1']);
    for (const [name, group] of Object.entries(parsed.models)) {
      assert.ok(group.price && group.price.input > 0 && group.price.output > 0, `${name} has a price`);
      assert.ok(group.deployments.length >= 2, `${name} has a fallback deployment`);
      for (const d of group.deployments) assert.ok(parsed.providers[d.provider], `${name}: ${d.provider} exists`);
    }
    for (const p of Object.values(parsed.providers)) {
      assert.equal(p.apiKey, undefined, 'no inline keys in presets');
      assert.match(p.apiKeyEnv ?? '', /_API_KEY$/);
    }
    assert.equal(parsed.models['gpt-4.1'].aliases?.includes('gpt4'), true);
  });

  it('yield a JSON Schema that describes the config', () => {
    const schema = configJsonSchema() as { properties: Record<string, unknown>; title: string };
    assert.equal(schema.title, 'Shepherd config');
    for (const key of ['server', 'upstream', 'sandbox', 'providers', 'models']) assert.ok(key in schema.properties, key);
  });
});

describe('config: files and keys', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shepherd-config-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('writes the presets (owner-only) and the schema on first run, and never overwrites a config', async () => {
    const path = join(dir, 'nested', 'config.json');
    assert.deepEqual(await ensureConfigFile(path), { created: true });
    const loaded = await loadConfigFile(path);
    assert.equal(loaded.ok, true);
    if (process.platform !== 'win32') assert.equal((await stat(path)).mode & 0o777, 0o600);
    const schema = JSON.parse(await readFile(join(dir, 'nested', 'config.schema.json'), 'utf8')) as { title: string };
    assert.equal(schema.title, 'Shepherd config');
    await writeFile(path, '{"models":{}}');
    assert.deepEqual(await ensureConfigFile(path), { created: false });
    assert.equal(await readFile(path, 'utf8'), '{"models":{}}');
  });

  it('resolves keys inline or from the environment, treating an empty variable as unset', () => {
    assert.equal(resolveApiKey({ type: 'openai-compatible', baseUrl: 'http://x', apiKey: 'inline' }, {}), 'inline');
    const fromEnv = { type: 'openai-compatible' as const, baseUrl: 'http://x', apiKeyEnv: 'K' };
    assert.equal(resolveApiKey(fromEnv, { K: 'v' }), 'v');
    assert.equal(resolveApiKey(fromEnv, { K: '' }), undefined);
    assert.equal(resolveApiKey(fromEnv, {}), undefined);
  });

  it('tells which real providers have keys, ignoring sandbox ones', () => {
    const config = ConfigSchema.parse({
      providers: {
        a: { baseUrl: 'http://a', apiKeyEnv: 'A_KEY' },
        b: { baseUrl: 'http://b', apiKeyEnv: 'B_KEY' },
        s: { baseUrl: 'http://s', sandbox: true },
      },
    });
    assert.deepEqual(keyStatus(config, { A_KEY: 'x' }), { withKey: ['a'], withoutKey: ['b'] });
  });
});

describe('config: data directory', () => {
  it('prefers the flag, then SHEPHERD_DATA_DIR, then the platform default', () => {
    assert.equal(resolveDataDir('/flag', { SHEPHERD_DATA_DIR: '/env' }, 'linux', '/home/u'), '/flag');
    assert.equal(resolveDataDir(undefined, { SHEPHERD_DATA_DIR: '/env' }, 'linux', '/home/u'), '/env');
    assert.equal(resolveDataDir(undefined, {}, 'linux', '/home/u'), '/home/u/.local/share/shepherd');
    assert.equal(resolveDataDir(undefined, { XDG_DATA_HOME: '/xdg' }, 'linux', '/home/u'), '/xdg/shepherd');
    assert.equal(resolveDataDir(undefined, {}, 'darwin', '/Users/u'), '/Users/u/Library/Application Support/Shepherd');
    assert.equal(resolveDataDir(undefined, { APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, 'win32', 'C:\\Users\\u'), 'C:\\Users\\u\\AppData\\Roaming\\Shepherd');
    assert.equal(resolveDataDir(undefined, {}, 'win32', 'C:\\Users\\u'), 'C:\\Users\\u\\AppData\\Roaming\\Shepherd');
    assert.equal(configPathFor('/d'), join('/d', 'config.json'));
  });
});

describe('config: live reload', () => {
  let dir: string;
  let path: string;
  let results: LoadResult[];
  let watcher: { close(): void } | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shepherd-watch-'));
    path = join(dir, 'config.json');
    await writeFile(path, JSON.stringify(valid));
    results = [];
    watcher = watchConfig(path, (r) => results.push(r), { debounceMs: 50, initialText: JSON.stringify(valid) });
  });
  afterEach(async () => {
    watcher?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const waitFor = async (count: number) => {
    const deadline = Date.now() + 5_000;
    while (results.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} reload(s), saw ${results.length}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it('delivers an in-place edit', async () => {
    await writeFile(path, JSON.stringify({ ...valid, sandbox: true }));
    await waitFor(1);
    assert.ok(results[0].ok && results[0].config.sandbox === true);
  });

  it('delivers an editor-style save (write a temp file, rename it over the config)', async () => {
    const tmp = join(dir, 'config.json.tmp');
    await writeFile(tmp, JSON.stringify({ ...valid, sandbox: false }));
    await rename(tmp, path);
    await waitFor(1);
    assert.ok(results[0].ok && results[0].config.sandbox === false);
  });

  it('delivers a bad edit as problems', async () => {
    await writeFile(path, '{"models": {"x": {"deployments": []}}}');
    await waitFor(1);
    assert.ok(!results[0].ok && results[0].problems.some((p) => p.path === 'models.x.deployments'));
  });

  it('skips a save that changes nothing, and stops after close()', async () => {
    await writeFile(path, JSON.stringify(valid));
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(results.length, 0, 'unchanged text is no reload');
    watcher?.close();
    await writeFile(path, JSON.stringify({ ...valid, sandbox: true }));
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(results.length, 0, 'nothing after close');
  });
});
