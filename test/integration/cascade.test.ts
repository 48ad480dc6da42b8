// `auto` in cascade mode end to end: a cheap upstream that answers from a table (wrong on purpose for
// some prompts) and a strong one. The client gets the strong answer exactly when a check fails, in
// both streaming modes; the ledger holds both attempts; spend shows the escalation and the saving.
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import type { ShepherdConfigInput } from '../../shared/config';
import type { SpendReport } from '../../daemon/spend/spend-query';
import { captureLogger, eventually, startHarness, type Harness } from '../support/harness';
import { startDaemon } from '../../daemon/start';
import { spendFromLedger } from '../../daemon/cli/spend';
import { formatCascade } from '../../daemon/cli/cascade-format';
import { parseSpendQuery } from '../../daemon/spend/spend-query';
import { startScriptedUpstream, type ScriptedReply, type ScriptedUpstream } from '../support/scripted-upstream';

const CHEAP: Record<string, ScriptedReply> = {
  'What is 17 + 25?': { content: '17 + 25 = 42.' },
  'What is 23 * 19?': { content: 'Sure: 23 * 19 = 427.' }, // wrong: 437
  'Write a JS function that adds two numbers.': { content: '```js\nfunction add(a, b) {\n  return a + b;\n}\n```' },
  'Write a JS function that doubles a number.': { content: '```js\nfunction double(n) {\n  return n * 2;\n```' }, // does not parse
  'Write a Python function that squares a number.': { content: '```python\ndef square(n):\n    return n * n\n```' },
  'Write a Python function that cubes a number.': { content: '```python\ndef cube(n:\n    return n ** 3\n```' }, // does not parse
  'Say hello.': { content: 'Hello!' },
  'Explain monads.': { content: "I'm not sure." },
  'Give the user as JSON.': { content: '{"name": "Ada", "age": "thirty-six"}' }, // age must be an integer
  'Give the city as JSON.': { content: '{"name": "Paris", "population": 2102650}' },
  'Tell a long story.': { content: 'Once upon a time there was a', finishReason: 'length' },
  'Weather in Paris?': { toolCalls: [{ name: 'get_weather', arguments: '{"city": "Paris"}' }] },
  'Weather in Rome?': { toolCalls: [{ name: 'get_weather', arguments: '{"town": "Rome"}' }] }, // city is required
};

const weatherTool = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } };

const userSchema = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } }, required: ['name', 'age'] };
const citySchema = { type: 'object', properties: { name: { type: 'string' }, population: { type: 'integer' } }, required: ['name', 'population'] };

function config(cheap: ScriptedUpstream, strong: ScriptedUpstream, stream: 'hold' | 'strong' = 'hold'): ShepherdConfigInput {
  return {
    sandbox: false,
    providers: { cheapco: { baseUrl: cheap.url, apiKey: 'sk-cheap-secret' }, strongco: { baseUrl: strong.url, apiKey: 'sk-strong-secret' } },
    models: {
      small: { price: { input: 0.1, output: 0.4 }, deployments: [{ provider: 'cheapco', model: 'small-1' }] },
      large: { price: { input: 3, output: 15 }, deployments: [{ provider: 'strongco', model: 'large-1' }] },
    },
    routing: {
      health: { probes: { enabled: false } },
      retry: { rounds: 0 },
      auto: { tiers: { simple: 'small', medium: 'small', complex: 'large', reasoning: 'large' }, cascade: { enabled: true, chain: ['simple', 'reasoning'], stream } },
    },
  };
}

describe('auto in cascade mode', function () {
  this.timeout(30_000);
  let h: Harness | undefined;
  let cheap: ScriptedUpstream;
  let strong: ScriptedUpstream;
  beforeEach(async () => {
    cheap = await startScriptedUpstream('cheap', (p) => CHEAP[p] ?? { content: 'Fine.' });
    strong = await startScriptedUpstream('strong', (p) => ({ content: `[strong] ${p === 'What is 23 * 19?' ? '23 * 19 = 437.' : 'a careful answer.'}` }));
  });
  afterEach(async () => {
    await h?.close();
    h = undefined;
    await cheap.close();
    await strong.close();
  });

  async function ask(prompt: string, extra: Record<string, unknown> = {}) {
    const { data, response } = await h!.client.chat.completions
      .create({ model: 'auto', messages: [{ role: 'user', content: prompt }], ...extra } as never)
      .withResponse();
    const completion = data as unknown as { choices: { message: { content: string } }[] };
    return { text: completion.choices[0].message.content, escalated: response.headers.get('x-shepherd-escalated'), id: response.headers.get('x-request-id') };
  }

  it('answers with the cheap group when every check passes and with the strong one exactly when a check fails', async () => {
    h = await startHarness(config(cheap, strong));
    const cases: [string, Record<string, unknown>, string | null][] = [
      ['What is 17 + 25?', {}, null],
      ['What is 23 * 19?', {}, 'arithmetic'],
      ['Write a JS function that adds two numbers.', {}, null],
      ['Write a JS function that doubles a number.', {}, 'code'],
      ['Write a Python function that squares a number.', {}, null],
      ['Write a Python function that cubes a number.', {}, 'code'],
      ['Say hello.', {}, null],
      ['Explain monads.', {}, 'refusal'],
      ['Give the user as JSON.', { response_format: { type: 'json_schema', json_schema: { name: 'user', schema: userSchema } } }, 'json'],
      ['Give the city as JSON.', { response_format: { type: 'json_schema', json_schema: { name: 'city', schema: citySchema } } }, null],
      ['Tell a long story.', {}, 'truncated'],
    ];
    const ids = new Map<string, string | null>();
    for (const [prompt, extra, check] of cases) {
      const r = await ask(prompt, extra);
      if (check === null) {
        assert.equal(r.text, CHEAP[prompt].content, prompt);
        assert.equal(r.escalated, 'no', prompt);
      } else {
        assert.match(r.text, /^\[strong\]/, prompt);
        assert.equal(r.escalated, check, prompt);
      }
      ids.set(prompt, r.id);
    }
    assert.equal((await ask('What is 23 * 19?')).text, '[strong] 23 * 19 = 437.');
    // Each prompt went to the cheap upstream first; only the failing ones reached the strong one.
    assert.equal(cheap.asked.length, cases.length + 1);
    assert.deepEqual(strong.asked, [...cases.filter(([, , c]) => c !== null).map(([p]) => p), 'What is 23 * 19?']);

    // The ledger: the escalated request's own line (strong, cascade escalated) and its first step's (cheap, role cascade).
    const entries = await eventually(async () => {
      const all = await h!.ledgerEntries();
      return all.length >= cases.length + 1 + 7 ? all : undefined;
    });
    const id = ids.get('What is 23 * 19?');
    const own = entries.find((e) => e.id === id);
    const step = entries.find((e) => e.parent === id);
    assert.equal(own?.cascade, 'escalated');
    assert.equal(own?.deployment, 'strongco/large-1');
    assert.equal(step?.role, 'cascade');
    assert.equal(step?.cascade, 'arithmetic');
    assert.equal(step?.deployment, 'cheapco/small-1');
    assert.ok((step?.costUsd ?? 0) > 0, 'the cheap step costs and counts');
    assert.equal(entries.find((e) => e.id === ids.get('Say hello.'))?.cascade, 'kept');

    // Spend: 12 cascaded requests, 5 kept, 7 escalated, each check's catch, and the saving against "large".
    const res = await fetch(`${h.daemon.url}/v1/shepherd/spend?groupBy=day`);
    const report = (await res.json()) as SpendReport;
    const c = report.cascade;
    assert.ok(c, 'the spend report has cascade figures');
    assert.equal(c.totals.requests, 12);
    assert.equal(c.totals.kept, 5);
    assert.equal(c.totals.escalated, 7);
    assert.equal(c.totals.escalationRate, 0.5833);
    assert.deepEqual(c.totals.caught, { arithmetic: 2, code: 2, refusal: 1, json: 1, truncated: 1 });
    assert.equal(c.baseline, 'large');
    assert.ok(c.totals.baselineUsd! > c.totals.costUsd, `baseline ${c.totals.baselineUsd} vs actual ${c.totals.costUsd}`);
    assert.ok(c.totals.savedUsd! > 0);
    assert.equal(c.days.length, 1);
    // Both attempts count: the report's cost is every ledger line's, the cheap steps' included; a step
    // is not a request of its own (like a hedge's loser, it has a parent).
    const lines = await h.ledgerEntries();
    assert.equal(report.totals.requests, lines.filter((e) => e.parent === undefined).length);
    assert.equal(report.totals.requests, 12);
    assert.ok(Math.abs(report.totals.costUsd - lines.reduce((sum, e) => sum + e.costUsd, 0)) < 1e-9);
    assert.equal(report.totals.completionTokens, lines.reduce((sum, e) => sum + e.completionTokens, 0));
    assert.ok(Math.abs(c.totals.costUsd - lines.filter((e) => e.cascade !== undefined).reduce((sum, e) => sum + e.costUsd, 0)) < 1e-9);
  });

  it('holds a streamed cheap answer until it is checked, and streams the strong answer after an escalation', async () => {
    h = await startHarness(config(cheap, strong));
    const stream = async (prompt: string) => {
      const { data, response } = await h!.client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: prompt }], stream: true }).withResponse();
      let text = '';
      for await (const chunk of data) text += chunk.choices[0]?.delta?.content ?? '';
      return { text, escalated: response.headers.get('x-shepherd-escalated') };
    };
    assert.deepEqual(await stream('What is 17 + 25?'), { text: '17 + 25 = 42.', escalated: 'no' });
    assert.deepEqual(await stream('What is 23 * 19?'), { text: '[strong] 23 * 19 = 437.', escalated: 'arithmetic' });
    assert.deepEqual(strong.asked, ['What is 23 * 19?']);
  });

  it('with cascade.stream "strong", sends streams straight to the strong group and whole answers through the cascade', async () => {
    h = await startHarness(config(cheap, strong, 'strong'));
    const { data, response } = await h.client.chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'Say hello.' }], stream: true }).withResponse();
    let text = '';
    for await (const chunk of data) text += chunk.choices[0]?.delta?.content ?? '';
    assert.equal(text, '[strong] a careful answer.');
    assert.match(response.headers.get('x-shepherd-cascade') ?? '', /stream to large/);
    assert.equal(cheap.asked.length, 0);
    assert.equal((await ask('Say hello.')).text, 'Hello!');
  });

  it('plain auto without cascade behaves as before; auto:cascade cascades without any config', async () => {
    const cfg = config(cheap, strong);
    (cfg.routing!.auto as { cascade: { enabled: boolean } }).cascade.enabled = false;
    h = await startHarness(cfg);
    assert.equal((await ask('What is 23 * 19?')).text, 'Sure: 23 * 19 = 427.');
    const { data, response } = await h.client.chat.completions.create({ model: 'auto:cascade', messages: [{ role: 'user', content: 'What is 23 * 19?' }] }).withResponse();
    assert.equal(data.choices[0].message.content, '[strong] 23 * 19 = 437.');
    assert.equal(response.headers.get('x-shepherd-escalated'), 'arithmetic');
    const planOf = async (body: object) =>
      (await (await fetch(`${h!.daemon.url}/v1/shepherd/plan`, { method: 'POST', body: JSON.stringify(body) })).json()) as { group: string; cascade?: { chain: string[]; steps: string[]; checks: string[]; stream: string; reason: string } };
    const plan = await planOf({ model: 'auto:cascade', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(plan.group, 'small');
    assert.deepEqual(plan.cascade?.steps, ['small', 'large']);
    assert.deepEqual(plan.cascade?.checks, ['arithmetic', 'code', 'json', 'toolArgs', 'truncated', 'refusal']);
    assert.match(plan.cascade?.reason ?? '', /cascade small -> large/);
    assert.equal((await planOf({ model: 'auto', messages: [{ role: 'user', content: 'hi' }] })).cascade, undefined);
  });

  it('keeps its figures across a restart: the cascade lines are read back from the ledger', async () => {
    h = await startHarness(config(cheap, strong));
    await ask('What is 17 + 25?');
    await ask('What is 23 * 19?');
    await h.daemon.stop();
    // With no daemon running, `shepherd spend --by escalation` reads the ledger itself.
    const now = Date.now();
    const report = await spendFromLedger(h.dir, h.configPath, parseSpendQuery(() => undefined, now), now, () => {});
    const table = formatCascade(report.cascade, 'table', report);
    assert.match(table, /escalations and the saving against large/);
    assert.match(table, /^total\s+2\s+1\s+1\s+50\.0%\s+arithmetic 1\s/m);
    const again = await startDaemon({ configPath: h.configPath, dataDir: h.dir, port: 0, env: {}, log: captureLogger([]), graceMs: 2_000 });
    try {
      const c = await eventually(async () => ((await (await fetch(`${again.url}/v1/shepherd/spend`)).json()) as SpendReport).cascade);
      assert.equal(c.totals.requests, 2);
      assert.equal(c.totals.escalated, 1);
      assert.deepEqual(c.totals.caught, { arithmetic: 1 });
    } finally {
      await again.stop();
      h.daemon.stop = async () => {}; // stopped above; close() still removes the folder
    }
  });

  it('serves Anthropic-format clients too: the held answer and the escalated one in /v1/messages shape, whole and streamed', async () => {
    h = await startHarness(config(cheap, strong));
    const claude = new Anthropic({ baseURL: h.daemon.url, apiKey: 'unused', maxRetries: 0 });
    const text = (m: Anthropic.Message) => m.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
    const kept = await claude.messages.create({ model: 'auto:cascade', max_tokens: 256, messages: [{ role: 'user', content: 'What is 17 + 25?' }] });
    assert.equal(text(kept), '17 + 25 = 42.');
    const { data, response } = await claude.messages.create({ model: 'auto:cascade', max_tokens: 256, messages: [{ role: 'user', content: 'What is 23 * 19?' }] }).withResponse();
    assert.equal(text(data), '[strong] 23 * 19 = 437.');
    assert.equal(response.headers.get('x-shepherd-escalated'), 'arithmetic');
    for (const [prompt, expected] of [['What is 17 + 25?', '17 + 25 = 42.'], ['What is 23 * 19?', '[strong] 23 * 19 = 437.']]) {
      const stream = claude.messages.stream({ model: 'auto:cascade', max_tokens: 256, messages: [{ role: 'user', content: prompt }] });
      assert.equal(text(await stream.finalMessage()), expected, prompt);
    }
  });

  it('checks tool calls against the tool schema, and serves the Responses API', async () => {
    h = await startHarness(config(cheap, strong));
    const call = async (prompt: string) => {
      const { data, response } = await h!.client.chat.completions.create({ model: 'auto:cascade', messages: [{ role: 'user', content: prompt }], tools: [weatherTool as never] }).withResponse();
      return { message: data.choices[0].message, escalated: response.headers.get('x-shepherd-escalated') };
    };
    const good = await call('Weather in Paris?');
    assert.equal(good.escalated, 'no');
    assert.equal((good.message.tool_calls?.[0] as { function: { arguments: string } }).function.arguments, '{"city": "Paris"}');
    const bad = await call('Weather in Rome?');
    assert.equal(bad.escalated, 'toolArgs');
    assert.equal(bad.message.content, '[strong] a careful answer.');

    const { data, response } = await h.client.responses.create({ model: 'auto:cascade', input: 'What is 23 * 19?' }).withResponse();
    assert.equal(data.output_text, '[strong] 23 * 19 = 437.');
    assert.equal(response.headers.get('x-shepherd-escalated'), 'arithmetic');
  });

  it('escalates when the cheap group gives no answer at all, and records the failed step', async () => {
    h = await startHarness(config(cheap, strong));
    await cheap.close(); // connection refused from now on
    const r = await ask('Say hello.');
    assert.equal(r.text, '[strong] a careful answer.');
    assert.equal(r.escalated, 'failed');
    const lines = await eventually(async () => {
      const all = await h!.ledgerEntries();
      return all.length >= 2 ? all : undefined;
    });
    const step = lines.find((e) => e.parent === r.id);
    assert.equal(step?.cascade, 'failed');
    assert.equal(step?.ok, false);
    assert.equal(lines.find((e) => e.id === r.id)?.cascade, 'escalated');
  });
});
