// The cascade checks' cost on typical answers of about 1,000 tokens (issue 19's target: well under a
// millisecond), and the one-time cost of loading the parsers' bundles (dist/cascade-parsers.js and
// dist/cascade-ts-parser.js; `npm run build` first). Prints one JSON line: npx tsx test/bench/cascade-checks.ts
import { join } from 'node:path';
import { CascadeChecksSchema } from '../../shared/routing-config';
import type { CheckedAnswer, CheckedRequest, CheckTools } from '../../daemon/routing/cascade/answer';
import { checkAnswer } from '../../daemon/routing/cascade/checks';

const root = join(__dirname, '..', '..');
const checks = CascadeChecksSchema.parse({});

function timeLoad(file: string): { ms: number; module: unknown } {
  const t0 = performance.now();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const module: unknown = require(join(root, 'dist', file));
  return { ms: performance.now() - t0, module };
}

async function main(): Promise<void> {
const parsersLoad = timeLoad('cascade-parsers.js');
const tsLoad = timeLoad('cascade-ts-parser.js');
const pyStart = performance.now();
const parsePython = await (timeLoad('cascade-tree-sitter.js').module as { loadPython(): Promise<CheckTools['parsePython']> }).loadPython();
const pythonLoadMs = performance.now() - pyStart;
const tools: CheckTools = {
  parseJs: (parsersLoad.module as { parseJs: CheckTools['parseJs'] }).parseJs,
  validate: (parsersLoad.module as { validate: CheckTools['validate'] }).validate,
  parseTs: (tsLoad.module as { parseTs: CheckTools['parseTs'] }).parseTs,
  parsePython,
};

// About 4,000 characters each: ~1,000 tokens.
const prose = `${'Shipping 1,250 units at $4.20 each comes to 1,250 × $4.20 = $5,250.00, and with 8% tax 5,250 × 8% = 420. The rest of this paragraph explains the order in plain words so the answer reads like a real one. '.repeat(18)}`.slice(0, 4000);
const code = `Here is the helper:\n\n\`\`\`js\n${'export function total(items) {\n  return items.reduce((sum, item) => sum + item.price * item.quantity, 0);\n}\n\n'.repeat(28)}\`\`\`\n\nAnd the typed version:\n\n\`\`\`ts\n${'export function total(items: { price: number; quantity: number }[]): number {\n  return items.reduce((sum, i) => sum + i.price * i.quantity, 0);\n}\n'.repeat(4)}\`\`\`\n`;
const schema = { type: 'object', properties: { items: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, price: { type: 'number' }, tags: { type: 'array', items: { type: 'string' } } }, required: ['name', 'price'] } } }, required: ['items'] };
const python = `Here it is in Python:\n\n\`\`\`python\n${'def total(items: list[dict]) -> float:\n    return sum(item["price"] * item["quantity"] for item in items)\n\n'.repeat(30)}\`\`\`\n`;
const json = JSON.stringify({ items: Array.from({ length: 40 }, (_, i) => ({ name: `item number ${i} with a longer name`, price: i * 1.25, tags: ['alpha', 'beta', 'gamma'] })) });

const cases: [string, CheckedAnswer, CheckedRequest][] = [
  ['prose with arithmetic', { content: prose, finishReason: 'stop', toolCalls: [] }, { tier: 'simple' }],
  ['code blocks (JS + TS)', { content: code, finishReason: 'stop', toolCalls: [] }, { tier: 'medium' }],
  ['python block', { content: python, finishReason: 'stop', toolCalls: [] }, { tier: 'medium' }],
  ['json_schema answer', { content: json, finishReason: 'stop', toolCalls: [] }, { tier: 'simple', responseFormat: { type: 'json_schema', json_schema: { name: 'order', schema } } }],
];

const out: Record<string, unknown> = { parsersLoadMs: round(parsersLoad.ms), tsParserLoadMs: round(tsLoad.ms), pythonLoadMs: round(pythonLoadMs), answers: {} };
for (const [name, answer, request] of cases) {
  for (let i = 0; i < 200; i++) checkAnswer(answer, request, checks, tools); // warm up (and compile the schema)
  const runs = 2000;
  const t0 = performance.now();
  let failed = 0;
  for (let i = 0; i < runs; i++) if (checkAnswer(answer, request, checks, tools)) failed++;
  const us = ((performance.now() - t0) / runs) * 1000;
  if (failed > 0) throw new Error(`${name}: a check fired on a good answer`);
  (out.answers as Record<string, unknown>)[name] = { chars: answer.content.length, meanUs: round(us) };
}
console.log(JSON.stringify(out));
}

void main();

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
