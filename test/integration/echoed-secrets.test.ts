// An upstream whose errors echo the request's headers and body: neither the provider's secrets (its
// key, any configured header value) nor the prompt reach the client's error, the log, the ledger, the
// files in the data directory or the status endpoint's lastError.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { configFor, startHarness, type Harness } from '../support/harness';

const API_KEY = 'sk-echo-provider-key-0042';
const GATEWAY_TOKEN = 'gw-tok-8f3a91c2d4';
const ORG_HEADER = 'org-secret-5577aa';
const PROMPT = 'The purple elephant recites forbidden poetry about lighthouse keepers at dawn';
const SECRETS = [API_KEY, GATEWAY_TOKEN, ORG_HEADER];

/** Answers every request with an error that echoes everything it was sent. */
async function echoingUpstream(mode: 'json' | 'text'): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const echo = `bad gateway; you sent headers ${JSON.stringify(req.headers)} and body ${body}`;
      if (mode === 'json') {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: echo, type: 'server_error' } }));
      } else {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`token ${GATEWAY_TOKEN.slice(0)} rejected; prompt was: ${PROMPT}; ${echo}`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1` };
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

function assertClean(where: string, text: string): void {
  for (const s of SECRETS) assert.ok(!text.includes(s), `${where} holds the secret ${s}: ${text.slice(0, 400)}`);
  // Any 20-character stretch of the prompt counts as prompt text.
  for (let i = 0; i + 20 <= PROMPT.length; i += 5) {
    assert.ok(!text.includes(PROMPT.slice(i, i + 20)), `${where} holds prompt text "${PROMPT.slice(i, i + 20)}": ${text.slice(0, 400)}`);
  }
}

for (const mode of ['json', 'text'] as const) {
  for (const type of ['openai-compatible', 'anthropic'] as const) {
    describe(`an upstream (${type}) that echoes headers and prompt in its ${mode} errors`, function () {
      let h: Harness;
      let upstream: { server: Server; url: string };
      before(async () => {
        upstream = await echoingUpstream(mode);
        const base = configFor([]);
        h = await startHarness({
          ...base,
          providers: {
            echo: { type, baseUrl: upstream.url, apiKey: API_KEY, headers: { 'x-gateway-token': GATEWAY_TOKEN, 'openai-organization': `Org ${ORG_HEADER}` } },
          },
          models: { chat: { deployments: [{ provider: 'echo', model: 'm' }] } },
        });
      });
      after(async () => {
        await h.close();
        await new Promise((resolve) => upstream.server.close(resolve));
      });

      it('keeps both out of the client error, the log, the ledger, the data files and lastError', async () => {
        for (const stream of [false, true]) {
          const res = await fetch(`${h.daemon.url}/v1/chat/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ model: 'chat', stream, messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: PROMPT }] }),
          });
          const text = await res.text();
          assert.ok(res.status >= 500, text);
          assertClean('the client error', text);
          // The error still says what happened, in bounded length.
          assert.match(text, mode === 'json' ? /bad gateway/ : /rejected/);
          assert.ok(text.length < 1_000, `error of ${text.length} characters`);
        }
        const status = (await (await fetch(`${h.daemon.url}/v1/shepherd/status`)).json()) as { deployments: { lastError: string | null }[] };
        assert.ok(status.deployments[0].lastError);
        assertClean('lastError', status.deployments[0].lastError ?? '');
        const entries = await h.ledgerEntries();
        assert.equal(entries.length, 2);
        for (const e of entries) {
          assert.ok(e.error);
          assertClean('the ledger error', JSON.stringify(e));
        }
        assertClean('the log', h.logs.join('\n'));
        await h.daemon.stop(); // writes checkpoints and everything else it keeps
        for (const file of await filesUnder(h.dir)) {
          if (file === h.configPath) continue; // the config holds the secrets by design
          assertClean(file, await readFile(file, 'utf8'));
        }
      });
    });
  }
}
