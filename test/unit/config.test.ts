import assert from 'node:assert/strict';
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigSchema, configJsonSchema, type ProviderConfig } from '../../shared/config';
import {
  ensureConfigFile,
  formatProblems,
  keyStatus,
  loadConfigFile,
  parseConfigText,
  resolveApiKey,
  type ConfigProblem,
  type LoadResult,
} from '../../daemon/config/load';
import { checkJsonSyntax } from '../../daemon/config/json-syntax';
import { configPathFor, resolveDataDir } from '../../daemon/config/paths';
import { presetConfig } from '../../daemon/config/presets';
import { watchConfig } from '../../daemon/config/watch';

const provider = { baseUrl: 'https://api.openai.com/v1', apiKeyEnv: 'OPENAI_API_KEY' };
const valid = { providers: { openai: provider }, models: { 'gpt-4.1': { deployments: [{ provider: 'openai', model: 'gpt-4.1' }] } } };
const withModel = (group: Record<string, unknown>) => ({ ...valid, models: { x: { deployments: [{ provider: 'openai', model: 'm' }], ...group } } });

function problemsOf(value: unknown): ConfigProblem[] {
  const result = parseConfigText(typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  assert.equal(result.ok, false, 'expected the config to be refused');
  return result.ok ? [] : result.problems;
}

async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

describe('config: problems by path', () => {
  // `paths` is the complete list of problems expected; `message` is checked on the first of them.
  const cases: { name: string; config: unknown; paths: string[]; message: RegExp }[] = [
    {
      name: 'an unknown provider, with a did-you-mean hint',
      config: { ...valid, models: { 'gpt-4.1': { deployments: [{ provider: 'opnai', model: 'gpt-4.1' }] } } },
      paths: ['models.gpt-4.1.deployments[0].provider'],
      message: /^unknown provider "opnai" \(did you mean "openai"\?\)$/,
    },
    { name: 'a wrong type', config: { ...valid, server: { port: 'eighty' } }, paths: ['server.port'], message: /^expected a number, got a string$/ },
    { name: 'a port out of range', config: { ...valid, server: { port: 70000 } }, paths: ['server.port'], message: /^must be <= 65535$/ },
    {
      name: 'a base URL that is not http(s)',
      config: { ...valid, providers: { openai: { ...provider, baseUrl: 'ftp://example.com' } } },
      paths: ['providers.openai.baseUrl'],
      message: /must be an http\(s\) URL/,
    },
    {
      name: 'a base URL that is not a URL at all',
      config: { ...valid, providers: { openai: { ...provider, baseUrl: 'api.openai.com' } } },
      paths: ['providers.openai.baseUrl'],
      message: /must be an http\(s\) URL/,
    },
    { name: 'an unknown top-level field, with a hint', config: { ...valid, servr: {} }, paths: ['servr'], message: /^unknown field \(did you mean "server"\?\)$/ },
    {
      name: 'an unknown field deep inside, listing the allowed ones',
      config: { ...valid, models: { 'gpt-4.1': { deployments: [{ provider: 'openai', model: 'm', replicas: 2 }] } } },
      paths: ['models.gpt-4.1.deployments[0].replicas'],
      message: /^unknown field; expected one of: provider, model, region, price, completions, contextWindow, maxOutputTokens, capabilities, weight, priority, rpm, tpm, burst, breaker$/,
    },
    {
      name: 'a field spelt in the wrong case (and so the real one missing)',
      config: { ...valid, providers: { openai: { baseURL: provider.baseUrl, apiKeyEnv: 'OPENAI_API_KEY' } } },
      paths: ['providers.openai.baseUrl', 'providers.openai.baseURL'],
      message: /^missing; expected a string$/,
    },
    {
      name: 'a required field left out',
      config: { ...valid, models: { 'gpt-4.1': { deployments: [{ provider: 'openai' }] } } },
      paths: ['models.gpt-4.1.deployments[0].model'],
      message: /^missing; expected a string$/,
    },
    { name: 'a group with no deployments', config: withModel({ deployments: [] }), paths: ['models.x.deployments'], message: /at least one deployment/ },
    {
      name: 'both an inline key and a key variable',
      config: { ...valid, providers: { openai: { ...provider, apiKey: 'sk-x' } } },
      paths: ['providers.openai'],
      message: /apiKey or apiKeyEnv, not both/,
    },
    {
      name: 'an alias used by two groups (case-insensitively)',
      config: {
        ...valid,
        models: {
          a: { aliases: ['same'], deployments: [{ provider: 'openai', model: 'm' }] },
          b: { aliases: ['SAME'], deployments: [{ provider: 'openai', model: 'm' }] },
        },
      },
      paths: ['models.b.aliases[0]'],
      message: /alias "SAME" is already used by model group "a"/,
    },
    {
      name: 'an alias that is another group’s name',
      config: {
        ...valid,
        models: { a: { deployments: [{ provider: 'openai', model: 'm' }] }, b: { aliases: ['a'], deployments: [{ provider: 'openai', model: 'm' }] } },
      },
      paths: ['models.b.aliases[0]'],
      message: /already used by model group "a"/,
    },
    {
      name: 'an unknown provider type, listing the allowed values',
      config: { ...valid, providers: { openai: { ...provider, type: 'soap' } } },
      paths: ['providers.openai.type'],
      message: /^must be one of "openai-compatible", "anthropic", "gemini"$/,
    },
    { name: 'a bad sandbox value', config: { ...valid, sandbox: 'maybe' }, paths: ['sandbox'], message: /true, false or "auto"/ },
    {
      name: 'a key pasted where the variable name goes (without echoing it)',
      config: { ...valid, providers: { openai: { baseUrl: provider.baseUrl, apiKeyEnv: 'sk-live-123' } } },
      paths: ['providers.openai.apiKeyEnv'],
      message: /^must be an environment variable name$/,
    },
    { name: 'a negative price', config: withModel({ price: { input: -1, output: 1 } }), paths: ['models.x.price.input'], message: /^must be >= 0$/ },
    { name: 'an empty provider name', config: { ...valid, providers: { ...valid.providers, '': provider } }, paths: ['providers.""'], message: /^a name must not be empty$/ },
    { name: 'a section of the wrong shape', config: { ...valid, upstream: 3 }, paths: ['upstream'], message: /^expected an object, got a number$/ },
    {
      name: 'a key given twice in one object (JSON would silently keep the last)',
      config: '{\n  "providers": {\n    "openai": { "baseUrl": "https://a.example/v1" },\n    "openai": { "baseUrl": "https://b.example/v1" }\n  }\n}',
      paths: ['providers.openai'],
      message: /^duplicate key "openai" \(first at line 3, column 5; again at line 4, column 5\)/,
    },
    { name: 'a file that is an array', config: '[]', paths: ['(root)'], message: /must be a JSON object .* not an array/ },
    { name: 'a file that is null', config: 'null', paths: ['(root)'], message: /must be a JSON object .* not null/ },
  ];
  for (const c of cases) {
    it(`reports ${c.name}`, () => {
      const problems = problemsOf(c.config);
      assert.deepEqual(
        problems.map((p) => p.path),
        c.paths,
        `problems: ${JSON.stringify(problems)}`,
      );
      assert.match(problems[0].message, c.message);
      for (const p of problems) assert.doesNotMatch(p.message, /sk-live|Invalid input|\n/, 'no echoed key, no raw zod prefix, one line');
    });
  }

  it('reports every problem at once, not just the first', () => {
    const problems = problemsOf({
      providers: { openai: { baseUrl: 'nope', apiKey: 'k', apiKeyEnv: 'K' } },
      models: { a: { deployments: [{ provider: 'opnai', model: 3 }] }, b: { deployments: [] } },
      server: { port: -1 },
      extra: true,
    });
    assert.deepEqual(problems.map((p) => p.path).sort(), [
      'extra',
      'models.a.deployments[0].model',
      'models.a.deployments[0].provider',
      'models.b.deployments',
      'providers.openai',
      'providers.openai.baseUrl',
      'server.port',
    ]);
  });

  it('accepts a valid config, keeping the text it parsed', () => {
    const text = JSON.stringify(valid);
    const result = parseConfigText(text);
    assert.ok(result.ok);
    assert.equal(result.text, text);
    assert.equal(result.config.server.port, 4210, 'defaults applied');
  });

  it('accepts a file that starts with a byte-order mark', () => {
    assert.equal(parseConfigText(`\ufeff${JSON.stringify(valid)}`).ok, true);
  });
});

describe('config: JSON syntax errors', () => {
  const cases: { name: string; text: string; at: [number, number]; message: RegExp }[] = [
    { name: 'a missing colon', text: '{\n  "providers": {},\n  "models": { "x" }\n}', at: [3, 19], message: /expected ":" after the property name/ },
    { name: 'a trailing comma in an object (pointing at the comma)', text: '{\n  "sandbox": true,\n}', at: [2, 18], message: /trailing comma/ },
    { name: 'a trailing comma in an array', text: '{"server": {"allowedOrigins": ["a",\n]}}', at: [1, 35], message: /trailing comma/ },
    { name: 'a comment', text: '{\n  // my providers\n  "providers": {}\n}', at: [2, 3], message: /comments are not allowed/ },
    { name: 'a truncated file, naming the unclosed brace', text: '{\n  "providers": {\n', at: [3, 1], message: /ends before the "\{" at line 2, column 16 is closed/ },
    { name: 'a bare word', text: '{"sandbox": yes}', at: [1, 13], message: /double quotes/ },
    { name: 'single quotes', text: "{'sandbox': true}", at: [1, 2], message: /double quotes/ },
    { name: 'a string left open at the end of its line', text: '{\n  "sandbox": "auto\n}', at: [2, 19], message: /line break inside a string/ },
    { name: 'an empty file', text: '', at: [1, 1], message: /the file is empty/ },
  ];
  for (const c of cases) {
    it(`gives line and column for ${c.name}`, () => {
      const problems = problemsOf(c.text);
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.equal(problems[0].path, '(root)');
      assert.match(problems[0].message, new RegExp(`^invalid JSON at line ${c.at[0]}, column ${c.at[1]}: `));
      assert.match(problems[0].message, c.message);
    });
  }

  it('never quotes the file’s text (an inline key may sit next to the mistake)', () => {
    const text = '{"providers": {"p": {"baseUrl": "http://x", "apiKey": sk_live_SECRET}}}';
    const [problem] = problemsOf(text);
    assert.match(problem.message, new RegExp(`^invalid JSON at line 1, column ${text.indexOf('sk_live') + 1}:`));
    assert.doesNotMatch(problem.message, /SECRET/);
  });

  it('agrees with JSON.parse on which texts are valid (20,000 seeded random edits of a config)', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const bases = [JSON.stringify(presetConfig(), null, 2), JSON.stringify({ a: [1, -2.5e3, 0, true, false, null, 'é\u2028\\"', {}, []], b: '\\u00e9' })];
    const pieces = ['{', '}', '[', ']', ',', ':', '"', '\\', ' ', '\n', '0', '1', '-', '.', 'e', '+', 't', 'n', 'f', '/', "'", 'u', '\t', '\u0001'];
    let refused = 0;
    for (let n = 0; n < 20_000; n++) {
      let text = bases[n % bases.length];
      for (let edits = 1 + Math.floor(random() * 3); edits > 0; edits--) {
        const at = Math.floor(random() * (text.length + 1));
        const piece = pieces[Math.floor(random() * pieces.length)];
        const op = random();
        text = op < 0.33 ? text.slice(0, at) + text.slice(at + 1) : op < 0.66 ? text.slice(0, at) + piece + text.slice(at) : text.slice(0, at) + piece + text.slice(at + 1);
      }
      let valid = true;
      try {
        JSON.parse(text);
      } catch {
        valid = false;
        refused++;
      }
      assert.equal(checkJsonSyntax(text).error === undefined, valid, `disagreement on ${JSON.stringify(text)}`);
    }
    assert.ok(refused > 5_000 && refused < 20_000, `a mix of valid and invalid texts (${refused} refused)`);
  });

  it('reports absurdly deep nesting as a problem instead of overflowing the stack', () => {
    const [problem] = problemsOf(`{"a":${'['.repeat(200_000)}`);
    assert.match(problem.message, /^invalid JSON at line 1, column 1: the JSON is nested too deeply/);
  });
});

describe('config: reporting and reading files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('shepherd-config-');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('formats problems one per line under a header naming the file and the count', () => {
    const text = formatProblems('/x/config.json', [
      { path: 'models.gpt-4.1.deployments[0].provider', message: 'unknown provider "opnai"' },
      { path: 'server.port', message: 'must be <= 65535' },
    ]);
    assert.equal(text, '/x/config.json: 2 problems\n  models.gpt-4.1.deployments[0].provider: unknown provider "opnai"\n  server.port: must be <= 65535');
    assert.equal(formatProblems('c.json', [{ path: '(root)', message: 'm' }]), 'c.json: 1 problem\n  (root): m');
  });

  it('loads a valid file with its exact text', async () => {
    const path = join(dir, 'config.json');
    const text = JSON.stringify(valid, null, 2);
    await writeFile(path, text);
    const result = await loadConfigFile(path);
    assert.ok(result.ok);
    assert.equal(result.text, text);
    assert.deepEqual(Object.keys(result.config.models), ['gpt-4.1']);
  });

  it('says so when the file is missing, is a folder, is too big or is not UTF-8', async () => {
    const only = async (path: string) => {
      const result = await loadConfigFile(path);
      assert.ok(!result.ok, 'refused');
      assert.equal(result.problems.length, 1);
      assert.equal(result.problems[0].path, '(root)');
      return result.problems[0].message;
    };
    assert.match(await only(join(dir, 'none.json')), /does not exist/);
    assert.match(await only(dir), /not a regular file/);
    const big = join(dir, 'big.json');
    await writeFile(big, Buffer.alloc(5 * 1024 * 1024 + 1, 0x20));
    assert.match(await only(big), /5242881 bytes; a config file may be at most 5242880 bytes \(5 MiB\)/);
    const latin1 = join(dir, 'latin1.json');
    await writeFile(latin1, Buffer.from('{"$schema": "caf\xe9"}', 'latin1'));
    assert.match(await only(latin1), /not valid UTF-8/);
  });

  it('says so when the file cannot be read', async function () {
    if (process.platform === 'win32' || process.getuid?.() === 0) this.skip(); // root reads anything
    const path = join(dir, 'config.json');
    await writeFile(path, JSON.stringify(valid));
    await chmod(path, 0o000);
    const result = await loadConfigFile(path);
    assert.ok(!result.ok && /permission denied/.test(result.problems[0].message), JSON.stringify(result));
  });
});

describe('config: the schema itself', () => {
  it('refuses non-objects without throwing, so no caller can crash on `null`', () => {
    for (const value of [null, 3, 'text', [], undefined]) {
      assert.equal(ConfigSchema.safeParse(value).success, false, JSON.stringify(value));
    }
  });
});

describe('config: presets', () => {
  it('pass the schema as the file is written, and every deployment names a provider in the preset', () => {
    const result = parseConfigText(JSON.stringify(presetConfig(), null, 2));
    assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
    const config = result.config;
    assert.equal(presetConfig().$schema, './config.schema.json');
    assert.deepEqual(Object.keys(config.models), ['gpt-4.1', 'claude-sonnet-4.5', 'claude-opus-4.5', 'claude-haiku-4.5', 'gemini-2.5-flash', 'deepseek-v3.2', 'codestral', 'text-embedding-3-small', 'text-embedding-3-large', 'gemini-embedding-001']);
    const chat = ['gpt-4.1', 'claude-sonnet-4.5', 'claude-opus-4.5', 'claude-haiku-4.5', 'gemini-2.5-flash', 'deepseek-v3.2'];
    for (const name of ['text-embedding-3-small', 'text-embedding-3-large', 'gemini-embedding-001']) {
      const group = config.models[name];
      assert.equal(group.kind, 'embedding', `${name} is an embedding group`);
      assert.ok(group.price && group.price.input > 0 && group.price.output === 0, `${name} is priced per input token`);
      assert.match(group.price.checked ?? '', /^\d{4}-\d{2}-\d{2}$/, `${name} says when its price was published`);
    }
    // Autocomplete: Codestral's FIM path first, DeepSeek's /beta completions as the fallback.
    const fim = config.models.codestral;
    assert.deepEqual(fim.deployments.map((d) => d.provider), ['codestral', 'deepseek-fim']);
    assert.equal(config.providers.codestral.completionsPath, '/fim/completions');
    assert.equal(config.providers['deepseek-fim'].completions, true);
    assert.equal(config.providers['deepseek-fim'].baseUrl, 'https://api.deepseek.com/beta');
    for (const [name, group] of Object.entries(config.models).filter(([n]) => chat.includes(n))) {
      assert.ok(group.price && group.price.input > 0 && group.price.output > group.price.input, `${name} has a price`);
      assert.ok(group.price.cachedInput !== undefined && group.price.cachedInput < group.price.input, `${name} has a cached price`);
      assert.match(group.price.checked ?? '', /^\d{4}-\d{2}-\d{2}$/, `${name} says when its price was published`);
      assert.ok((group.aliases ?? []).length > 0, `${name} has aliases`);
      assert.equal(group.deployments.length, 2, `${name}: official provider and relay`);
      assert.notEqual(group.deployments[0].provider, 'openrouter', `${name}: the official provider comes first`);
      assert.equal(group.deployments[1].provider, 'openrouter', `${name}: the relay is the fallback`);
      for (const d of group.deployments) assert.ok(Object.hasOwn(config.providers, d.provider), `${name}: provider ${d.provider} exists`);
    }
    assert.deepEqual(Object.keys(config.providers), ['openai', 'anthropic', 'gemini', 'deepseek', 'openrouter', 'deepseek-fim', 'codestral']);
    for (const [name, p] of Object.entries(config.providers)) {
      assert.equal(p.apiKey, undefined, `${name}: no inline key`);
      assert.equal(p.apiKeyEnv, `${name.replace(/-fim$/, '').toUpperCase()}_API_KEY`);
      // Anthropic and Gemini through their native APIs; the rest speak OpenAI's format.
      assert.equal(p.type, name === 'anthropic' || name === 'gemini' ? name : 'openai-compatible');
      assert.match(p.baseUrl, /^https:\/\//);
    }
    assert.equal(config.models['claude-sonnet-4.5'].deployments[0].model, 'claude-sonnet-4-5');
    assert.equal(config.models['deepseek-v3.2'].deployments[0].model, 'deepseek-chat');
  });

  it('have no providers with keys, so a fresh install starts in the sandbox', () => {
    assert.deepEqual(keyStatus(ConfigSchema.parse(presetConfig()), {}).withKey, []);
  });
});

describe('config: first run files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('shepherd-config-');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const schemaText = () => `${JSON.stringify(configJsonSchema(), null, 2)}\n`;

  it('writes the presets (owner-only, in an owner-only folder) and the JSON Schema beside them', async () => {
    const folder = join(dir, 'nested', 'shepherd');
    const path = join(folder, 'config.json');
    assert.deepEqual(await ensureConfigFile(path), { created: true });
    assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), presetConfig());
    assert.equal((await loadConfigFile(path)).ok, true);
    assert.equal(await readFile(join(folder, 'config.schema.json'), 'utf8'), schemaText());
    if (process.platform !== 'win32') {
      assert.equal((await stat(path)).mode & 0o777, 0o600);
      assert.equal((await stat(folder)).mode & 0o777, 0o700);
    }
  });

  it('never overwrites an existing config, but brings a stale schema up to date', async () => {
    const path = join(dir, 'config.json');
    await writeFile(path, '{"models":{}}');
    await writeFile(join(dir, 'config.schema.json'), '{"old": true}');
    assert.deepEqual(await ensureConfigFile(path), { created: false });
    assert.equal(await readFile(path, 'utf8'), '{"models":{}}');
    assert.equal(await readFile(join(dir, 'config.schema.json'), 'utf8'), schemaText());
  });
});

describe('config: keys', () => {
  const p = (extra: Partial<ProviderConfig>): ProviderConfig => ({ type: 'openai-compatible', baseUrl: 'http://x', ...extra });

  it('resolves keys inline or from the environment, treating an empty variable as unset', () => {
    assert.equal(resolveApiKey(p({ apiKey: 'inline' }), { OPENAI_API_KEY: 'env' }), 'inline');
    assert.equal(resolveApiKey(p({ apiKeyEnv: 'K' }), { K: 'v' }), 'v');
    assert.equal(resolveApiKey(p({ apiKeyEnv: 'K' }), { K: '' }), undefined);
    assert.equal(resolveApiKey(p({ apiKeyEnv: 'K' }), {}), undefined);
    assert.equal(resolveApiKey(p({}), { K: 'v' }), undefined);
  });

  it('tells which real providers have keys, lack them or need none (keyless, e.g. Ollama), ignoring sandbox ones', () => {
    const config = ConfigSchema.parse({
      providers: {
        a: { baseUrl: 'http://a', apiKeyEnv: 'A_KEY' },
        b: { baseUrl: 'http://b', apiKeyEnv: 'B_KEY' },
        c: { baseUrl: 'http://c', apiKey: 'inline-key' },
        d: { baseUrl: 'http://d' },
        s: { baseUrl: 'http://s', sandbox: true },
      },
    });
    assert.deepEqual(keyStatus(config, { A_KEY: 'x', B_KEY: '' }), { withKey: ['a', 'c'], withoutKey: ['b'], keyless: ['d'] });
  });
});

describe('config: data directory', () => {
  it('prefers the flag, then SHEPHERD_DATA_DIR, then the platform default', () => {
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      assert.equal(resolveDataDir('/flag', { SHEPHERD_DATA_DIR: '/env' }, platform, '/home/u'), '/flag');
      assert.equal(resolveDataDir(undefined, { SHEPHERD_DATA_DIR: '/env' }, platform, '/home/u'), '/env');
      assert.equal(resolveDataDir('', { SHEPHERD_DATA_DIR: '/env' }, platform, '/home/u'), '/env', 'an empty flag is unset');
    }
  });

  it('uses XDG on Linux and other Unixes', () => {
    assert.equal(resolveDataDir(undefined, {}, 'linux', '/home/u'), '/home/u/.local/share/shepherd');
    assert.equal(resolveDataDir(undefined, { SHEPHERD_DATA_DIR: '' }, 'linux', '/home/u'), '/home/u/.local/share/shepherd');
    assert.equal(resolveDataDir(undefined, { XDG_DATA_HOME: '/xdg' }, 'linux', '/home/u'), '/xdg/shepherd');
    assert.equal(resolveDataDir(undefined, { XDG_DATA_HOME: 'relative' }, 'linux', '/home/u'), '/home/u/.local/share/shepherd', 'the spec ignores a relative value');
    assert.equal(resolveDataDir(undefined, { XDG_DATA_HOME: '/xdg' }, 'freebsd', '/home/u'), '/xdg/shepherd');
    assert.equal(resolveDataDir(undefined, { XDG_DATA_HOME: '/xdg/' }, 'linux', '/home/u/'), '/xdg/shepherd', 'one separator between parts');
    assert.equal(resolveDataDir(undefined, {}, 'linux', '/home/u/'), '/home/u/.local/share/shepherd');
  });

  it('uses Application Support on macOS, even with XDG set', () => {
    assert.equal(resolveDataDir(undefined, { XDG_DATA_HOME: '/xdg' }, 'darwin', '/Users/u'), '/Users/u/Library/Application Support/Shepherd');
  });

  it('uses %APPDATA% on Windows, else the usual Roaming folder', () => {
    assert.equal(resolveDataDir(undefined, { APPDATA: 'D:\\Roaming' }, 'win32', 'C:\\Users\\u'), 'D:\\Roaming\\Shepherd');
    assert.equal(resolveDataDir(undefined, {}, 'win32', 'C:\\Users\\u'), 'C:\\Users\\u\\AppData\\Roaming\\Shepherd');
    assert.equal(resolveDataDir(undefined, { APPDATA: 'Roaming' }, 'win32', 'C:\\Users\\u'), 'C:\\Users\\u\\AppData\\Roaming\\Shepherd', 'a relative APPDATA is ignored');
  });

  it('puts config.json in the data directory', () => {
    assert.equal(configPathFor('/d'), join('/d', 'config.json'));
  });
});

describe('config: live reload', () => {
  let dir: string;
  let path: string;
  let results: LoadResult[];
  let watcher: { close(): void } | undefined;
  const initial = JSON.stringify(valid);
  const edited = (sandbox: boolean | 'auto') => JSON.stringify({ ...valid, sandbox });

  beforeEach(async () => {
    dir = await tempDir('shepherd-watch-');
    path = join(dir, 'config.json');
    await writeFile(path, initial);
    results = [];
    watcher = undefined;
  });
  afterEach(async () => {
    watcher?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const start = (options: Parameters<typeof watchConfig>[2] = {}) => {
    watcher = watchConfig(path, (r) => results.push(r), { debounceMs: 50, initialText: initial, ...options });
  };
  const waitFor = async (count: number, ms = 5_000) => {
    const deadline = Date.now() + ms;
    while (results.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} reload(s) within ${ms} ms, saw ${results.length}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const until = async (done: () => boolean, what: string) => {
    const deadline = Date.now() + 5_000;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const sandboxOf = (r: LoadResult) => (r.ok ? r.config.sandbox : `problems: ${JSON.stringify(r.problems)}`);
  const ours = (kind: string) => process.getActiveResourcesInfo().filter((k) => k === kind).length;

  it('delivers an in-place edit', async () => {
    start();
    await writeFile(path, edited(true));
    await waitFor(1);
    assert.equal(sandboxOf(results[0]), true);
  });

  it('delivers an editor-style save (write a temp file, rename it over the config), and keeps watching', async () => {
    start();
    for (const [i, value] of [false, true].entries()) {
      const tmp = join(dir, `.config.json.${i}.tmp`);
      await writeFile(tmp, edited(value));
      await rename(tmp, path);
      await waitFor(i + 1);
      assert.equal(sandboxOf(results[i]), value);
    }
  });

  it('delivers a bad edit as problems, then the fix', async () => {
    start();
    await writeFile(path, '{"models": {"x": {"deployments": []}}}');
    await waitFor(1);
    const bad = results[0];
    assert.ok(!bad.ok && bad.problems.some((p) => p.path === 'models.x.deployments'), JSON.stringify(bad));
    await writeFile(path, edited(false));
    await waitFor(2);
    assert.equal(sandboxOf(results[1]), false);
  });

  it('skips a save that leaves the text unchanged', async () => {
    let checks = 0;
    start({ onChecked: () => checks++ });
    await until(() => checks >= 1, 'the check at start');
    await writeFile(path, initial); // same text as in use
    await until(() => checks >= 2, 'that save to be checked'); // checked on its own, not merged with the next
    assert.equal(results.length, 0, 'the unchanged save was not delivered');
    await writeFile(path, edited(true));
    await waitFor(1);
    // Checks run one at a time, in order: had the unchanged save been delivered, it would be first.
    assert.equal(sandboxOf(results[0]), true);
  });

  it('catches an edit made between the caller’s load and the start of watching', async () => {
    await writeFile(path, edited(true));
    start({ initialText: initial });
    await waitFor(1);
    assert.equal(sandboxOf(results[0]), true);
  });

  it('reports a deleted config, then picks it up again when it returns', async () => {
    start();
    await unlink(path);
    await waitFor(1);
    const gone = results[0];
    assert.ok(!gone.ok && /does not exist/.test(gone.problems[0].message), JSON.stringify(gone));
    await writeFile(path, initial);
    await waitFor(2);
    assert.equal(sandboxOf(results[1]), 'auto');
  });

  it('ignores other files in the folder', async () => {
    // Each real event is handed over by a spy that sees whether handling it started a debounce
    // timer: none is pending before the config's own save (no check at start without initialText).
    const handled: { file: string | null; scheduled: boolean }[] = [];
    const spy = ((dirPath: string, listener: (event: string, file: string | null) => void) =>
      fsWatch(dirPath, (event, file) => {
        const before = ours('Timeout');
        listener(event, file);
        handled.push({ file, scheduled: ours('Timeout') > before });
      })) as unknown as typeof fsWatch;
    start({ initialText: undefined, watch: spy });
    await writeFile(join(dir, 'config.schema.json'), '{}');
    await writeFile(join(dir, 'ledger.jsonl'), '{}\n');
    const others = () => handled.filter((h) => h.file === 'config.schema.json' || h.file === 'ledger.jsonl');
    await until(() => new Set(others().map((h) => h.file)).size === 2, 'the other files\' events');
    assert.deepEqual(others().filter((h) => h.scheduled), [], 'no check scheduled for another file');
    await writeFile(path, edited(false));
    await waitFor(1);
    assert.ok(handled.some((h) => h.file === 'config.json' && h.scheduled), 'the config\'s own save schedules a check');
    assert.equal(results.length, 1);
    assert.equal(sandboxOf(results[0]), false);
  });

  it('close() cancels a pending reload and leaves no timer or watch handle behind', async () => {
    const watches = ours('FSEventWrap');
    let sawSave = false;
    // Wraps fs.watch to learn when the save's event has been handled (the debounce timer then runs).
    const spy = ((dirPath: string, listener: (event: string, file: string | null) => void) =>
      fsWatch(dirPath, (event, file) => {
        listener(event, file);
        if (file === 'config.json') sawSave = true;
      })) as unknown as typeof fsWatch;
    start({ debounceMs: 60_000, initialText: undefined, watch: spy });
    assert.equal(ours('FSEventWrap'), watches + 1, 'watching');
    await writeFile(path, edited(true));
    await until(() => sawSave, 'the save event');
    const timersBefore = ours('Timeout');
    watcher?.close();
    assert.equal(ours('Timeout'), timersBefore - 1, 'close() cleared the pending debounce timer');
    await until(() => ours('FSEventWrap') === watches, 'the watch handle to be released');
    assert.equal(results.length, 0);
  });

  it('survives a watcher error: reports that live reload stopped and releases the watch', async () => {
    const watches = ours('FSEventWrap');
    let real: FSWatcher | undefined;
    const spy = ((...args: Parameters<typeof fsWatch>) => (real = fsWatch(...args))) as typeof fsWatch;
    start({ watch: spy });
    assert.ok(real);
    real.emit('error', new Error('EMFILE: too many open files, watch'));
    await waitFor(1);
    const stopped = results[0];
    assert.ok(!stopped.ok && /live reload stopped \(EMFILE/.test(stopped.problems[0].message), JSON.stringify(stopped));
    await until(() => ours('FSEventWrap') === watches, 'the watch handle to be released');
  });

  it('reports a folder that cannot be watched instead of throwing', async () => {
    path = join(dir, 'no-such-folder', 'config.json');
    assert.doesNotThrow(() => start());
    await waitFor(1);
    const r = results[0];
    assert.ok(!r.ok && /live reload stopped/.test(r.problems[0].message), JSON.stringify(r));
  });

  it('keeps delivering after the callback throws', async () => {
    let calls = 0;
    watcher = watchConfig(
      path,
      (r) => {
        calls++;
        results.push(r);
        throw new Error('caller bug');
      },
      { debounceMs: 50, initialText: initial },
    );
    await writeFile(path, edited(true));
    await waitFor(1);
    await mkdir(join(dir, 'sub')); // unrelated event, must not matter
    await writeFile(path, edited(false));
    await waitFor(2);
    assert.equal(calls, 2);
    assert.equal(sandboxOf(results[1]), false);
  });
});
