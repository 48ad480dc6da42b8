// The cascade's checks (daemon/routing/cascade/) on real-looking answers: each must catch what a user
// would call wrong, and stay quiet on answers that are right, rounded, or that it cannot read for sure.
import assert from 'node:assert/strict';
import { CascadeChecksSchema } from '../../shared/routing-config';
import type { CheckedAnswer } from '../../daemon/routing/cascade/answer';
import { checkArithmetic } from '../../daemon/routing/cascade/arithmetic';
import { checkAnswer } from '../../daemon/routing/cascade/checks';
import { checkCode } from '../../daemon/routing/cascade/code';
import { checkMinLength, checkRefusal, checkTruncated } from '../../daemon/routing/cascade/plain';
import { checkJson, checkToolArgs } from '../../daemon/routing/cascade/structured';
import { checkTools, preparePython } from '../../daemon/pipeline/cascade/tools';
import { answerFromFrames, answerFromWhole } from '../../daemon/pipeline/cascade/read-answer';

const answer = (content: string, over: Partial<CheckedAnswer> = {}): CheckedAnswer => ({ content, finishReason: 'stop', toolCalls: [], ...over });
const defaults = CascadeChecksSchema.parse({});

describe('cascade check: arithmetic', () => {
  const wrong = [
    'The total is 2 + 2 = 5.',
    'Your order: $1,234.50 + $65.50 = $1,310.00 before tax.',
    'So 23 × 19 = 427, which rounds to about 430.',
    'Working it through: 10 + 5 = 15 × 2 = 31.',
    'First 12 * 4 = 48, then 48 + 2 = 51.',
    '3 x 4 = 13',
    'Growth: 200 × 15% = 35 new users.',
    'The mean is (4 + 8 + 9) / 3; that is 4 + 8 + 9 = 22.',
  ];
  for (const text of wrong) it(`catches: ${text}`, () => assert.equal(checkArithmetic(text)?.check, 'arithmetic'));

  const fine = [
    'So 2 + 2 = 4.',
    'Your order: $1,234.50 + $65.50 = $1,300.00 before tax.',
    '10 / 3 = 3.33, so each gets a third.',
    '1/3 = 0.333 and 2/3 = 0.667 (rounded).',
    '22 / 7 = 3.14 is a common approximation of pi.',
    '50 × 20% = 10',
    '20% + 30% = 50%',
    '1,000,000 / 4 = 250,000',
    '2 + 2 = 4 = 2 × 2',
    '10 + 5 = 15 × 2 = 30',
    // Not sure what these mean: silent.
    'Solve x^2 + 3 = 7 for x.',
    'In binary, 1 + 1 = 10 in binary notation.',
    'Pages 10-20 = 11 pages.',
    'A 10% tip: 100 + 10% = 110.',
    '7 + 5 = 0 (mod 12) on a clock.',
    'Inline `2 + 2 = 5` is a famous line.',
    '```python\nassert 2 + 2 == 5\nx = 1 + 1 = 3\n```',
    'The area is 3 m × 4 m = 12 m².',
    'It costs 5 + 3 = 8 EUR, or 8€.',
    'Dates: 12/25/2024 = Christmas.',
  ];
  for (const text of fine) it(`stays quiet on: ${text.replace(/\n/g, ' ')}`, () => assert.equal(checkArithmetic(text), undefined));
});

describe('cascade check: code blocks', () => {
  it('catches a JavaScript block that does not parse', () => {
    const r = checkCode('Here you go:\n```js\nfunction double(n) {\n  return n * 2;\n```\n', checkTools);
    assert.equal(r?.check, 'code');
    assert.match(r!.detail, /js block does not parse/);
  });
  it('catches TypeScript and JSON that do not parse', () => {
    assert.equal(checkCode('```ts\nconst x: number = ;\n```', checkTools)?.check, 'code');
    assert.equal(checkCode('```json\n{"a": 1,}\n```', checkTools)?.check, 'code');
  });
  it('stays quiet on code that parses: modules, scripts with a top-level return, JSX, TypeScript, JSON', () => {
    const blocks = [
      '```javascript\nimport fs from "node:fs";\nexport const read = (p) => fs.readFileSync(p, "utf8");\n```',
      '```js\nconst data = await fetch(url).then((r) => r.json());\nreturn data;\n```',
      '```jsx\nexport function App() {\n  return <div className="x">{items.map((i) => <Item key={i} />)}</div>;\n}\n```',
      '```js\nconst el = <Button onClick={go}>Go</Button>;\n```',
      '```ts\ninterface User { name: string; age?: number }\nexport function greet(u: User): string {\n  return `hi ${u.name}`;\n}\n```',
      '```tsx\nconst C: React.FC<{ n: number }> = ({ n }) => <span>{n}</span>;\n```',
      '```json\n{"name": "shepherd", "version": "0.1.0"}\n```',
      // Before and after in one block: the name is declared twice, which no reader takes for broken code.
      '```js\n// before\nconst total = (xs) => xs.reduce((a, b) => a + b);\n// after\nconst total = (xs) => xs.reduce((a, b) => a + b, 0);\n```',
    ];
    for (const b of blocks) assert.equal(checkCode(b, checkTools), undefined, b);
  });
  it('stays quiet on placeholders, JSON with comments, languages without a parser and untagged blocks', () => {
    const blocks = [
      '```js\nfunction handler(req, res) {\n  ...\n}\n```',
      '```js\nconst client = new Client({ apiKey: <YOUR_API_KEY> });\n```',
      '```json\n{\n  // your settings\n  "editor.tabSize": 2\n}\n```',
      '```ruby\ndef f(\n```',
      '```\nthis is not code {\n```',
    ];
    for (const b of blocks) assert.equal(checkCode(b, checkTools), undefined, b);
  });

  describe('Python (tree-sitter, loaded asynchronously)', () => {
    before(() => preparePython());
    it('catches Python that does not parse', () => {
      const r = checkCode('Try this:\n```python\ndef area(r:\n    return 3.14159 * r ** 2\n```', checkTools);
      assert.equal(r?.check, 'code');
      assert.match(r!.detail, /python block does not parse: .*line 1/);
      assert.equal(checkCode('```py\nfor i in range(3)\n    print(i)\n```', checkTools)?.check, 'code');
    });
    it('stays quiet on current Python: type hints, match, generics, f-strings, async, a body of ...', () => {
      const blocks = [
        '```python\nfrom dataclasses import dataclass\n\n@dataclass\nclass User:\n    name: str\n    age: int | None = None\n```',
        '```python\nmatch command.split():\n    case ["go", direction]:\n        move(direction)\n    case _:\n        pass\n```',
        '```python\ndef first[T](xs: list[T]) -> T:\n    return xs[0]\n```',
        '```python\nprint(f"{name!r:>{width}} = {value:.2f}")\n```',
        '```python\nasync def fetch(session, url):\n    async with session.get(url) as r:\n        return await r.json()\n```',
      ];
      for (const b of blocks) assert.equal(checkCode(b, checkTools), undefined, b);
    });
  });
});

describe('cascade check: JSON answers and tool arguments', () => {
  const schema = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } }, required: ['name', 'age'], additionalProperties: false };
  const format = { type: 'json_schema', json_schema: { name: 'user', schema } };
  it('catches JSON mode answers that are not JSON, and json_schema answers that do not match', () => {
    assert.equal(checkJson(answer('```json\n{"name": "Ada"}\n```'), { type: 'json_object' }, checkTools)?.check, 'json');
    assert.match(checkJson(answer('{"name": "Ada", "age": "36"}'), format, checkTools)!.detail, /age must be integer/);
    assert.equal(checkJson(answer('{"name": "Ada"}'), format, checkTools)?.check, 'json');
  });
  it('stays quiet on valid JSON, on requests without a response_format, and on a schema it cannot compile', () => {
    assert.equal(checkJson(answer('{"name": "Ada", "age": 36}'), format, checkTools), undefined);
    assert.equal(checkJson(answer('{"anything": true}'), { type: 'json_object' }, checkTools), undefined);
    assert.equal(checkJson(answer('not json'), undefined, checkTools), undefined);
    assert.equal(checkJson(answer('{}'), { type: 'json_schema', json_schema: { name: 'x', schema: { $ref: '#/nowhere' } } }, checkTools), undefined);
  });
  const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer', minimum: 1 } }, required: ['city'] } } }];
  it('catches tool calls with invalid or mismatched arguments, or a tool that was not offered', () => {
    const call = (name: string, args: string) => answer('', { toolCalls: [{ name, arguments: args }], finishReason: 'tool_calls' });
    assert.match(checkToolArgs(call('get_weather', '{"days": 3}'), tools, checkTools)!.detail, /required property 'city'/);
    assert.equal(checkToolArgs(call('get_weather', '{"city": "Paris", "days": 0}'), tools, checkTools)?.check, 'toolArgs');
    assert.match(checkToolArgs(call('get_weather', '{"city": "Par'), tools, checkTools)!.detail, /not valid JSON/);
    assert.match(checkToolArgs(call('get_time', '{}'), tools, checkTools)!.detail, /not offered/);
  });
  it('stays quiet on matching arguments', () => {
    const ok = answer('', { toolCalls: [{ name: 'get_weather', arguments: '{"city": "Paris", "days": 2}' }] });
    assert.equal(checkToolArgs(ok, tools, checkTools), undefined);
  });
});

describe('cascade check: cut off, refusals, minimum length', () => {
  it('catches an answer cut off with no limit set, or far below the limit the client set', () => {
    assert.equal(checkTruncated(answer('Once upon a', { finishReason: 'length' }), undefined)?.check, 'truncated');
    assert.equal(checkTruncated(answer('Once upon a', { finishReason: 'length', completionTokens: 1024 }), 4096)?.check, 'truncated');
  });
  it('stays quiet when the client asked for that limit', () => {
    assert.equal(checkTruncated(answer('Once upon a', { finishReason: 'length', completionTokens: 100 }), 100), undefined);
    assert.equal(checkTruncated(answer('Once upon a', { finishReason: 'length' }), 100), undefined);
    assert.equal(checkTruncated(answer('The end.'), undefined), undefined);
  });
  const phrases = defaults.refusalPhrases;
  it('catches empty answers and short refusals or shrugs, curly apostrophes too', () => {
    assert.equal(checkRefusal(answer('   '), phrases, 400)?.detail, 'the answer is empty');
    assert.equal(checkRefusal(answer("I'm sorry, but I can't help with that request."), phrases, 400)?.check, 'refusal');
    assert.equal(checkRefusal(answer('I’m not sure.'), phrases, 400)?.check, 'refusal');
  });
  it('stays quiet on long answers that open with a hedge, on tool calls, and on answers that merely mention a phrase later', () => {
    const long = `I'm not sure which version you use, so here are both. ${'In version 1 you call init() first. '.repeat(15)}`;
    assert.equal(checkRefusal(answer(long), phrases, 400), undefined);
    assert.equal(checkRefusal(answer('', { toolCalls: [{ name: 'f', arguments: '{}' }] }), phrases, 400), undefined);
    assert.equal(checkRefusal(answer('Paris is the capital of France.'), phrases, 400), undefined);
  });
  it('applies a minimum length only for the tiers it is set for (off by default)', () => {
    assert.equal(checkMinLength(answer('Yes.'), { tier: 'complex' }, {}), undefined);
    assert.equal(checkMinLength(answer('Yes.'), { tier: 'complex' }, { complex: 200 })?.check, 'minLength');
    assert.equal(checkMinLength(answer('Yes.'), { tier: 'simple' }, { complex: 200 }), undefined);
  });
});

describe('cascade checks together', () => {
  it('a switched-off check never fires', () => {
    const wrong = answer('So 2 + 2 = 5.');
    assert.equal(checkAnswer(wrong, { tier: 'simple' }, defaults, checkTools)?.check, 'arithmetic');
    assert.equal(checkAnswer(wrong, { tier: 'simple' }, { ...defaults, arithmetic: false }, checkTools), undefined);
  });
  it('reads whole answers and streamed frames alike', () => {
    const whole = answerFromWhole(JSON.stringify({ choices: [{ message: { content: 'hi', tool_calls: [{ function: { name: 'f', arguments: '{"a":1}' } }] }, finish_reason: 'tool_calls' }], usage: { completion_tokens: 7 } }));
    assert.deepEqual(whole, { content: 'hi', finishReason: 'tool_calls', toolCalls: [{ name: 'f', arguments: '{"a":1}' }], completionTokens: 7 });
    const frames = [
      { choices: [{ delta: { content: 'h' } }] },
      { choices: [{ delta: { content: 'i', tool_calls: [{ index: 0, function: { name: 'f', arguments: '{"a"' } }] } }] },
      { choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }, finish_reason: 'tool_calls' }] },
      { choices: [], usage: { completion_tokens: 7 } },
    ].map((f) => `data: ${JSON.stringify(f)}\n\n`).join('') + 'data: [DONE]\n\n';
    assert.deepEqual(answerFromFrames(frames), whole);
  });
});
