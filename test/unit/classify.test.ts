// The auto classifier against its documented scoring (classify.ts header):
//   prompt > 1,000 est. tokens +1, > 4,000 +2; max output > 2,000 +1; code +2; > 8 messages +1;
//   tools +1; each distinct reasoning cue +1 (at most +3).
//   reasoning: >= 2 cues and score >= 3, or reasoning_effort set; else complex >= 4, medium >= 2, simple.
import assert from 'node:assert/strict';
import { classify, messageText } from '../../daemon/routing/classify';
import type { ChatBody } from '../../daemon/core/chat';
import type { Tier } from '../../shared/routing-config';

const user = (content: unknown, extra: Partial<ChatBody> = {}): ChatBody => ({ model: 'auto', messages: [{ role: 'user', content }], ...extra });

/** A chat of n short messages alternating user/assistant. */
const chat = (n: number, last = 'and one more thing'): ChatBody => ({
  model: 'auto',
  messages: Array.from({ length: n }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: i === n - 1 ? last : `message ${i}` })),
});

// Prose with no code-looking lines and no cue words: 71 characters a sentence.
const SENTENCE = 'The quarterly report shows steady growth across all regions and teams. ';
const prose = (chars: number) => SENTENCE.repeat(Math.ceil(chars / SENTENCE.length)).slice(0, chars);

const TOOL = { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: {} } } };
const BUGGY = 'def fact(n):\n    return n * fact(n)\n';

interface Case {
  name: string;
  body: ChatBody;
  tier: Tier;
  score: number;
}

const CASES: Case[] = [
  { name: 'a greeting', body: user('hi'), tier: 'simple', score: 0 },
  { name: 'a short factual question', body: user('What is the capital of France?'), tier: 'simple', score: 0 },
  { name: 'a word that merely contains a cue ("improve" is not "prove")', body: user('How can I improve my essay?'), tier: 'simple', score: 0 },
  { name: 'one reasoning cue', body: user('Why is the sky blue?'), tier: 'simple', score: 1 },
  { name: 'a mid-length document (~1,065 tokens)', body: user(`Summarise this:\n${prose(4_260)}`), tier: 'simple', score: 1 },
  { name: 'a long document summary (~4,260 tokens)', body: user(`Summarise this document:\n${prose(17_040)}`), tier: 'medium', score: 2 },
  { name: 'a fenced code block', body: user('What does this print?\n```js\nconsole.log(1)\n```'), tier: 'medium', score: 2 },
  { name: 'three unfenced code lines', body: user(`Explain:\n${BUGGY}import os`), tier: 'medium', score: 2 },
  { name: 'two unfenced code lines are not code', body: user(`Explain:\n${BUGGY}`), tier: 'simple', score: 0 },
  { name: 'code to debug (one cue)', body: user(`Please debug this:\n\`\`\`python\n${BUGGY}\`\`\``), tier: 'medium', score: 3 },
  {
    name: 'code with a bug to debug and compare (two cues, score 4)',
    body: user(`Debug this and compare it with an iterative version:\n\`\`\`python\n${BUGGY}\`\`\``),
    tier: 'reasoning',
    score: 4,
  },
  { name: 'two cues but only 2 points', body: user('Prove it step by step.'), tier: 'medium', score: 2 },
  { name: 'three cues', body: user('Prove it step by step and explain why it holds.'), tier: 'reasoning', score: 3 },
  {
    name: 'many cues count at most 3',
    body: user('Analyse and compare the trade-offs, derive the bound, optimise it and prove it step by step.'),
    tier: 'reasoning',
    score: 3,
  },
  { name: 'tools offered', body: user('What is the weather in Paris?', { tools: [TOOL] }), tier: 'simple', score: 1 },
  { name: 'tools and a large max_tokens', body: user('Plan my trip.', { tools: [TOOL], max_tokens: 4_000 }), tier: 'medium', score: 2 },
  { name: 'a conversation of 8 messages', body: chat(8), tier: 'simple', score: 0 },
  { name: 'a conversation of 9 messages', body: chat(9), tier: 'simple', score: 1 },
  {
    name: 'code, tools and a long conversation (complex without cues)',
    body: { ...chat(10, '```ts\nconst x: number = f();\n```'), tools: [TOOL] },
    tier: 'complex',
    score: 4,
  },
  {
    name: 'score 5 with a single cue stays complex',
    body: { ...chat(10, 'Debug:\n```ts\nconst x: number = f();\n```'), tools: [TOOL] },
    tier: 'complex',
    score: 5,
  },
  {
    name: 'a long prompt with a big output and tools',
    body: user(prose(17_000), { max_tokens: 8_000, tools: [TOOL] }),
    tier: 'complex',
    score: 4,
  },
  { name: 'reasoning_effort on a greeting', body: user('hi', { reasoning_effort: 'low' }), tier: 'reasoning', score: 0 },
  { name: 'max_tokens exactly 2,000', body: user('hi', { max_tokens: 2_000 }), tier: 'simple', score: 0 },
  { name: 'max_tokens 2,001', body: user('hi', { max_tokens: 2_001 }), tier: 'simple', score: 1 },
];

describe('classify: tiers on example prompts', () => {
  for (const c of CASES) {
    it(`${c.name} -> ${c.tier} (score ${c.score})`, () => {
      const got = classify(c.body);
      assert.deepEqual({ tier: got.tier, score: got.score }, { tier: c.tier, score: c.score }, got.reasons.join('; '));
    });
  }
});

describe('classify: reasons and estimates', () => {
  it('names every signal that scored, with its points', () => {
    const body: ChatBody = {
      model: 'auto',
      messages: [
        ...chat(8).messages,
        { role: 'user', content: `${prose(16_400)}\nDebug this and compare the two:\n\`\`\`js\nlet a = 1;\n\`\`\`` },
      ],
      max_completion_tokens: 3_000,
      tools: [TOOL, TOOL],
    };
    const got = classify(body);
    const reasons = got.reasons.join('\n');
    assert.match(reasons, /^long prompt, ~\d+ tokens \(\+2\)$/m);
    assert.match(reasons, /^asks for up to 3000 output tokens \(\+1\)$/m);
    assert.match(reasons, /^code in the prompt \(\+2\)$/m);
    assert.match(reasons, /^conversation of 9 messages \(\+1\)$/m);
    assert.match(reasons, /^2 tool\(s\) offered \(\+1\)$/m);
    assert.match(reasons, /^reasoning cues: debug, compare \(\+2\)$/m);
    assert.equal(got.score, 9);
    assert.equal(got.tier, 'reasoning');
  });

  it('names the prompt size band and the capped cue list', () => {
    assert.deepEqual(classify(user(prose(4_004))).reasons, ['prompt of ~1001 tokens (+1)']);
    assert.deepEqual(classify(user(prose(4_000))).reasons, ['short prompt with no code, tools or reasoning cues']);
    assert.deepEqual(classify(user('Analyse and compare, then derive and optimise it.')).reasons, [
      'reasoning cues: analyse, compare, derive, optimise (+3)',
    ]);
  });

  it('says when the client asked for reasoning', () => {
    const got = classify(user('hi', { reasoning_effort: 'high' }));
    assert.deepEqual(got.reasons, ['client set reasoning_effort "high"']);
  });

  it('prefers max_completion_tokens over max_tokens', () => {
    assert.equal(classify(user('hi', { max_completion_tokens: 3_000, max_tokens: 100 })).score, 1);
    assert.equal(classify(user('hi', { max_completion_tokens: 100, max_tokens: 3_000 })).score, 0);
  });

  it('estimates prompt tokens at 4 characters each over text parts only, ignoring images', () => {
    const parts = [
      { type: 'text', text: 'What is in this image?' },
      { type: 'image_url', image_url: { url: `data:image/png;base64,${'A'.repeat(50_000)}` } },
      { type: 'text', text: 'Be brief.' },
    ];
    const got = classify(user(parts));
    assert.equal(messageText([{ role: 'user', content: parts }]), 'What is in this image?\nBe brief.');
    assert.equal(got.estimatedPromptTokens, Math.ceil('What is in this image?\nBe brief.'.length / 4));
    assert.equal(got.tier, 'simple');
  });

  it('finds code inside text parts too', () => {
    assert.equal(classify(user([{ type: 'text', text: '```\nx\n```' }])).tier, 'medium');
  });
});

describe('classify: the design cue', () => {
  it('hears "design an" and "design the" as well as "design a"', () => {
    for (const phrase of ['Design an API for invoices and compare options', 'Design the schema and compare options', 'Design a queue and compare options']) {
      const c = classify({ model: 'auto', messages: [{ role: 'user', content: phrase }] });
      assert.ok(c.reasons.some((r) => /reasoning cues: .*design/.test(r)), `${phrase}: ${c.reasons.join('; ')}`);
    }
  });
});
