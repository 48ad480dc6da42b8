// Whose fault a failure is: every adapter's verdict on an upstream status, the network-level verdicts,
// and a request that cannot be built, each carry the class health acts on.
import assert from 'node:assert/strict';
import { errors as undiciErrors } from 'undici';
import { HealthBoard } from '../../daemon/health/board';
import { classForStatus, UpstreamError, type FailureClass } from '../../daemon/core/failure';
import type { UpstreamTarget } from '../../daemon/core/target';
import { anthropic } from '../../daemon/formats/anthropic/adapter';
import { buildChatRequest } from '../../daemon/formats/build-request';
import { gemini } from '../../daemon/formats/gemini/adapter';
import { untranslatable } from '../../daemon/formats/http-status';
import { openaiCompatible } from '../../daemon/formats/openai/adapter';
import type { ProviderAdapter } from '../../daemon/formats/types';
import { checkDepth } from '../../daemon/http/body';
import { toUpstreamError } from '../../daemon/upstream/pool';
import { catalogOf } from '../support/routing-fixtures';

const openaiBody = (message: string) => JSON.stringify({ error: { message, type: 'x' } });
const anthropicBody = (type: string) => JSON.stringify({ type: 'error', error: { type, message: type } });
const geminiBody = (status: string, code: number, reason?: string) =>
  JSON.stringify({ error: { code, status, message: status, details: reason ? [{ reason }] : [] } });

describe('failure class', () => {
  const table: [number, FailureClass][] = [
    [400, 'client'],
    [404, 'client'],
    [413, 'client'],
    [422, 'client'],
    [401, 'key'],
    [403, 'key'],
    [408, 'outage'],
    [429, 'rate_limit'],
    [499, 'cancelled'],
    [500, 'outage'],
    [502, 'outage'],
    [503, 'outage'],
    [529, 'outage'],
  ];
  for (const [status, cls] of table) {
    it(`HTTP ${status} is ${cls} in every adapter`, () => {
      assert.equal(classForStatus(status), cls);
      assert.equal(openaiCompatible.classifyStatus(status, {}, openaiBody('m')).class, cls);
      assert.equal(anthropic.classifyStatus(status, {}, anthropicBody('api_error')).class, cls);
      assert.equal(gemini.classifyStatus(status, {}, geminiBody('X', status)).class, cls);
    });
  }

  it('reads the class from the provider error where the status does not tell', () => {
    assert.equal(anthropic.classifyStatus(400, {}, anthropicBody('overloaded_error')).class, 'outage');
    // Gemini answers a bad key with 400 INVALID_ARGUMENT.
    assert.equal(gemini.classifyStatus(400, {}, geminiBody('INVALID_ARGUMENT', 400, 'API_KEY_INVALID')).class, 'key');
    assert.equal(gemini.classifyStatus(400, {}, geminiBody('INVALID_ARGUMENT', 400)).class, 'client');
  });

  it('network-level failures are outages; a cancelled one is cancelled', () => {
    const cases: [unknown, FailureClass][] = [
      [Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), 'outage'],
      [Object.assign(new Error('reset'), { code: 'ECONNRESET' }), 'outage'],
      [new undiciErrors.HeadersTimeoutError(), 'outage'],
      [new undiciErrors.BodyTimeoutError(), 'outage'],
      [new Error('something else'), 'outage'],
    ];
    for (const [err, cls] of cases) assert.equal(toUpstreamError(err).failure.class, cls, String(err));
    assert.equal(toUpstreamError(new Error('x'), { aborted: true, reason: new Error('client closed') }).failure.class, 'cancelled');
  });

  it('only outages and a refused key count against a deployment', () => {
    const catalog = catalogOf({ providers: { p: { baseUrl: 'http://127.0.0.1:1/v1' } }, models: { g: { deployments: [{ provider: 'p', model: 'a' }] } } });
    for (const [cls, counts] of [['client', false], ['cancelled', false], ['rate_limit', false], ['key', true], ['outage', true]] as const) {
      const board = new HealthBoard(catalog);
      const ticket = board.begin('p/a', 0);
      assert.ok(ticket.ok);
      // A 500 status with a client class: the class decides, not the status.
      board.failure('p/a', false, { kind: 'status', class: cls, status: 500, retryable: false, message: 'm', type: 'api_error' });
      assert.equal(board.report('p/a').failures, counts ? 1 : 0, cls);
      assert.equal(board.report('p/a').inflight, 0, cls);
    }
  });
});

describe('building the upstream request', () => {
  const target = (type: ProviderAdapter['type']): UpstreamTarget => ({
    deploymentId: 'p/m',
    providerName: 'p',
    provider: { type, baseUrl: 'http://127.0.0.1:1/v1' } as UpstreamTarget['provider'],
    upstreamModel: 'm',
    apiKey: 'sk-key-123456',
  });
  let deep: unknown = 'x';
  for (let i = 0; i < 20_000; i++) deep = [deep];

  for (const adapter of [openaiCompatible, anthropic, gemini]) {
    it(`${adapter.type}: a body too deep to serialise is the client's 400, not an upstream failure`, () => {
      const body = {
        model: 'g',
        messages: [{ role: 'user', content: 'hi' }],
        tools: [{ type: 'function', function: { name: 't', parameters: { type: 'object', properties: { a: { type: 'array', items: deep } } } } }],
      };
      const built = buildChatRequest(adapter, target(adapter.type), body);
      assert.equal(built.ok, false);
      if (built.ok) return;
      assert.equal(built.failure.class, 'client');
      assert.equal(built.failure.status, 400);
      assert.equal(built.failure.retryable, false);
      assert.equal(built.failure.code, 'request_not_translatable');
      assert.equal(built.failure.type, 'invalid_request_error');
    });
  }

  it("keeps an adapter's own verdict, as the client's error", () => {
    const thrower: ProviderAdapter = {
      ...openaiCompatible,
      chatRequest() {
        throw new UpstreamError(untranslatable('no audio parts'));
      },
    };
    const built = buildChatRequest(thrower, target('openai-compatible'), { model: 'g', messages: [] });
    assert.ok(!built.ok && built.failure.message === 'no audio parts' && built.failure.class === 'client' && built.failure.code === 'unsupported_by_provider');
  });
});

describe('JSON nesting depth', () => {
  const enc = (s: string) => Buffer.from(s);
  it('accepts nesting up to the limit and refuses one level more, naming the limit and where', () => {
    checkDepth(enc('['.repeat(5) + ']'.repeat(5)), 5);
    checkDepth(enc('{"a":{"b":[1,{"c":[]}]}}'), 5);
    assert.throws(
      () => checkDepth(enc('{"a":' + '['.repeat(5) + ']'.repeat(5) + '}'), 5),
      (err: { status: number; code: string; message: string }) =>
        err.status === 400 && err.code === 'json_too_deep' && /more than 5 levels deep \(at byte 9\)/.test(err.message),
    );
  });
  it('does not count brackets inside strings, escaped quotes included', () => {
    checkDepth(enc(JSON.stringify({ s: '[[[[[[[[[[{{{{{{{{"\\\\"[[[[[' })), 2);
    assert.throws(() => checkDepth(enc(JSON.stringify({ s: 'a"b\\' }).slice(0, -1) + ',"t":[[[]]]}'), 2));
  });
});
