// The replay's fast path for ledger lines (daemon/spend/ledger-parse.ts) against the contract: for every
// line it takes, the entry must be exactly what JSON.parse gives (fields, order, values, -0 included)
// and valid by LedgerEntrySchema and ledgerEntryProblem; every line it declines goes to JSON.parse and
// ledgerEntryProblem, so it must decline whatever they would reject. And the chunked line reader:
// lines and UTF-8 characters split across reads, CRLF, blank and torn lines.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LEDGER_FIELDS, LEDGER_LINE_ORDER, LedgerEntrySchema, type LedgerEntry } from '../../shared/ledger';
import { sampleEntry } from '../support/ledger-entry';
import { Ledger } from '../../daemon/spend/ledger';
import { ledgerEntryProblem } from '../../daemon/spend/ledger-entry';
import { FAST_FIELDS, parseLedgerLine } from '../../daemon/spend/ledger-parse';
import type { Arrival } from '../../daemon/pipeline/exchange';
import { entryFor } from '../../daemon/pipeline/ledger-line';
import type { Deployment } from '../../daemon/routing/catalog';

const entry = (over: Partial<LedgerEntry> = {}): LedgerEntry => sampleEntry({ id: 'shep-0001', ...over });

/** What replay does with a line the fast path declines: the entry, or why it is skipped. */
function slowPath(line: string): { entry: unknown } | { skipped: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { skipped: 'not valid JSON' };
  }
  const problem = ledgerEntryProblem(value);
  return problem ? { skipped: problem } : { entry: value };
}

/** The fast path may take a line only as the slow path would, to the last bit and field order. */
function assertAgrees(line: string): LedgerEntry | undefined {
  const fast = parseLedgerLine(line);
  if (fast === undefined) return undefined;
  const slow = slowPath(line);
  assert.ok('entry' in slow, `the fast path took a line the slow path rejects: ${line}`);
  assert.deepStrictEqual(fast, slow.entry, line);
  assert.deepEqual(Object.keys(fast), Object.keys(slow.entry as object), `field order: ${line}`);
  for (const [k, v] of Object.entries(fast)) assert.ok(Object.is(v, (slow.entry as Record<string, unknown>)[k]), `${k} of ${line}`);
  assert.ok(LedgerEntrySchema.safeParse(fast).success, `the schema accepts ${line}`);
  return fast;
}

/** The field order of earlier daemons' lines (the schema's order before `error` moved last). Historical: never changes. */
const LEGACY_ORDER = ['id', 'time', 'requestedModel', 'model', 'servedModel', 'deployment', 'provider', 'attempts', 'status', 'ok', 'error', 'stream',
  'promptTokens', 'completionTokens', 'cachedTokens', 'reasoningTokens', 'usageSource', 'costUsd', 'latencyMs', 'ttftMs', 'sandbox', 'key', 'client'];

function lineIn(order: readonly string[], e: Partial<LedgerEntry>): string {
  return JSON.stringify(Object.fromEntries(order.filter((k) => k in e).map((k) => [k, e[k as keyof LedgerEntry]])));
}

/** The schema's order before `error` moved last: what earlier daemons wrote. */
function schemaLine(e: LedgerEntry): string {
  return lineIn(LEGACY_ORDER, e);
}

/** Earlier daemons' lines: that order, with `error` spread in last on failures. */
function oldDaemonLine(e: LedgerEntry): string {
  const { error, ...rest } = e;
  const line = schemaLine(rest);
  return error === undefined ? line : `${line.slice(0, -1)},"error":${JSON.stringify(error)}}`;
}

/** Today's entryFor: LEDGER_LINE_ORDER (the required fields, then the optional ones, `error` last). */
function daemonLine(e: LedgerEntry): string {
  return lineIn(LEDGER_LINE_ORDER, e);
}

/** For each schema field, a value the schema accepts, found by asking the schema (so a new field gets one too). */
function schemaSample(): Record<string, unknown> {
  const candidates: unknown[] = ['x', 'upstream', 'hedge', 'embeddings', 3, 1.5, true];
  const out: Record<string, unknown> = {};
  for (const k of LEDGER_FIELDS) {
    const field = LedgerEntrySchema.shape[k];
    const v = candidates.find((c) => { const r = field.safeParse(c); return r.success && r.data === c; });
    assert.ok(v !== undefined, `no sample value for ${k}: teach schemaSample its kind`);
    out[k] = v;
  }
  return out;
}

const GOOD: LedgerEntry[] = [
  entry(),
  entry({ cachedTokens: 256, reasoningTokens: 30, ttftMs: 120.5, sandbox: true, key: 'key-0123abcd', client: 'acme.helper' }),
  entry({ cachedTokens: 256, cacheWriteTokens: 1024, client: 'acme.helper' }),
  entry({ cacheWriteTokens: 1024, reasoningTokens: 3, client: 'c' }),
  entry({ endpoint: 'responses' }),
  entry({ ok: false, status: 503, error: 'HTTP 503: upstream overloaded', parent: 'shep-0', role: 'hedge', endpoint: 'chat' }),
  entry({ member: 'alice@laptop' }),
  entry({ ok: false, status: 503, error: 'HTTP 503: upstream overloaded', promptTokens: 0, completionTokens: 0, usageSource: 'none', costUsd: 0 }),
  entry({ ok: false, status: 404, attempts: 0, model: null, servedModel: null, deployment: null, provider: null, error: 'unknown model', usageSource: 'none', costUsd: 0 }),
  entry({ usageSource: 'estimated', sandbox: false, ttftMs: 0, latencyMs: 0 }),
  entry({ requestedModel: '', model: '', key: '', client: '' }),
  entry({ requestedModel: 'modèle-日本語-🐑', deployment: 'prov/ünïcode@eu' }),
  entry({ promptTokens: Number.MAX_SAFE_INTEGER, completionTokens: 123456789012345, attempts: 999999999999999 }),
  entry({ costUsd: 0.1 + 0.2, latencyMs: 1e-7, ttftMs: 123456.789 }), // 17 digits; an exponent
  entry({ costUsd: 1e21, latencyMs: 5e-324, status: -1 }),
  entry({ costUsd: 123456789012.345, latencyMs: 0.000001 }),
  entry({ endpoint: 'embeddings', completionTokens: 0 }),
  entry({ ok: false, status: 499, error: 'client closed the request', endpoint: 'completions', stream: true }),
  // A cascade's lines: `cascade` last, after fields that also start with c (cachedTokens, cacheWriteTokens, client).
  entry({ cascade: 'kept' }),
  entry({ ttftMs: 40, cascade: 'escalated' }),
  entry({ cachedTokens: 256, cacheWriteTokens: 1024, client: 'acme.helper', cascade: 'direct' }),
  entry({ parent: 'shep-0', role: 'cascade', cascade: 'arithmetic', endpoint: 'messages' }),
];

describe('ledger line fast path', () => {
  it('knows exactly the fields of LedgerEntrySchema, in the order lines are written', () => {
    assert.deepEqual([...FAST_FIELDS], [...LEDGER_LINE_ORDER]);
    assert.deepEqual([...LEDGER_LINE_ORDER].sort(), Object.keys(LedgerEntrySchema.shape).sort());
  });

  it('takes a line with every schema field, in LEDGER_LINE_ORDER (a new field fails here until the fast path knows it)', () => {
    const line = lineIn(LEDGER_LINE_ORDER, schemaSample() as Partial<LedgerEntry>);
    assert.ok(assertAgrees(line), `taken: ${line}`);
  });

  it("entryFor writes LEDGER_LINE_ORDER when every optional field is set, and its required fields alone in that order", () => {
    const arrival = { receivedAt: performance.now() - 812.3, body: { model: 'chat', messages: [], stream: true }, clientKeyId: 'key-1', caller: 'acme.helper', endpoint: 'responses', member: 'alice' } as unknown as Arrival;
    const deployment = { id: 'openai/gpt-4o-mini@us-east', upstreamModel: 'gpt-4o-mini', providerName: 'openai', sandbox: true, price: { input: 0.15, output: 0.6 } } as unknown as Deployment;
    const counted = { usage: { promptTokens: 1000, completionTokens: 500, cachedTokens: 200, cacheWriteTokens: 300, reasoningTokens: 50 }, estimated: false };
    const every = entryFor('shep-1', { ...arrival, endpoint: 'completions' }, { group: 'chat', deployment, attempts: 2, status: 200, counted, endedAt: performance.now(), firstTokenAt: performance.now() - 700, error: 'cut off', parent: 'shep-0', role: 'hedge', cascade: 'arithmetic' });
    assert.deepEqual(Object.keys(every), [...LEDGER_LINE_ORDER], 'every field, in order');
    const bare = entryFor('shep-2', { ...arrival, clientKeyId: undefined, caller: undefined, endpoint: 'chat', member: undefined }, { group: null, deployment: null, attempts: 0, status: 404, endedAt: performance.now() });
    assert.deepEqual(Object.keys(bare), LEDGER_LINE_ORDER.filter((k) => k in bare));
    assert.ok(LedgerEntrySchema.safeParse(every).success && LedgerEntrySchema.safeParse(bare).success);
  });

  it('takes the lines the daemon writes (today and before), giving what JSON.parse gives', () => {
    for (const e of GOOD) {
      for (const line of [schemaLine(e), oldDaemonLine(e), daemonLine(e)]) {
        const got = assertAgrees(line);
        assert.ok(got, `taken: ${line}`);
        assert.deepStrictEqual(got, JSON.parse(line));
      }
    }
  });

  it("takes the lines the gateway's entryFor makes (the fast path is for them: keep the two in step)", () => {
    const arrival = { receivedAt: performance.now() - 812.3, body: { model: 'chat', messages: [], stream: true }, clientKeyId: 'key-1', caller: 'acme.helper', endpoint: 'responses' } as unknown as Arrival;
    const deployment = { id: 'openai/gpt-4o-mini@us-east', upstreamModel: 'gpt-4o-mini', providerName: 'openai', sandbox: true, price: { input: 0.15, output: 0.6 } } as unknown as Deployment;
    const usage = { usage: { promptTokens: 1000, completionTokens: 500, cachedTokens: 200, cacheWriteTokens: 300, reasoningTokens: 50 }, estimated: false };
    const lines = [
      entryFor('shep-1', arrival, { group: 'chat', deployment, attempts: 1, status: 200, counted: usage, endedAt: performance.now(), firstTokenAt: performance.now() - 700 }),
      entryFor('shep-1', { ...arrival, clientKeyId: undefined, caller: undefined }, { group: 'chat', deployment, attempts: 2, status: 200, counted: { ...usage, estimated: true }, endedAt: performance.now() }),
      entryFor('shep-1', arrival, { group: null, deployment: null, attempts: 0, status: 404, endedAt: performance.now(), error: 'unknown model "x"' }), // escaped: the slow path
      entryFor('shep-1', arrival, { group: 'chat', deployment, attempts: 3, status: 503, endedAt: performance.now(), error: 'HTTP 503: overloaded' }),
      entryFor('shep-1', { ...arrival, endpoint: 'embeddings' }, { group: 'embed', deployment, attempts: 1, status: 200, counted: usage, endedAt: performance.now() }),
      entryFor('shep-1', { ...arrival, endpoint: 'completions' }, { group: 'chat', deployment, attempts: 1, status: 499, endedAt: performance.now(), error: 'client closed the request' }),
    ].map((e) => JSON.stringify(e));
    assert.deepEqual(lines.map((line) => assertAgrees(line) !== undefined), [true, true, false, true, true, true], lines.join('\n'));
  });

  it('reads numbers exactly as JSON.parse does, -0 and exponents included', () => {
    const numbers = ['0', '-0', '1', '10', '0.5', '-0.0', '800.5', '0.00045', '0.30000000000000004', '123456789012345', '1234567890123456',
      '9007199254740991', '9007199254740993', '1e3', '1E3', '1e+3', '2.5e-3', '1.7976931348623157e308', '5e-324', '0.1', '0.7', '1.005', '99.99'];
    let taken = 0;
    for (const n of numbers) {
      for (const field of ['costUsd', 'latencyMs', 'ttftMs', 'status', 'promptTokens']) {
        const line = JSON.stringify({ ...entry(), [field]: 0 }).replace(`"${field}":0`, `"${field}":${n}`);
        if (assertAgrees(line)) taken += 1;
      }
    }
    assert.ok(taken > 60, `most are taken (${taken})`);
  });

  it('declines whatever the slow path would reject, and what it does not know', () => {
    const base = schemaLine(entry({ cachedTokens: 3, ttftMs: 1.5, key: 'k' }));
    assert.ok(parseLedgerLine(base), 'the line the bad ones are made from is taken');
    const bad: string[] = [
      '',
      '{}',
      '[]',
      'null',
      base.slice(0, -1), // torn
      base.slice(0, base.length / 2),
      `${base}}`, // extra garbage
      `${base}x`,
      `${base},${base}`,
      base.replace('"attempts":1', '"attempts":"1"'), // wrong types
      base.replace('"status":200', '"status":200.5'),
      base.replace('"ok":true', '"ok":"true"'),
      base.replace('"ok":true', '"ok":1'),
      base.replace('"model":"chat"', '"model":1'),
      base.replace('"requestedModel":"chat"', '"requestedModel":null'),
      base.replace('"usageSource":"upstream"', '"usageSource":"guessed"'),
      base.replace('"key":"k"', '"key":null'),
      base.replace('"cachedTokens":3', '"cachedTokens":null'),
      base.replace(',"stream":false', ''), // missing fields
      base.replace('"id":"shep-0001",', ''),
      base.replace(',"costUsd":0.00045', ''),
      base.replace('"promptTokens":1000', '"promptTokens":-1'), // negative tokens
      base.replace('"completionTokens":500', '"completionTokens":-0.5'),
      base.replace('"cachedTokens":3', '"cachedTokens":-3'),
      base.replace('"costUsd":0.00045', '"costUsd":-0.00045'),
      base.replace('"ttftMs":1.5', '"ttftMs":-1.5'),
      base.replace('"promptTokens":1000', '"promptTokens":1e400'), // huge numbers
      base.replace('"costUsd":0.00045', '"costUsd":1e400'),
      base.replace('"attempts":1', '"attempts":9007199254740992'),
      base.replace('"promptTokens":1000', '"promptTokens":12345678901234567890'),
      base.replace('"promptTokens":1000', '"promptTokens":1.5'),
      base.replace('"promptTokens":1000', '"promptTokens":01'), // not JSON numbers
      base.replace('"promptTokens":1000', '"promptTokens":+1'),
      base.replace('"promptTokens":1000', '"promptTokens":.5'),
      base.replace('"promptTokens":1000', '"promptTokens":NaN'),
      base.replace('"promptTokens":1000', '"promptTokens":Infinity'),
      base.replace('"costUsd":0.00045', '"costUsd":1.'),
      base.replace('"id":"shep-0001"', '"id":"shep\u0001"'), // raw control character
    ];
    for (const line of bad) {
      assert.equal(parseLedgerLine(line), undefined, line);
      assert.ok('skipped' in slowPath(line), `the slow path rejects ${line}`);
    }
  });

  it('leaves to JSON.parse what is valid but written differently (escapes, order, spacing, new fields)', () => {
    const e = entry({ error: 'unknown model "gpt-5"', key: 'k' });
    const { time: _time, ...withoutTime } = entry();
    const different = [
      schemaLine(e), // an escaped quote
      schemaLine(entry({ requestedModel: 'tab\there' })),
      schemaLine(entry({ requestedModel: '\u00e9' })).replace('\u00e9', '\\u00e9'),
      JSON.stringify({ time: '2025-01-15T10:00:00.000Z', ...withoutTime }), // another order
      JSON.stringify(e, null, 1),
      ` ${JSON.stringify(entry())}`,
      `${JSON.stringify(entry())}\r`,
      JSON.stringify({ ...entry(), futureField: 1 }),
      JSON.stringify({ ...entry(), client: 42 }), // a malformed label, which the schema drops
      JSON.stringify(entry()).replace('"ok":true', '"ok":true,"error":"x"').replace(/}$/, ',"error":"y"}'), // twice: the last counts
      schemaLine(entry({ cachedTokens: 1 })).replace(/}$/, ',"cachedTokens":2}'),
      schemaLine(entry({ reasoningTokens: 1 })).replace(/}$/, ',"reasoningTokens":2}'),
    ];
    for (const line of different) {
      assert.equal(parseLedgerLine(line), undefined, line);
      assert.ok('entry' in slowPath(line), `the slow path still takes ${line}`);
    }
  });

  it('never takes a damaged line differently from JSON.parse (20,000 random edits)', () => {
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const alphabet = ['"', ',', ':', '{', '}', '0', '1', '9', '-', '.', 'e', 'E', '+', 'n', 't', 'f', 'x', ' ', '\\', '\u0000', 'é'];
    const lines = GOOD.flatMap((e) => [schemaLine(e), oldDaemonLine(e), daemonLine(e)]);
    let taken = 0;
    for (let i = 0; i < 20_000; i++) {
      let line = lines[random(lines.length)];
      for (let edits = 1 + random(3); edits > 0; edits--) {
        const at = random(line.length + 1);
        const op = random(3);
        const c = alphabet[random(alphabet.length)];
        line = op === 0 ? line.slice(0, at) + line.slice(at + 1) : op === 1 ? line.slice(0, at) + c + line.slice(at) : line.slice(0, at) + c + line.slice(at + 1);
      }
      if (assertAgrees(line)) taken += 1;
    }
    assert.ok(taken > 100, `some damaged lines are still entries, and were compared (${taken})`);
  });
});

describe('ledger replay reader', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'shepherd-ledger-parse-'));
    await mkdir(join(dataDir, 'ledger'));
  });
  afterEach(() => rm(dataDir, { recursive: true, force: true }));

  it('replays lines and UTF-8 characters split across reads, CRLF, blank, escaped and torn lines', async () => {
    const expected: LedgerEntry[] = [];
    let text = '';
    const CHUNK = 1 << 20; // the reader's
    for (let i = 0; text.length < 3.2 * CHUNK; i++) {
      // Multi-byte characters at every offset, so some straddle a chunk boundary; some lines are long.
      const e = entry({ id: `r${i}`, requestedModel: `🐑é${'日'.repeat(i % 7)}`, ...(i % 97 === 0 ? { error: 'x'.repeat(300_000 + i) } : {}) });
      expected.push(e);
      text += i % 5 === 0 ? `${JSON.stringify({ ...e, error: `say "hi" ${i}` })}\n` : `${JSON.stringify(e)}\n`;
      if (i % 5 === 0) e.error = `say "hi" ${i}`;
      if (i % 11 === 0) text += '\n';
      if (i % 13 === 0) text = `${text.slice(0, -1)}\r\n`;
    }
    const tail = JSON.stringify(entry({ id: 'torn' }));
    await writeFile(join(dataDir, 'ledger', '2025-01.jsonl'), text + tail.slice(0, 40));
    const warnings: string[] = [];
    const ledger = await Ledger.open(dataDir, { warn: (m) => warnings.push(m) });
    const got: LedgerEntry[] = [];
    const summary = await ledger.replay((e) => got.push(e));
    await ledger.close();
    assert.equal(got.length, expected.length);
    for (let i = 0; i < got.length; i++) assert.deepStrictEqual(got[i], expected[i]);
    assert.equal(summary.skipped, 1);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], new RegExp(`line ${text.split('\n').length}: skipped \\(torn last line`));
  });
});
