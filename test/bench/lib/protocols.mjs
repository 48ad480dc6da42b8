// The other endpoints' rows (issues 16 and 17): the Responses API (translated to chat upstream), embeddings,
// and Anthropic's /v1/messages passed through to an Anthropic-type deployment versus translated to an
// OpenAI-type one. Portkey does not take part (its routing headers differ per endpoint); each row
// compares Shepherd with the direct upstream and the bare proxy, or Shepherd's two paths with each other.
import { Agent, request } from 'undici';
import { apiRequest, interleaved, merge, run, stats } from './load.mjs';
import { CASCADE, EXTRA_MODELS, MODELS } from './targets.mjs';

const PROMPT = 'Stream a short answer, please.';

// An agent's turn, the request Claude Code repeats every turn in miniature: a long system prompt with a
// cache breakpoint, a dozen tools, a conversation of some turns (about 40 KB of JSON). Per-request
// cost that grows with the body (parsing, translating, serialising) shows here, not in a 150-byte one.
const agentBody = (model) => ({
  model,
  max_tokens: 64,
  system: [{ type: 'text', text: 'You are a careful coding agent working in a repository. '.repeat(360), cache_control: { type: 'ephemeral' } }],
  tools: Array.from({ length: 12 }, (_, i) => ({
    name: `tool_${i}`,
    description: `Runs step ${i} of the task and reports what it found, in detail.`,
    input_schema: { type: 'object', properties: { path: { type: 'string' }, depth: { type: 'number' } }, required: ['path'] },
  })),
  messages: Array.from({ length: 9 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: `Turn ${i}: ${'look at the files and summarise them. '.repeat(40)}` })),
});

/** The requests of the rows, by name: a path and a body (the model picks the group). */
export const REQUESTS = {
  chatStream: { path: '/v1/chat/completions', body: { model: MODELS.paced, messages: [{ role: 'user', content: PROMPT }], stream: true } },
  responsesStream: { path: '/v1/responses', body: { model: MODELS.paced, input: PROMPT, stream: true } },
  chat: {
    path: '/v1/chat/completions',
    body: { model: MODELS.instant, messages: [{ role: 'user', content: 'Summarise the benefits of connection pooling in two sentences.' }], max_tokens: 64 },
  },
  responses: {
    path: '/v1/responses',
    body: { model: MODELS.instant, instructions: 'You are a concise assistant.', input: 'Summarise the benefits of connection pooling in two sentences.', max_output_tokens: 64 },
  },
  embeddings: { path: '/v1/embeddings', body: { model: EXTRA_MODELS.embed[0], input: 'Connection pooling keeps sockets open between requests.' } },
  messagesPass: {
    path: '/v1/messages',
    body: { model: EXTRA_MODELS.claude[0], max_tokens: 64, messages: [{ role: 'user', content: 'Summarise the benefits of connection pooling in two sentences.' }] },
  },
  messagesTrans: {
    path: '/v1/messages',
    body: { model: MODELS.instant, max_tokens: 64, messages: [{ role: 'user', content: 'Summarise the benefits of connection pooling in two sentences.' }] },
  },
  messagesPassAgent: { path: '/v1/messages', body: agentBody(EXTRA_MODELS.claude[0]) },
  messagesTransAgent: { path: '/v1/messages', body: agentBody(MODELS.instant) },
  messagesPassStream: { path: '/v1/messages', body: { model: EXTRA_MODELS.claudePaced[0], max_tokens: 64, stream: true, messages: [{ role: 'user', content: PROMPT }] } },
  cascadeHold: { path: '/v1/chat/completions', body: { model: 'auto:cascade', messages: [{ role: 'user', content: PROMPT }], stream: true } },
  cascadeEscalate: { path: '/v1/chat/completions', body: { model: `auto:${CASCADE.escalate}`, messages: [{ role: 'user', content: PROMPT }], stream: true } },
  cascadeStrong: { path: '/v1/chat/completions', body: { model: `auto:${CASCADE.strongStream}`, messages: [{ role: 'user', content: PROMPT }], stream: true } },
  messagesTransStream: { path: '/v1/messages', body: { model: MODELS.paced, max_tokens: 64, stream: true, messages: [{ role: 'user', content: PROMPT }] } },
};

/** True for an SSE data object that carries answer text, in any of the three formats. */
function isContent(data) {
  if (data.type === 'response.output_text.delta') return typeof data.delta === 'string' && data.delta.length > 0;
  if (data.type === 'content_block_delta') return data.delta?.type === 'text_delta' && data.delta.text.length > 0;
  const c = data.choices?.[0]?.delta?.content;
  return typeof c === 'string' && c.length > 0;
}

/** One stream: time to the first body bytes (the first event) and to the first event with text. */
async function firstEvents(target, { path, body }, dispatcher) {
  const req = apiRequest(target, path, body);
  const t0 = performance.now();
  const res = await request(req.url, { method: 'POST', headers: req.headers, body: req.body, dispatcher });
  if (res.statusCode !== 200) throw new Error(`${target.name} ${path}: stream answered ${res.statusCode}: ${(await res.body.text()).slice(0, 200)}`);
  let firstEventMs;
  let firstContentMs;
  let buffered = '';
  for await (const chunk of res.body) {
    const t = performance.now() - t0;
    firstEventMs ??= t;
    if (firstContentMs !== undefined) continue; // read to the end, parse no more
    buffered += chunk.toString('utf8');
    let end;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const event = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const line = event.split('\n').find((l) => l.startsWith('data: '));
      if (!line || line === 'data: [DONE]') continue;
      if (firstContentMs === undefined && isContent(JSON.parse(line.slice(6)))) firstContentMs = t;
    }
  }
  if (firstContentMs === undefined) throw new Error(`${target.name} ${path}: the stream carried no text`);
  return { firstEventMs, firstContentMs };
}

/** `runs` streams of each [label, target, request], interleaved with the order rotated; medians per label. */
async function streamRuns(cases, runs, warmup = 3) {
  const agents = cases.map(() => new Agent({ keepAliveTimeout: 30_000 }));
  const acc = cases.map(() => ({ firstEvent: [], firstContent: [] }));
  try {
    for (const [i, [, t, r]] of cases.entries()) for (let k = 0; k < warmup; k++) await firstEvents(t, r, agents[i]);
    for (let k = 0; k < runs; k++) {
      for (let j = 0; j < cases.length; j++) {
        const i = (k + j) % cases.length;
        const s = await firstEvents(cases[i][1], cases[i][2], agents[i]);
        acc[i].firstEvent.push(s.firstEventMs);
        acc[i].firstContent.push(s.firstContentMs);
      }
    }
  } finally {
    await Promise.all(agents.map((a) => a.close()));
  }
  return Object.fromEntries(cases.map(([label], i) => [label, { firstEvent: stats(acc[i].firstEvent), firstContent: stats(acc[i].firstContent) }]));
}

/**
 * autocannon runs of each [label, target, request], interleaved; merged per label. Each case is warmed
 * up first (`warmupS` at c=50): a code path not yet run (a passthrough, a translator) is not yet
 * optimised, and the first case measured would pay for it.
 */
async function loadRuns(autocannon, cases, rounds, options, warmupS = 0) {
  if (warmupS > 0) for (const [, t, r] of cases) await run(autocannon, t, { connections: 50, durationS: warmupS, ...r });
  const asTargets = cases.map(([label, t, r]) => ({ name: label, run: () => run(autocannon, t, { ...options, ...r }) }));
  const runs = await interleaved(asTargets, rounds, (x) => x.run());
  return Object.fromEntries([...runs].map(([label, list]) => [label, merge(list)]));
}

/**
 * Measures the rows. `targets` are the running parties by name (direct, bare proxy, shepherd).
 * Returns { responses, embeddings, messages }, each { c50?, c1?, stream? } keyed by case label.
 */
export async function protocolPhases({ autocannon, targets, plan, step }) {
  const { direct, 'bare proxy': bare, shepherd } = targets;
  const R = REQUESTS;
  const c50 = { connections: 50, durationS: plan.throughputS };
  const c1 = { connections: 1, durationS: plan.c1S };
  const out = {};

  step(`Responses API: ${plan.streamRuns} streams each, /v1/responses vs /v1/chat/completions through Shepherd; then c=50`);
  out.responses = {
    stream: await streamRuns([['shepherd chat', shepherd, R.chatStream], ['shepherd responses', shepherd, R.responsesStream]], plan.streamRuns),
    c50: await loadRuns(autocannon, [['shepherd chat', shepherd, R.chat], ['shepherd responses', shepherd, R.responses]], plan.rounds, c50, plan.warmupS),
  };

  step('embeddings: c=50 and c=1, direct, bare proxy, Shepherd');
  const embed = [['direct', direct, R.embeddings], ['bare proxy', bare, R.embeddings], ['shepherd', shepherd, R.embeddings]];
  out.embeddings = { c50: await loadRuns(autocannon, embed, plan.rounds, c50, plan.warmupS), c1: await loadRuns(autocannon, embed, plan.rounds, c1) };

  step('Anthropic /v1/messages: passthrough vs translation, c=50 and streams');
  const messages = [
    ['direct', direct, R.messagesPass],
    ['bare proxy', bare, R.messagesPass],
    ['shepherd passthrough', shepherd, R.messagesPass],
    ['shepherd translation', shepherd, R.messagesTrans],
  ];
  out.messages = {
    c50: await loadRuns(autocannon, messages, plan.rounds, c50, plan.warmupS),
    stream: await streamRuns(
      [
        ['direct', direct, R.messagesPassStream],
        // The translated request's own upstream is the sandbox's chat stream, which starts sooner than
        // its Anthropic stream: translation's added time is measured against this one.
        ['direct chat', direct, { ...R.chatStream, body: { ...R.chatStream.body, max_tokens: 64 } }],
        ['bare proxy', bare, R.messagesPassStream],
        ['shepherd passthrough', shepherd, R.messagesPassStream],
        ['shepherd translation', shepherd, R.messagesTransStream],
      ],
      plan.streamRuns,
    ),
    agent: {
      c50: await loadRuns(autocannon, [['shepherd passthrough', shepherd, R.messagesPassAgent], ['shepherd translation', shepherd, R.messagesTransAgent]], plan.rounds, c50, plan.warmupS),
    },
  };

  step(`cascade: ${plan.streamRuns} streams each, plain vs auto:cascade held (kept, escalated) vs cascade.stream strong`);
  out.cascade = {
    stream: await streamRuns(
      [
        ['plain stream', shepherd, R.chatStream],
        ['cascade hold, kept', shepherd, R.cascadeHold],
        ['cascade hold, escalated', shepherd, R.cascadeEscalate],
        ['cascade stream strong', shepherd, R.cascadeStrong],
      ],
      plan.streamRuns,
    ),
  };
  return out;
}
