// The sandbox is never mistaken for the real thing (issue 14): a provider that needs no key is real,
// sandbox spend stays out of budgets and real totals, and the embedded upstreams' ports are shown and
// their faults can be scripted through the daemon.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { ShepherdConfigInput } from '../../shared/config';
import { startHarness, startSandboxes, type Harness } from '../support/harness';

const root = resolve(__dirname, '../..');
const daemonJs = join(root, 'dist/daemon.js');
const noProbes = { health: { probes: { enabled: false } }, retry: { rounds: 0 } } as const;

async function chat(h: Harness, model: string): Promise<Response> {
  return fetch(`${h.daemon.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }] }),
  });
}

async function getJson<T>(h: Harness, path: string): Promise<T> {
  const res = await fetch(`${h.daemon.url}${path}`);
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as T;
}

interface Status {
  sandbox: boolean;
  sandboxUpstreams: { provider: string; region: string; url: string }[];
}

describe('sandbox integrity: a provider that needs no key is a real provider', function () {
  this.timeout(20_000);

  it('with "sandbox": "auto" and only a keyless provider (Ollama), serves that provider, not the sandbox', async () => {
    // A test sandbox plays the local Ollama server: configured as an ordinary provider, with no key.
    const [ollama] = await startSandboxes(1);
    const config: ShepherdConfigInput = {
      sandbox: 'auto',
      providers: { ollama: { baseUrl: ollama.url } },
      models: { llama: { deployments: [{ provider: 'ollama', model: 'llama3.2' }] } },
      routing: noProbes,
    };
    const h = await startHarness(config, { sandboxes: [ollama] });
    try {
      assert.equal(h.daemon.sandbox(), false);
      const before = ollama.requests.length;
      const res = await chat(h, 'llama');
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal(res.headers.get('x-shepherd-sandbox'), null);
      assert.equal(ollama.requests.length, before + 1, 'the keyless provider got the request');
      assert.equal((ollama.requests.at(-1)?.body as { model: string }).model, 'llama3.2');
      const status = await getJson<Status>(h, '/v1/shepherd/status');
      assert.equal(status.sandbox, false);
      assert.deepEqual(status.sandboxUpstreams, []);
      const [entry] = await h.ledgerEntries();
      assert.equal(entry.provider, 'ollama');
      assert.equal(entry.sandbox, undefined);
    } finally {
      await h.close();
    }
  });

  it('still serves the sandbox when every provider needs a key that is not set', async () => {
    const config: ShepherdConfigInput = {
      sandbox: 'auto',
      providers: { openai: { baseUrl: 'http://127.0.0.1:9/v1', apiKeyEnv: 'OPENAI_API_KEY' } },
      models: { 'gpt-4.1': { deployments: [{ provider: 'openai', model: 'gpt-4.1' }] } },
      routing: noProbes,
    };
    const h = await startHarness(config);
    try {
      assert.equal(h.daemon.sandbox(), true);
      const res = await chat(h, 'gpt-4.1');
      assert.equal(res.headers.get('x-shepherd-sandbox'), 'true');
    } finally {
      await h.close();
    }
  });
});

describe('sandbox integrity: the embedded upstreams can be reached', function () {
  this.timeout(30_000);
  let h: Harness;
  before(async () => {
    h = await startHarness({
      sandbox: true,
      models: { 'gpt-4.1': { price: { input: 2, output: 8 }, deployments: [{ provider: 'openai', model: 'gpt-4.1' }] } },
      providers: { openai: { baseUrl: 'http://127.0.0.1:9/v1', apiKeyEnv: 'OPENAI_API_KEY' } },
      routing: noProbes,
    });
  });
  after(() => h.close());

  it('lists their URLs in status and in the start log', async () => {
    const status = await getJson<Status>(h, '/v1/shepherd/status');
    assert.equal(status.sandbox, true);
    assert.deepEqual(status.sandboxUpstreams.map((u) => [u.provider, u.region]), [['sandbox-us', 'us-east'], ['sandbox-eu', 'eu-west']]);
    for (const u of status.sandboxUpstreams) {
      assert.match(u.url, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
      assert.equal((await fetch(`${u.url}/models`)).status, 200, `${u.provider} answers at its URL`);
      assert.ok(h.logs.some((line) => line.includes(`${u.provider} ${u.url}`)), `the start log names ${u.provider} ${u.url}`);
    }
  });

  it('scripts faults into one of them through POST /v1/shepherd/sandbox/faults, and clears them', async () => {
    const { sandboxUpstreams } = await getJson<Status>(h, '/v1/shepherd/status');
    const us = sandboxUpstreams.find((u) => u.provider === 'sandbox-us')!;
    const eu = sandboxUpstreams.find((u) => u.provider === 'sandbox-eu')!;
    const post = (body: unknown) =>
      fetch(`${h.daemon.url}/v1/shepherd/sandbox/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const direct = (u: { url: string }) =>
      fetch(`${u.url}/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'x' }] }) });

    const set = await post({ provider: 'sandbox-us', rules: [{ fault: { type: 'status', status: 503 } }] });
    assert.equal(set.status, 200, await set.clone().text());
    assert.equal((await direct(us)).status, 503);
    assert.equal((await direct(eu)).status, 200, 'only the named upstream is scripted');

    const bad = await post({ provider: 'sandbox-mars', rules: [] });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /sandbox-us/);
    const invalid = await post({ rules: [{ fault: { type: 'status', status: 200 } }] });
    assert.equal(invalid.status, 400);
    assert.match(((await invalid.json()) as { error: { message: string } }).error.message, /rules\.0\.fault/);

    assert.equal((await post({ rules: [] })).status, 200, 'no provider: all of them');
    assert.equal((await direct(us)).status, 200);
  });

  it('scripts them from the command line: shepherd sandbox faults', async () => {
    const { sandboxUpstreams } = await getJson<Status>(h, '/v1/shepherd/status');
    const eu = sandboxUpstreams.find((u) => u.provider === 'sandbox-eu')!;
    // Not spawnSync: the daemon runs in this process and must go on answering.
    const cli = (...args: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
        execFile(process.execPath, [daemonJs, 'sandbox', 'faults', '--data-dir', h.dir, ...args], { timeout: 15_000 }, (err, stdout, stderr) =>
          done({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
        );
      });
    const set = await cli('--provider', 'sandbox-eu', '--rules', '[{"fault":{"type":"status","status":429,"retryAfterSeconds":3},"count":1}]');
    assert.equal(set.status, 0, set.stderr);
    assert.match(set.stdout, /sandbox-eu .*1 rule/);
    const res = await fetch(`${eu.url}/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'x' }] }) });
    assert.equal(res.status, 429);
    const cleared = await cli('--clear');
    assert.equal(cleared.status, 0, cleared.stderr);
    assert.match(cleared.stdout, /sandbox-us .*no faults/);
    const usage = await cli();
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /--rules JSON or --clear/);
  });
});

describe('sandbox integrity: the fault route when no sandbox serves', function () {
  this.timeout(20_000);
  it('answers 409', async () => {
    const [real] = await startSandboxes(1);
    const h = await startHarness(
      { sandbox: false, providers: { up: { baseUrl: real.url, apiKey: 'sk-test-0-secret' } }, models: { chat: { deployments: [{ provider: 'up', model: 'm' }] } }, routing: noProbes },
      { sandboxes: [real] },
    );
    try {
      const res = await fetch(`${h.daemon.url}/v1/shepherd/sandbox/faults`, { method: 'POST', body: JSON.stringify({ rules: [] }) });
      assert.equal(res.status, 409);
    } finally {
      await h.close();
    }
  });
});

describe('sandbox integrity: sandbox spend is not real spend', function () {
  this.timeout(30_000);
  it('leaves sandbox requests out of budgets and real totals, and shows them apart in /v1/shepherd/spend', async () => {
    const h = await startHarness({
      sandbox: true,
      providers: { openai: { baseUrl: 'http://127.0.0.1:9/v1', apiKeyEnv: 'OPENAI_API_KEY' } },
      models: { 'gpt-4.1': { price: { input: 2000, output: 8000 }, deployments: [{ provider: 'openai', model: 'gpt-4.1' }] } },
      budgets: { hard: { limitUsd: 0.000001, action: 'block' } },
      routing: noProbes,
    });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await chat(h, 'gpt-4.1');
        assert.equal(res.status, 200, `request ${i}: not blocked by simulated spend: ${await res.clone().text()}`);
      }
      const entries = await h.ledgerEntries();
      assert.ok(entries.every((e) => e.sandbox === true && e.costUsd > 0), 'the ledger keeps the simulated price, marked sandbox');
      const [budget] = await getJson<{ spentUsd: number }[]>(h, '/v1/shepherd/budgets');
      assert.equal(budget.spentUsd, 0);
      const report = await getJson<{ totals: { requests: number; costUsd: number }; month: { spentUsd: number }; sandbox?: { totals: { requests: number; costUsd: number } } }>(
        h,
        '/v1/shepherd/spend',
      );
      assert.equal(report.totals.requests, 0);
      assert.equal(report.totals.costUsd, 0);
      assert.equal(report.month.spentUsd, 0);
      assert.equal(report.sandbox?.totals.requests, 3);
      assert.ok((report.sandbox?.totals.costUsd ?? 0) > 0);
    } finally {
      await h.close();
    }
  });
});
