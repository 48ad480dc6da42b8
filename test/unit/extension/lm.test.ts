// Shepherd's models in VS Code's language model API, without an editor: the model list, the
// translation of messages, tools and results to the OpenAI request, stream deltas back to parts, and
// the daemon's refusals as errors a person can act on.
import assert from 'node:assert/strict';
import { USD } from '../../../extension/format';
import { DEFAULT_CONTEXT_WINDOW, DEFAULT_MAX_OUTPUT_TOKENS, lmModels, lmModelsKey } from '../../../extension/lm-info';
import { describeError, messageText, ROLE, StreamReader, toRequestBody, TranslationError } from '../../../extension/lm-wire';
import { count } from '../../../daemon/spend/tokenizer';
import { LmRequestBodySchema } from '../../../shared/lm-protocol';
import { parseClientMessage, parseServerMessage } from '../../../shared/protocol';
import { deployment, snapshot } from './fixtures';

// Plain objects with the shapes of vscode's part classes.
const text = (value: string) => ({ value });
const call = (callId: string, name: string, input: object) => ({ callId, name, input });
const result = (callId: string, ...content: unknown[]) => ({ callId, content });
const image = (mimeType: string, bytes: number[]) => ({ mimeType, data: new Uint8Array(bytes) });
const user = (...content: unknown[]) => ({ role: ROLE.User, content });
const assistant = (...content: unknown[]) => ({ role: ROLE.Assistant, content });

describe('language model list', () => {
  const s = () =>
    snapshot({
      groups: [
        { name: 'gpt-4.1', down: false, price: { input: 2, output: 8 }, contextWindow: 1_047_576, maxOutputTokens: 32_768, capabilities: { tools: true, images: true } },
        { name: 'deepseek', down: false, price: { input: 0.28, output: 0.42 }, contextWindow: 128_000, maxOutputTokens: 8_192, capabilities: { tools: true, images: false } },
        { name: 'bare', down: false, price: null },
      ],
      deployments: [deployment('openai/gpt-4.1', 'gpt-4.1'), deployment('openrouter/gpt-4.1', 'gpt-4.1', { state: 'unhealthy' }), deployment('deepseek/chat', 'deepseek'), deployment('x/bare', 'bare')],
      auto: [{ name: 'auto', tiers: { simple: 'deepseek', medium: 'deepseek', complex: 'gpt-4.1', reasoning: 'gpt-4.1' } }],
    });

  it('lists every group, then auto, with price and health in the name and the limits from the config', () => {
    const models = lmModels(s(), USD);
    assert.deepEqual(models.map((m) => m.id), ['gpt-4.1', 'deepseek', 'bare', 'auto']);
    const gpt = models[0];
    assert.equal(gpt.name, 'gpt-4.1 ($2.00 in / $8.00 out)');
    assert.match(gpt.detail, /1\/2 deployments healthy/);
    // The prompt gets the window less the longest answer.
    assert.deepEqual([gpt.maxInputTokens, gpt.maxOutputTokens], [1_047_576 - 32_768, 32_768]);
    assert.deepEqual(gpt.capabilities, { toolCalling: true, imageInput: true });
  });

  it('promises nothing the config does not state, and uses default limits', () => {
    const bare = lmModels(s(), USD).find((m) => m.id === 'bare')!;
    assert.equal(bare.name, 'bare (price not set)');
    assert.deepEqual(bare.capabilities, { toolCalling: false, imageInput: false });
    assert.deepEqual([bare.maxInputTokens, bare.maxOutputTokens], [DEFAULT_CONTEXT_WINDOW - DEFAULT_MAX_OUTPUT_TOKENS, DEFAULT_MAX_OUTPUT_TOKENS]);
  });

  it('gives auto only what every tier group has: the smallest limits, shared capabilities, the price range', () => {
    const auto = lmModels(s(), USD).find((m) => m.id === 'auto')!;
    assert.deepEqual(auto.capabilities, { toolCalling: true, imageInput: false });
    assert.equal(auto.maxOutputTokens, 8_192);
    assert.equal(auto.name, 'auto ($0.42-$8.00 out per 1M)');
    assert.match(auto.tooltip, /complex → gpt-4\.1/);
  });

  it('marks a group down in its name, so the list changes when health does', () => {
    const before = lmModels(s(), USD);
    const down = s();
    down.groups[1] = { ...down.groups[1], down: true };
    const after = lmModels(down, USD);
    assert.equal(after[1].name, 'deepseek ($0.28 in / $0.42 out) - down');
    assert.notEqual(lmModelsKey(after), lmModelsKey(before));
    // Spend moving does not change the list: no needless refresh events.
    assert.equal(lmModelsKey(lmModels({ ...s(), recent: [] }, USD)), lmModelsKey(before));
  });

  it('lists nothing without a snapshot', () => {
    assert.deepEqual(lmModels(undefined, USD), []);
  });

  it('leaves embedding groups out: they cannot answer a chat', () => {
    const withEmbed = s();
    withEmbed.groups.push({ name: 'embed', down: false, price: { input: 0.02, output: 0 }, kind: 'embedding' });
    assert.deepEqual(lmModels(withEmbed, USD).map((m) => m.id), ['gpt-4.1', 'deepseek', 'bare', 'auto']);
  });
});

describe('language model request translation', () => {
  it('turns a tool round trip into OpenAI messages: assistant tool_calls, then one tool message per result', () => {
    const body = toRequestBody(
      'gpt-4.1',
      [
        { role: ROLE.System, content: [text('Be brief.')] },
        user(text('What is a ewe?')),
        assistant(text('Looking it up.'), call('c1', 'lookup', { word: 'ewe' })),
        user(result('c1', text('a female sheep')), text('Thanks, and now summarise.')),
      ],
      { tools: [{ name: 'lookup', description: 'Looks a word up', inputSchema: { type: 'object', properties: { word: { type: 'string' } } } }], toolMode: 1 },
    );
    assert.deepEqual(body.messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'What is a ewe?' },
      { role: 'assistant', content: 'Looking it up.', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'lookup', arguments: '{"word":"ewe"}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'a female sheep' },
      { role: 'user', content: 'Thanks, and now summarise.' },
    ]);
    assert.equal(body.tools?.[0].function.name, 'lookup');
    assert.equal(body.tool_choice, undefined, 'auto is the default');
    assert.ok(LmRequestBodySchema.safeParse(body).success, 'what the daemon accepts');
  });

  it('asks for a tool call when the caller requires one, and gives a tool without a schema an empty one', () => {
    const body = toRequestBody('m', [user(text('go'))], { tools: [{ name: 't', description: 'd' }], toolMode: 2 });
    assert.equal(body.tool_choice, 'required');
    assert.deepEqual(body.tools?.[0].function.parameters, { type: 'object', properties: {} });
  });

  it('sends images inline as data URLs and drops data the model cannot read', () => {
    const body = toRequestBody('m', [user(text('What is this?'), image('image/png', [1, 2, 3]), image('cache_control', [0]))], {});
    assert.deepEqual(body.messages[0], {
      role: 'user',
      content: [
        { type: 'text', text: 'What is this?' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,AQID' } },
      ],
    });
  });

  it('passes sensible model options on and ignores the rest', () => {
    const body = toRequestBody('m', [user(text('hi'))], { modelOptions: { temperature: 0.2, max_tokens: 100, top_p: 7, seed: 'x' } });
    assert.deepEqual([body.temperature, body.max_tokens, body.top_p], [0.2, 100, undefined]);
  });

  it('refuses a request with nothing to say', () => {
    assert.throws(() => toRequestBody('m', [user(), assistant()], {}), TranslationError);
  });

  it('counts the text of tool calls and results, for token counts', () => {
    assert.equal(messageText(assistant(text('a'), call('c', 'f', { x: 1 }))), 'af{"x":1}');
    assert.equal(messageText(user(result('c', text('out')))), 'out');
  });
});

describe('language model messages on the control channel', () => {
  it('are checked field by field, naming what is wrong', () => {
    const start = (body: unknown) => JSON.stringify({ type: 'lm.start', id: 'r1', client: 'acme.helper', body });
    assert.equal(parseClientMessage(start({ model: 'auto', messages: [{ role: 'user', content: 'hi' }] })).ok, true);
    const bad = parseClientMessage(start({ model: 'auto', messages: [{ role: 'tool', content: 'result' }] }));
    assert.equal(bad.ok, false);
    assert.match(bad.ok ? '' : bad.error, /body\.messages\.0/);
    assert.equal(parseClientMessage(start({ model: 'auto', messages: [{ role: 'user', content: 'hi' }], tool_choice: 'sometimes' })).ok, false);
  });

  it('carry a refusal\'s status and code back, and stay readable by an extension that ignores them', () => {
    const parsed = parseServerMessage(JSON.stringify({ type: 'chat.error', id: 'r1', message: 'budget', cancelled: false, status: 402, code: 'budget_exceeded' }));
    assert.ok(parsed.ok && parsed.message.type === 'chat.error' && parsed.message.status === 402);
    assert.equal(parseServerMessage(JSON.stringify({ type: 'chat.error', id: 'r1', message: 'x', cancelled: true })).ok, true);
  });
});

describe('language model stream', () => {
  it('reports text as it comes and assembles tool calls from their fragments, in order', () => {
    const r = new StreamReader();
    assert.equal(r.push({ text: 'Let me check.' }), 'Let me check.');
    r.push({ toolCalls: [{ index: 1, id: 'b', name: 'second', arguments: '' }] });
    r.push({ toolCalls: [{ index: 0, id: 'a', name: 'first', arguments: '{"q":' }] });
    r.push({ toolCalls: [{ index: 0, arguments: '"ewe"}' }, { index: 1, arguments: '' }] });
    r.push({ finishReason: 'tool_calls' });
    assert.deepEqual(r.finish(), [
      { callId: 'a', name: 'first', input: { q: 'ewe' } },
      { callId: 'b', name: 'second', input: {} },
    ]);
    assert.deepEqual(r.finish(), [], 'each call is reported once');
  });

  it('says which tool got arguments that are not a JSON object', () => {
    const r = new StreamReader();
    r.push({ toolCalls: [{ index: 0, id: 'a', name: 'lookup', arguments: '{"q": ' }] });
    assert.throws(() => r.finish(), /tool "lookup".*not valid JSON/);
  });
});

describe('language model errors', () => {
  it('turns an exhausted budget into Blocked, saying how to raise it', () => {
    const e = describeError(402, 'budget_exceeded', 'Shepherd budget "monthly" is exhausted: $10.00 of its $10.00 monthly limit spent', 'gpt-4.1');
    assert.equal(e.kind, 'Blocked');
    assert.match(e.message, /budget "monthly" is exhausted.*Shepherd: Set Budget/);
  });

  it('turns a missing provider key into NoPermissions, naming the command that sets it', () => {
    const e = describeError(503, 'no_deployment', 'model group "gpt-4.1" has no usable deployment: openai/gpt-4.1: no API key: environment variable OPENAI_API_KEY is not set', 'gpt-4.1');
    assert.equal(e.kind, 'NoPermissions');
    assert.match(e.message, /OPENAI_API_KEY.*Shepherd: Set API Key/);
  });

  it('turns a group that is down into Blocked, and an unknown model into NotFound', () => {
    assert.equal(describeError(503, 'no_deployment', 'no deployment of "x" could be tried', 'x').kind, 'Blocked');
    assert.match(describeError(503, 'no_deployment', 'no deployment of "x" could be tried', 'x').message, /Every deployment of "x" is down.*Show Health/);
    assert.equal(describeError(404, 'model_not_found', 'model "y" is not configured', 'y').kind, 'NotFound');
  });
});

describe('token counts', () => {
  it('uses a real tokenizer, not characters divided by four', () => {
    assert.equal(count(''), 0);
    assert.equal(count('hello world'), 2);
    // 40 characters of one repeated letter are far fewer than 10 tokens in o200k_base.
    assert.ok(count('a'.repeat(40)) < 10);
    assert.equal(count('<|endoftext|>') > 1, true, 'special-token text counts as text instead of throwing');
  });
});
