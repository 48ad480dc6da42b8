// No request shape a client controls may move a deployment's health: a request the router cannot
// build, parse or send because of what is in it is the client's error (400), never an upstream failure.
import assert from 'node:assert/strict';
import { mulberry32 } from '../../daemon/sandbox/text';
import { configFor, startHarness, startSandboxes, type Harness } from '../support/harness';
import type { ShepherdConfigInput } from '../../shared/config';

interface DeploymentStatus {
  id: string;
  requests: number;
  failures: number;
  consecutiveFailures: number;
  circuit: string;
  lastError: string | null;
}

const GROUPS = { oa: 'openai-compatible', an: 'anthropic', ge: 'gemini' } as const;

async function health(h: Harness): Promise<Map<string, Omit<DeploymentStatus, 'requests' | 'id'>>> {
  const status = (await (await fetch(`${h.daemon.url}/v1/shepherd/status`)).json()) as { deployments: DeploymentStatus[]; groups: { name: string; down: boolean }[] };
  for (const g of status.groups) assert.equal(g.down, false, `group ${g.name} is down`);
  return new Map(status.deployments.map((d) => [d.id, { failures: d.failures, consecutiveFailures: d.consecutiveFailures, circuit: d.circuit, lastError: d.lastError }]));
}

function post(h: Harness, path: string, body: string): Promise<Response> {
  return fetch(`${h.daemon.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
}

/** `depth` levels of nested arrays around a string: `[[[..."x"...]]]`. */
function nested(depth: number): string {
  return '['.repeat(depth) + '"x"' + ']'.repeat(depth);
}

function chatBody(model: string, deep: string): string {
  return `{"model":"${model}","messages":[{"role":"user","content":"hi","extra":${deep}}]}`;
}

/** The deep value inside a tool's parameters schema, which every adapter carries upstream. */
function toolsBody(model: string, deep: string): string {
  return `{"model":"${model}","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"t","parameters":{"type":"object","properties":{"a":{"type":"array","items":${deep}}}}}}]}`;
}

function messagesBody(model: string, deep: string): string {
  return `{"model":"${model}","max_tokens":16,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"t","input_schema":{"type":"object","x":${deep}}}]}`;
}

function config(sandboxUrl: { openai: string; anthropic: string; gemini: string }, extra: Partial<ShepherdConfigInput> = {}): ShepherdConfigInput {
  const base = configFor([]);
  return {
    ...base,
    providers: {
      oa: { type: 'openai-compatible', baseUrl: sandboxUrl.openai, apiKey: 'sk-oa-secret' },
      an: { type: 'anthropic', baseUrl: sandboxUrl.anthropic, apiKey: 'sk-an-secret' },
      ge: { type: 'gemini', baseUrl: sandboxUrl.gemini, apiKey: 'sk-ge-secret' },
    },
    models: Object.fromEntries(
      Object.keys(GROUPS).map((g) => [g, { deployments: [{ provider: g, model: `${g}-model` }, { provider: g, model: `${g}-model-b` }] }]),
    ),
    ...extra,
  };
}

describe('client-controlled shapes never move health', function () {
  this.timeout(60_000);
  let h: Harness;
  before(async () => {
    const sandboxes = await startSandboxes(1);
    h = await startHarness(config(sandboxes[0].urls), { sandboxes });
  });
  after(() => h.close());

  for (const group of Object.keys(GROUPS)) {
    for (const [path, make] of [
      ['/v1/chat/completions', chatBody],
      ['/v1/messages', messagesBody],
    ] as const) {
      it(`a 6,000-deep body on ${path} to ${GROUPS[group as keyof typeof GROUPS]} is a 400 naming the depth limit; health unchanged`, async () => {
        const before = await health(h);
        for (let i = 0; i < 3; i++) {
          const res = await post(h, path, make(group, nested(6_000)));
          const text = await res.text();
          assert.equal(res.status, 400, text);
          assert.match(text, /nest/i);
          assert.match(text, /more than 100 levels deep .*server\.maxJsonDepth/);
          if (path === '/v1/chat/completions') assert.match(text, /"code":"json_too_deep"/);
        }
        assert.deepEqual(await health(h), before);
      });
    }
  }
});

describe('a request that cannot be built for the upstream is the client\'s error', function () {
  this.timeout(60_000);
  let h: Harness;
  before(async () => {
    const sandboxes = await startSandboxes(1);
    // The depth check is lifted, so the deep body reaches the adapters and fails there.
    h = await startHarness(config(sandboxes[0].urls, { server: { maxJsonDepth: 100_000 } }), { sandboxes });
  });
  after(() => h.close());

  for (const group of Object.keys(GROUPS)) {
    it(`${GROUPS[group as keyof typeof GROUPS]}: 400 request_not_translatable, upstream never reached, health unchanged`, async () => {
      const before = await health(h);
      const seen = h.sandboxes[0].requests.length;
      for (let i = 0; i < 3; i++) {
        const res = await post(h, '/v1/chat/completions', toolsBody(group, nested(12_000)));
        const body = (await res.json()) as { error: { type: string; code: string; message: string } };
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(body.error.type, 'invalid_request_error');
        assert.equal(body.error.code, 'request_not_translatable');
        assert.ok(res.headers.get('x-request-id'));
      }
      assert.equal(h.sandboxes[0].requests.length, seen, 'the upstream was never reached');
      assert.deepEqual(await health(h), before);
      const entries = (await h.ledgerEntries()).filter((e) => e.requestedModel === group);
      assert.ok(entries.length >= 3 && entries.every((e) => e.status === 400 && e.error?.includes('could not be translated')));
      assert.ok(entries.every((e) => e.attempts === 0), 'nothing was sent, so no attempt is counted');
      assert.ok(!h.logs.some((l) => l.includes('upstream attempt failed') && l.includes('could not be translated')), 'not logged as an upstream failure');
    });
  }
});

/** Stands for ~7,000 levels of nested arrays, put into the request text after JSON.stringify. */
const DEEP = '\u0001deep\u0001';

/** Random client-controlled request shapes: weird types in every field, deep and wide values, odd tool schemas. */
class Shapes {
  /** How often a field gets a weird value instead of a good one; set per case, so some cases are clean. */
  p = 0.3;
  constructor(private readonly r: () => number) {}
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.r() * xs.length)];
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
  nestedValue(depth: number): unknown {
    let v: unknown = this.scalar();
    for (let i = 0; i < depth; i++) v = this.chance(0.5) ? [v] : { [this.pick(['a', 'type', 'items', 'properties', '$ref', ''])]: v };
    return v;
  }
  scalar(): unknown {
    return this.pick([null, true, false, 0, -1, 1e308, -0.5, 2 ** 53 + 1, '', 'x', '\u0000', '\ud83d\ude00', '"]}', 'A'.repeat(1000)]);
  }
  weird(): unknown {
    // Deeper than any limit: spliced into the JSON text afterwards (see DEEP), not built as an object.
    if (this.chance(0.03)) return DEEP;
    const depth = this.pick([0, 1, 3, 20, 60, 90]);
    return this.chance(0.3) ? this.scalar() : this.nestedValue(depth);
  }
  maybeWeird<T>(good: () => T, p = this.p): unknown {
    return this.chance(p) ? this.weird() : good();
  }
  schema(): unknown {
    return this.pick<() => unknown>([
      () => ({ type: 'object', properties: { a: { type: 'string' } }, required: ['a'] }),
      () => ({ type: 'object', properties: { a: this.nestedValue(this.pick([5, 40, 90])) } }),
      () => ({ type: this.weird(), properties: this.weird(), required: this.weird() }),
      () => ({ $ref: '#', definitions: { x: { $ref: '#/definitions/x' } } }),
      () => ({ anyOf: [this.weird(), { type: 'null' }], enum: [this.weird()] }),
      () => this.weird(),
    ])();
  }
  content(): unknown {
    if (!this.chance(this.p)) return this.pick(['hello', 'B'.repeat(this.pick([10_000, 300_000]))]);
    return this.pick<() => unknown>([
      () => [{ type: 'text', text: 'hi' }, { type: 'image_url', image_url: { url: this.maybeWeird(() => 'data:image/png;base64,AAAA') } }],
      () => [{ type: this.pick(['text', 'input_audio', 'file', 'refusal', 'weird', '']), text: this.weird() }],
      () => [this.weird(), this.weird()],
      () => this.weird(),
    ])();
  }
  message(): unknown {
    if (this.chance(this.p / 3)) return this.weird();
    const weirdRole = this.chance(this.p);
    const role = weirdRole ? this.pick(['developer', 'tool', 'function', '', 'ROOT']) : this.pick(['user', 'user', 'system']);
    const m: Record<string, unknown> = { role, content: this.content() };
    if (this.chance(this.p)) m.tool_calls = this.maybeWeird(() => [{ id: 'c1', type: 'function', function: { name: 'f', arguments: this.pick(['{}', '{', '[[[', 'null']) } }]);
    if (this.chance(this.p)) m.tool_call_id = this.weird();
    if (this.chance(this.p)) m.name = this.weird();
    return m;
  }
  chat(model: string): Record<string, unknown> {
    const body: Record<string, unknown> = {
      model: this.chance(this.p / 5) ? this.weird() : model,
      messages: this.chance(this.p / 5) ? this.weird() : Array.from({ length: 1 + Math.floor(this.r() * 3) }, () => this.message()),
    };
    const optional: [string, () => unknown][] = [
      ['stream', () => this.maybeWeird(() => this.chance(0.5))],
      ['stream_options', () => this.maybeWeird(() => ({ include_usage: true }))],
      ['max_tokens', () => this.maybeWeird(() => 8)],
      ['max_completion_tokens', () => (this.chance(this.p) ? this.pick([0, -3, 1.5, 1e12, '8']) : 8)],
      ['temperature', () => this.maybeWeird(() => 0.5)],
      ['n', () => (this.chance(this.p) ? this.pick([2, 0, -1]) : 1)],
      ['stop', () => this.maybeWeird(() => ['\n'])],
      ['response_format', () => this.maybeWeird(() => ({ type: 'json_schema', json_schema: { name: 'x', schema: this.schema() } }))],
      ['tools', () => this.maybeWeird(() => [{ type: 'function', function: { name: this.maybeWeird(() => 'f', 0.2), parameters: this.schema() } }])],
      ['tool_choice', () => this.maybeWeird(() => this.pick(['auto', 'required', 'none', { type: 'function', function: { name: 'f' } }]))],
      ['logit_bias', () => this.weird()],
      ['user', () => this.weird()],
    ];
    for (const [key, make] of optional) if (this.chance(0.25)) body[key] = make();
    return body;
  }
  messages(model: string): Record<string, unknown> {
    const block = () =>
      this.pick<() => unknown>([
        () => ({ type: 'text', text: this.maybeWeird(() => 'hi', 0.2) }),
        () => ({ type: 'image', source: { type: 'base64', media_type: 'image/png', data: this.maybeWeird(() => 'AAAA', 0.2) } }),
        () => ({ type: 'tool_result', tool_use_id: 't1', content: this.maybeWeird(() => 'ok') }),
        () => (this.chance(this.p) ? this.weird() : { type: 'text', text: 'x', cache_control: this.weird() }),
      ])();
    const body: Record<string, unknown> = {
      model: this.chance(this.p / 5) ? this.weird() : model,
      max_tokens: this.maybeWeird(() => 16),
      messages: this.chance(this.p / 5)
        ? this.weird()
        : [{ role: this.maybeWeird(() => 'user'), content: this.chance(0.5) ? this.maybeWeird(() => 'B'.repeat(this.pick([5, 10_000, 300_000]))) : [block(), block()] }],
    };
    const optional: [string, () => unknown][] = [
      ['stream', () => this.maybeWeird(() => this.chance(0.5))],
      ['system', () => this.maybeWeird(() => [{ type: 'text', text: 'be brief' }])],
      ['tools', () => this.maybeWeird(() => [{ name: 'f', description: this.weird(), input_schema: this.schema() }])],
      ['tool_choice', () => this.maybeWeird(() => ({ type: 'tool', name: 'f' }))],
      ['stop_sequences', () => this.maybeWeird(() => ['\n'])],
      ['temperature', () => this.maybeWeird(() => 0.2)],
      ['metadata', () => this.weird()],
    ];
    for (const [key, make] of optional) if (this.chance(0.25)) body[key] = make();
    return body;
  }
}

describe('property: no client-controlled request shape moves any deployment\'s health', function () {
  this.timeout(120_000);
  const SEED = Number(process.env.SHAPES_SEED ?? 15_2026);
  const CASES = 40; // per endpoint and provider type: 240 requests in all
  let h: Harness;
  before(async () => {
    const sandboxes = await startSandboxes(1);
    h = await startHarness(config(sandboxes[0].urls), { sandboxes });
  });
  after(() => h.close());

  for (const group of Object.keys(GROUPS)) {
    for (const path of ['/v1/chat/completions', '/v1/messages'] as const) {
      it(`${GROUPS[group as keyof typeof GROUPS]} via ${path} (seed ${SEED})`, async () => {
        const r = mulberry32(SEED + group.charCodeAt(0) + path.length);
        const shapes = new Shapes(r);
        const before = await health(h);
        const statuses = new Map<number, number>();
        for (let i = 0; i < CASES; i++) {
          shapes.p = [0, 0.05, 0.3][Math.floor(r() * 3)];
          const body = path === '/v1/messages' ? shapes.messages(group) : shapes.chat(group);
          const text = JSON.stringify(body).split(JSON.stringify(DEEP)).join(nested(7_000));
          const res = await post(h, path, text);
          const answer = await res.text();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (process.env.SHAPES_DEBUG) console.log(res.status, answer.slice(0, 200), text.slice(0, 200));
          assert.ok(res.status < 500, `case ${i}: HTTP ${res.status} ${answer.slice(0, 300)}\nbody: ${text.slice(0, 500)}`);
          assert.deepEqual(await health(h), before, `case ${i} moved health: ${text.slice(0, 500)}`);
        }
        // The generator must reach the upstream as well as be refused at the door, or it tests nothing.
        assert.ok((statuses.get(200) ?? 0) > 0, `no case was answered: ${JSON.stringify([...statuses])}`);
        assert.ok([...statuses.keys()].some((s) => s >= 400), `no case was refused: ${JSON.stringify([...statuses])}`);
      });
    }
  }
});
