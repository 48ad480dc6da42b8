// The parties of the benchmark, each in its own process on 127.0.0.1: the upstream (Shepherd's sandbox),
// the bare proxy, Shepherd and Portkey's gateway. A target is what the load generator calls:
// { name, originFor(model), headersFor(model), pid }.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, spawnNode, waitForOk } from './procs.mjs';

// Upstream timings: `instant` answers at once; `paced` streams 20 chunks 20 ms apart (the chunking
// and first-chunk check); `slow` streams a chunk every 100 ms (the 1,000 open streams).
export const UPSTREAMS = { instant: 0, paced: { gapMs: 20, chunks: 20 }, slow: { gapMs: 500, chunks: 12 } };
// Model names clients send; each names one upstream timing.
export const MODELS = { instant: 'bench', paced: 'bench-paced', slow: 'bench-slow' };
// The other endpoints' rows (lib/protocols.mjs): an embedding group, and groups on Anthropic-type
// deployments (passthrough of /v1/messages; the sandbox serves /v1/messages on the same ports), by timing.
/** The cascade rows: the strong group, and the auto profiles for cascade.stream strong and for an escalation every time. */
export const CASCADE = { strong: 'bench-paced-strong', strongStream: 'bench-strong-stream', escalate: 'bench-escalate' };
export const EXTRA_MODELS = { embed: ['bench-embed', 'instant'], claude: ['bench-claude', 'instant'], claudePaced: ['bench-claude-paced', 'paced'] };

export async function startUpstream({ root, logDir }) {
  const proc = await spawnNode('upstream', ['--import', 'tsx', join(root, 'test/bench/upstream.ts'), JSON.stringify(UPSTREAMS)], {
    cwd: root,
    logFile: join(logDir, 'upstream.log'),
    jsonLine: true,
  });
  const origins = Object.fromEntries(Object.entries(proc.info.ports).map(([k, port]) => [k, `http://127.0.0.1:${port}`]));
  return { proc, origins };
}

/** model name -> upstream origin, as the bare proxy and the direct target need it. */
export function modelRoutes(origins) {
  return Object.fromEntries([
    ...Object.entries(MODELS).map(([timing, model]) => [model, origins[timing]]),
    ...Object.values(EXTRA_MODELS).map(([model, timing]) => [model, origins[timing]]),
  ]);
}

export function direct(upstream) {
  // Every model is served by its own sandbox; the direct target picks the origin per model.
  const routes = modelRoutes(upstream.origins);
  return { name: 'direct', originFor: (model) => routes[model], headersFor: () => ({}), pid: upstream.proc.pid };
}

export async function startBare({ root, logDir, upstream, probeFile, tag = '' }) {
  const env = probeFile ? { BENCH_LOOP_PROBE_FILE: probeFile } : {};
  const proc = await spawnNode(
    `bare proxy${tag}`,
    ['--require', join(root, 'test/bench/loop-probe.cjs'), join(root, 'test/bench/bare-proxy.mjs'), '0', JSON.stringify(modelRoutes(upstream.origins))],
    { cwd: root, env, logFile: join(logDir, `bare${tag}.log`), jsonLine: true },
  );
  const origin = `http://127.0.0.1:${proc.info.port}`;
  return { name: 'bare proxy', proc, originFor: () => origin, headersFor: () => ({}), pid: proc.pid };
}

/**
 * Shepherd's config for the benchmark: realistic, not trimmed. Each model group has two deployments
 * (two providers, as a primary and a secondary region would be) on the same upstream, routed by the
 * latency strategy, with prices (so every request is costed); health tracking, probes (defaults),
 * the ledger and metrics are on as they always are.
 */
export function shepherdConfig(origins, port) {
  const providers = {};
  const models = {};
  for (const [timing, model] of Object.entries(MODELS)) {
    for (const side of ['primary', 'secondary']) {
      providers[`${timing}-${side}`] = { baseUrl: `${origins[timing]}/v1`, apiKey: 'bench-upstream-key' };
    }
    models[model] = {
      price: { input: 2, cachedInput: 0.5, output: 8 },
      deployments: [
        { provider: `${timing}-primary`, model: 'bench', region: 'us-east' },
        { provider: `${timing}-secondary`, model: 'bench', region: 'eu-west' },
      ],
    };
  }
  // The same shape for the other endpoints: two deployments each, priced.
  models[EXTRA_MODELS.embed[0]] = {
    kind: 'embedding',
    price: { input: 0.02, output: 0 },
    deployments: [
      { provider: 'instant-primary', model: 'bench-embed', region: 'us-east' },
      { provider: 'instant-secondary', model: 'bench-embed', region: 'eu-west' },
    ],
  };
  for (const [model, timing] of [EXTRA_MODELS.claude, EXTRA_MODELS.claudePaced]) {
    for (const side of ['primary', 'secondary']) {
      providers[`${model}-${side}`] = { type: 'anthropic', baseUrl: `${origins[timing]}/v1`, apiKey: 'bench-upstream-key' };
    }
    models[model] = {
      price: { input: 3, cachedInput: 0.3, output: 15 },
      deployments: [
        { provider: `${model}-primary`, model: 'bench', region: 'us-east' },
        { provider: `${model}-secondary`, model: 'bench', region: 'eu-west' },
      ],
    };
  }
  // The cascade's rows (issue 19): `auto:cascade` starts at bench-paced and escalates to a strong group
  // on the same paced upstream; profiles for the strong streaming mode and for a cascade that always
  // escalates (a minimum length no answer reaches).
  models[CASCADE.strong] = { price: { input: 3, output: 15 }, deployments: models[MODELS.paced].deployments };
  const auto = {
    tiers: { simple: MODELS.paced, medium: MODELS.paced, complex: CASCADE.strong, reasoning: CASCADE.strong },
    profiles: {
      [CASCADE.strongStream]: { cascade: { stream: 'strong' } },
      [CASCADE.escalate]: { cascade: { checks: { minLength: { simple: 1_000_000 } } } },
    },
  };
  return { server: { port }, sandbox: false, providers, models, routing: { strategy: 'latency', auto } };
}

/** `configExtra`: sections added to the benchmark's config (the team row's budgets, limits and team). */
export async function startShepherd({ root, logDir, upstream, probeFile, tag = '', daemonJs = join(root, 'dist/daemon.js'), configExtra = {}, name = 'shepherd' }) {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'shepherd-bench-data-'));
  const configPath = join(dataDir, 'bench-config.json');
  writeFileSync(configPath, JSON.stringify({ ...shepherdConfig(upstream.origins, port), ...configExtra }, null, 2));
  const env = probeFile ? { BENCH_LOOP_PROBE_FILE: probeFile } : {};
  const proc = await spawnNode(
    `shepherd${tag}`,
    ['--require', join(root, 'test/bench/loop-probe.cjs'), daemonJs, 'start', '--config', configPath, '--data-dir', dataDir, '--port', String(port)],
    { cwd: root, env, logFile: join(logDir, `shepherd${tag}.log`) },
  );
  const origin = `http://127.0.0.1:${port}`;
  await waitForOk(`${origin}/v1/models`, { proc });
  return { name, proc, originFor: () => origin, headersFor: () => ({}), pid: proc.pid, dataDir, configPath };
}

export async function startPortkey({ benchDir, logDir, upstream }) {
  const port = await freePort();
  // --headless: no log console UI (its fastest configuration).
  const proc = await spawnNode('portkey', [join(benchDir, 'node_modules/@portkey-ai/gateway/build/start-server.js'), `--port=${port}`, '--headless'], {
    cwd: benchDir,
    logFile: join(logDir, 'portkey.log'),
  });
  const origin = `http://127.0.0.1:${port}`;
  await waitForOk(`${origin}/`, { proc }).catch(async () => waitForOk(`${origin}/v1/models`, { proc }));
  const routes = modelRoutes(upstream.origins);
  return {
    name: 'portkey',
    proc,
    originFor: () => origin,
    // Portkey's routing headers: the OpenAI provider with a custom host (the upstream).
    headersFor: (model) => ({ 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${routes[model]}/v1` }),
    pid: proc.pid,
  };
}
