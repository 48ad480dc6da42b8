import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { ServerSchema } from '../../shared/config';
import { checkApiKey, checkHost, checkOrigin } from '../../daemon/http/guard';
import { HttpError } from '../../daemon/core/http-error';
import { parseChatRequest } from '../../daemon/formats/openai/client-request';

const server = ServerSchema.parse({ allowedOrigins: ['http://localhost:3000'] });
const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
const refused = (fn: () => unknown, status: number, pattern: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof HttpError && e.status === status && pattern.test(e.message));

describe('guard: Host (DNS rebinding)', () => {
  it('accepts loopback names with and without ports', () => {
    for (const host of ['localhost:4210', '127.0.0.1:4210', '127.0.0.1', '[::1]:4210', 'app.localhost']) {
      assert.doesNotThrow(() => checkHost(req({ host }), server), host);
    }
  });
  it('refuses any other name, naming it', () => {
    refused(() => checkHost(req({ host: 'evil.example:4210' }), server), 403, /"evil.example" is not a loopback name/);
  });
  it('accepts names listed in allowedHosts', () => {
    assert.doesNotThrow(() => checkHost(req({ host: 'box.lan' }), ServerSchema.parse({ allowedHosts: ['box.lan'] })));
  });
});

describe('guard: Origin', () => {
  it('lets non-browser clients through', () => {
    assert.equal(checkOrigin(req({}), server), null);
  });
  it('allows configured origins and refuses others, including null', () => {
    assert.equal(checkOrigin(req({ origin: 'http://localhost:3000' }), server), 'http://localhost:3000');
    refused(() => checkOrigin(req({ origin: 'https://evil.example' }), server), 403, /server.allowedOrigins/);
    refused(() => checkOrigin(req({ origin: 'null' }), server), 403, /"null"/);
  });
});

describe('guard: local API key', () => {
  it('requires nothing when no key is configured', () => {
    assert.doesNotThrow(() => checkApiKey(req({}), []));
  });
  it('accepts a configured key as Bearer or x-api-key and refuses missing or wrong ones', () => {
    const keys = ['local-key-123456'];
    assert.doesNotThrow(() => checkApiKey(req({ authorization: 'Bearer local-key-123456' }), keys));
    assert.doesNotThrow(() => checkApiKey(req({ 'x-api-key': 'local-key-123456' }), keys));
    refused(() => checkApiKey(req({}), keys), 401, /requires a local API key/);
    refused(() => checkApiKey(req({ authorization: 'Bearer nope' }), keys), 401, /not valid/);
  });
});

describe('request validation', () => {
  const bad = (body: unknown, pattern: RegExp) => refused(() => parseChatRequest(body), 400, pattern);
  it('names the missing or mistyped field', () => {
    bad({ messages: [{ role: 'user', content: 'x' }] }, /^model: required/);
    bad({ model: 'm' }, /^messages: required/);
    bad({ model: 'm', messages: [] }, /^messages: must contain at least one message/);
    bad({ model: 7, messages: [{ role: 'user' }] }, /^model: /);
    bad({ model: 'm', messages: [{ content: 'no role' }] }, /^messages\[0\]\.role: required/);
    bad({ model: 'm', messages: [{ role: 'user' }], stream: 'yes' }, /^stream: /);
    bad({ model: 'm', messages: [{ role: 'user' }], max_tokens: -1 }, /^max_tokens: /);
    bad([1, 2], /must be a JSON object/);
    bad('text', /must be a JSON object/);
  });
  it('returns the client object itself so unknown fields pass through', () => {
    const body = { model: 'm', messages: [{ role: 'user', content: 'x', name: 'n' }], tools: [], custom: { a: 1 } };
    assert.equal(parseChatRequest(body), body);
  });
});
