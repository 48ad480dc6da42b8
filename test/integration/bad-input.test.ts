// Hostile and broken input: every case gets a clear OpenAI-style error naming the problem, nothing
// already recorded is lost, and the daemon keeps serving.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import OpenAI from 'openai';
import { configFor, startHarness, startSandboxes, type Harness } from '../support/harness';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw request, so tests control every header and byte (fetch forbids setting Host). */
function send(url: string, options: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<Reply> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: u.hostname, port: u.port, method: options.method ?? 'POST', path: options.path ?? '/v1/chat/completions', headers: options.headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Writes raw bytes on a fresh connection and returns everything the daemon sent before closing it. */
function rawExchange(url: string, bytes: string): Promise<string> {
  const u = new URL(url);
  return new Promise<string>((resolve, reject) => {
    const socket = connect(Number(u.port), u.hostname, () => socket.write(Buffer.from(bytes, 'latin1')));
    let data = '';
    socket.on('data', (d) => (data += d.toString('utf8')));
    socket.on('close', () => resolve(data));
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? resolve(data) : reject(err)));
  });
}

function splitResponse(text: string): [string, string] {
  const end = text.indexOf('\r\n\r\n');
  return end < 0 ? [text, ''] : [text.slice(0, end + 2), text.slice(end + 4)];
}

function errorOf(reply: Reply): { message: string; type: string; code: string | null; param?: string | null } {
  const parsed = JSON.parse(reply.body) as { error: { message: string; type: string; code: string | null; param?: string | null } };
  assert.equal(typeof parsed.error.message, 'string');
  return parsed.error;
}

describe('bad input and safety', function () {
  let h: Harness;
  before(async () => {
    const sandboxes = await startSandboxes(1);
    h = await startHarness(configFor(sandboxes, { server: { bodyLimitBytes: 4096, allowedOrigins: ['http://localhost:5173'] } }), { sandboxes });
    // One request recorded up front: nothing below may lose it.
    await h.client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'first' }] });
  });
  after(async () => {
    // The daemon is still up and the first ledger line is intact.
    const health = await fetch(`${h.daemon.url}/healthz`);
    assert.equal(health.status, 200);
    const entries = await h.ledgerEntries();
    assert.ok(entries.length >= 1 && entries[0].ok);
    await h.close();
  });

  const cases: { name: string; body: string | Buffer; status: number; message: RegExp; code?: string }[] = [
    { name: 'malformed JSON', body: '{"model": "chat", "messages": [', status: 400, message: /not valid JSON/, code: 'invalid_json' },
    { name: 'an empty body', body: '', status: 400, message: /empty/ },
    { name: 'a JSON array', body: '[1,2,3]', status: 400, message: /must be a JSON object/ },
    { name: 'a missing model', body: JSON.stringify({ messages: [{ role: 'user', content: 'x' }] }), status: 400, message: /^model: required/ },
    { name: 'missing messages', body: JSON.stringify({ model: 'chat' }), status: 400, message: /^messages: required/ },
    { name: 'a model of the wrong type', body: JSON.stringify({ model: 42, messages: [{ role: 'user' }] }), status: 400, message: /^model: / },
    { name: 'a message without a role', body: JSON.stringify({ model: 'chat', messages: [{ content: 'x' }] }), status: 400, message: /^messages\[0\]\.role/ },
    { name: 'stream of the wrong type', body: JSON.stringify({ model: 'chat', messages: [{ role: 'user' }], stream: 'yes' }), status: 400, message: /^stream: / },
    { name: 'invalid UTF-8 bytes', body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), status: 400, message: /not valid UTF-8: byte 1 \(0xff\)/, code: 'invalid_utf8' },
    {
      // Decoding would quietly make this model "chat\ufffd"; a client must hear where its bytes went wrong.
      name: 'invalid UTF-8 inside a JSON string',
      body: Buffer.concat([Buffer.from('{"model":"ch'), Buffer.from([0xc3, 0x28]), Buffer.from('at","messages":[{"role":"user","content":"x"}]}')]),
      status: 400,
      message: /not valid UTF-8: byte 13 \(0x28\)/,
      code: 'invalid_utf8',
    },
    { name: 'nesting deeper than server.maxJsonDepth', body: `{"model":"chat","messages":[{"role":"user","content":${'['.repeat(200)}${']'.repeat(200)}}]}`, status: 400, message: /more than 100 levels deep/, code: 'json_too_deep' },
    {
      name: 'an unknown model',
      body: JSON.stringify({ model: 'gpt-9', messages: [{ role: 'user', content: 'x' }] }),
      status: 404,
      message: /"gpt-9" is not configured; available: chat/,
      code: 'model_not_found',
    },
    {
      name: 'a body over the limit',
      body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'x'.repeat(10_000) }] }),
      status: 413,
      message: /larger than the limit of 4096 bytes \(server.bodyLimitBytes\)/,
      code: 'request_too_large',
    },
  ];
  for (const c of cases) {
    it(`refuses ${c.name} with ${c.status} and a message naming the problem`, async () => {
      const reply = await send(h.daemon.url, { body: c.body, headers: { 'content-type': 'application/json' } });
      assert.equal(reply.status, c.status, reply.body);
      const error = errorOf(reply);
      assert.match(error.message, c.message);
      if (c.code) assert.equal(error.code, c.code);
    });
  }

  it('refuses an unknown model through the openai client as NotFoundError, and records the refusal', async () => {
    await assert.rejects(h.client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }), OpenAI.NotFoundError);
    const entry = (await h.ledgerEntries()).find((e) => e.requestedModel === 'nope');
    assert.ok(entry, 'a ledger line for the refused request');
    assert.equal(entry.status, 404);
    assert.equal(entry.ok, false);
    assert.equal(entry.model, null);
    assert.equal(entry.attempts, 0);
    assert.match(entry.error ?? '', /not configured/);
  });

  it('refuses a Host that is not a loopback name (DNS rebinding)', async () => {
    const reply = await send(h.daemon.url, { method: 'GET', path: '/v1/models', headers: { host: 'attacker.example:4210' } });
    assert.equal(reply.status, 403);
    assert.match(errorOf(reply).message, /"attacker.example" is not a loopback name/);
  });

  it('refuses a browser request from another origin, allows a configured one with CORS headers', async () => {
    const hostile = await send(h.daemon.url, { method: 'GET', path: '/v1/models', headers: { origin: 'https://evil.example' } });
    assert.equal(hostile.status, 403);
    assert.match(errorOf(hostile).message, /origin "https:\/\/evil.example" is not allowed/);
    const preflight = await send(h.daemon.url, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    assert.equal(preflight.status, 403);
    const allowed = await send(h.daemon.url, { method: 'GET', path: '/v1/models', headers: { origin: 'http://localhost:5173' } });
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers['access-control-allow-origin'], 'http://localhost:5173');
    const allowedPreflight = await send(h.daemon.url, { method: 'OPTIONS', headers: { origin: 'http://localhost:5173' } });
    assert.equal(allowedPreflight.status, 204);
  });

  it('answers unknown routes with 404 and wrong methods with 405', async () => {
    const missing = await send(h.daemon.url, { method: 'GET', path: '/v1/nothing' });
    assert.equal(missing.status, 404);
    const wrong = await send(h.daemon.url, { method: 'GET', path: '/v1/chat/completions' });
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.allow, 'POST');
  });

  const malformed: { name: string; bytes: string; status: number; code: string; message: RegExp }[] = [
    { name: 'garbage that is not HTTP', bytes: 'NOT HTTP AT ALL\r\n\r\n', status: 400, code: 'malformed_http', message: /not valid HTTP\/1.1: invalid method/ },
    { name: 'binary garbage', bytes: '\x00\x01\x02\xff\r\n\r\n', status: 400, code: 'malformed_http', message: /not valid HTTP/ },
    {
      name: 'oversized headers',
      bytes: `GET /v1/models HTTP/1.1\r\nhost: localhost\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`,
      status: 431,
      code: 'headers_too_large',
      message: /headers are larger than the server accepts/,
    },
    { name: 'a bad Content-Length', bytes: 'POST /v1/chat/completions HTTP/1.1\r\nhost: localhost\r\ncontent-length: abc\r\n\r\n', status: 400, code: 'invalid_content_length', message: /Content-Length header is not a valid number/ },
    { name: 'two Content-Lengths', bytes: 'POST /v1/chat/completions HTTP/1.1\r\nhost: localhost\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\n', status: 400, code: 'invalid_content_length', message: /more than one Content-Length/ },
    {
      name: 'Content-Length with Transfer-Encoding',
      bytes: 'POST /v1/chat/completions HTTP/1.1\r\nhost: localhost\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n',
      status: 400,
      code: 'conflicting_length',
      message: /both Content-Length and Transfer-Encoding/,
    },
    { name: 'a bad chunk size', bytes: 'POST /v1/chat/completions HTTP/1.1\r\nhost: localhost\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n', status: 400, code: 'invalid_chunked_body', message: /invalid chunk size/ },
  ];
  for (const c of malformed) {
    it(`answers ${c.name} with ${c.status} and an OpenAI-shaped error, and keeps serving`, async () => {
      const answer = await rawExchange(h.daemon.url, c.bytes);
      const [head, body] = splitResponse(answer);
      assert.match(head, new RegExp(`^HTTP/1.1 ${c.status} `), answer.slice(0, 200));
      assert.match(head, /\r\ncontent-type: application\/json\r\n/);
      assert.match(head, /\r\nx-request-id: shep-/);
      assert.equal(Number(/\r\ncontent-length: (\d+)/.exec(head)?.[1]), Buffer.byteLength(body));
      const error = (JSON.parse(body) as { error: { message: string; type: string; code: string; param: null } }).error;
      assert.equal(error.type, 'invalid_request_error');
      assert.equal(error.code, c.code);
      assert.match(error.message, c.message);
      assert.equal((await fetch(`${h.daemon.url}/healthz`)).status, 200);
    });
  }

  it('accepts a JSON body whatever its Content-Type (curl -d sends form-urlencoded), and answers a non-JSON one with the JSON error', async () => {
    const json = JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'x' }] });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-8']) {
      const ok = await send(h.daemon.url, { body: json, headers: { 'content-type': type } });
      assert.equal(ok.status, 200, `${type}: ${ok.body}`);
    }
    const none = await send(h.daemon.url, { body: json });
    assert.equal(none.status, 200, none.body);
    const bad = await send(h.daemon.url, { body: 'model=chat&messages=hi', headers: { 'content-type': 'text/plain' } });
    assert.equal(bad.status, 400);
    assert.equal(errorOf(bad).code, 'invalid_json');
  });

  it('survives a client that disconnects halfway through sending a body', async () => {
    const url = new URL(h.daemon.url);
    await new Promise<void>((resolve) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write('POST /v1/chat/completions HTTP/1.1\r\nhost: localhost\r\ncontent-length: 1000\r\n\r\n{"model":"ch');
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 50);
      });
      socket.on('error', () => resolve());
    });
    const health = await fetch(`${h.daemon.url}/healthz`);
    assert.equal(health.status, 200);
  });
});

describe('local API key', function () {
  let h: Harness;
  before(async () => {
    const sandboxes = await startSandboxes(1);
    h = await startHarness(configFor(sandboxes, { server: { apiKeys: ['local-secret-123'], apiKeysEnv: 'LOCAL_KEYS' } }), {
      sandboxes,
      clientOptions: { apiKey: 'local-secret-123' },
      start: { env: { LOCAL_KEYS: 'env-key-aaaaaaaa, env-key-bbbbbbbb' } },
    });
  });

  it('also accepts each key listed in the server.apiKeysEnv variable', async () => {
    for (const apiKey of ['env-key-aaaaaaaa', 'env-key-bbbbbbbb']) {
      const client = new OpenAI({ baseURL: `${h.daemon.url}/v1`, apiKey, maxRetries: 0 });
      assert.ok((await client.models.list()).data.length > 0, apiKey);
    }
  });
  after(() => h.close());

  it('serves clients that send the key', async () => {
    const res = await h.client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'x' }] });
    assert.ok(res.choices.length > 0);
  });

  it('refuses clients without it or with a wrong one (401), but liveness stays open', async () => {
    const none = await send(h.daemon.url, { body: JSON.stringify({ model: 'chat', messages: [{ role: 'user' }] }) });
    assert.equal(none.status, 401);
    assert.equal(errorOf(none).type, 'authentication_error');
    const wrong = new OpenAI({ baseURL: `${h.daemon.url}/v1`, apiKey: 'wrong', maxRetries: 0 });
    await assert.rejects(wrong.models.list(), OpenAI.AuthenticationError);
    assert.equal((await fetch(`${h.daemon.url}/healthz`)).status, 200);
  });
});
