// Load generation with autocannon (programmatic API): the same chat body, the same connection counts
// and durations for every target. Latencies come from autocannon's own per-response timing (its
// 'response' event, in fractional ms), because its histogram rounds to whole milliseconds. Each run also
// reads the target process's CPU time, so CPU per request can be compared: on a shared machine it
// moves much less with other work than requests/s does.
import { cpuSeconds } from './procs.mjs';

export const CHAT_BODY = {
  model: 'bench',
  messages: [
    { role: 'system', content: 'You are a concise assistant.' },
    { role: 'user', content: 'Summarise the benefits of connection pooling in two sentences.' },
  ],
  max_tokens: 64,
  temperature: 0.2,
};

export function chatRequest(target, body = CHAT_BODY) {
  return apiRequest(target, '/v1/chat/completions', body);
}

/** A POST of `body` to `path` on a target (the other endpoints' rows: responses, embeddings, messages). */
export function apiRequest(target, path, body) {
  return {
    url: `${target.originFor(body.model)}${path}`,
    headers: {
      'content-type': 'application/json',
      authorization: 'Bearer bench',
      ...(path.startsWith('/v1/messages') ? { 'anthropic-version': '2023-06-01' } : {}),
      ...target.headersFor(body.model),
    },
    body: JSON.stringify(body),
  };
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function stats(samples) {
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return { n: sorted.length, mean: sum / sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] };
}

/**
 * Runs `measure(target)` for every target, `rounds` times, rotating the order each round, so a change in
 * the shared machine's background load over the run spreads over all targets instead of one.
 * Returns name -> [result of each round].
 */
export async function interleaved(targets, rounds, measure) {
  const out = new Map(targets.map((t) => [t.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < targets.length; i++) {
      const t = targets[(i + r) % targets.length];
      out.get(t.name).push(await measure(t));
    }
  }
  return out;
}

/** Adds up the rounds of one target: requests/s over the total time, latency over every sample. */
export function merge(runs) {
  const sum = (k) => runs.reduce((acc, x) => acc + x[k], 0);
  const durationS = sum('durationS');
  return {
    connections: runs[0].connections,
    rounds: runs.length,
    durationS,
    rps: sum('requests') / durationS,
    requests: sum('requests'),
    ok: sum('ok'),
    non2xx: sum('non2xx'),
    errors: sum('errors'),
    timeouts: sum('timeouts'),
    latency: stats(runs.flatMap((x) => x.samples)),
    cpuS: sum('cpuS'),
    cpuMsPerRequest: (sum('cpuS') * 1000) / sum('requests'),
    ...(runs[0].targetRps ? { targetRps: runs[0].targetRps } : {}),
  };
}

/** One autocannon run. Returns requests/s, counts of failures, and latency stats of the 2xx answers. */
export function run(autocannon, target, { connections, durationS, overallRate, amount, path, body }) {
  const req = path ? apiRequest(target, path, body) : chatRequest(target);
  const samples = [];
  const cpuBefore = cpuSeconds(target.pid);
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: req.url,
        method: 'POST',
        headers: req.headers,
        body: req.body,
        connections,
        pipelining: 1,
        ...(amount ? { amount } : { duration: durationS }),
        ...(overallRate ? { overallRate } : {}),
        timeout: 10,
      },
      (err, result) => {
        if (err) return reject(err);
        resolve({
          connections,
          durationS: result.duration,
          requests: result.requests.total,
          ok: result['2xx'],
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          samples,
          cpuS: cpuSeconds(target.pid) - cpuBefore,
          ...(overallRate ? { targetRps: overallRate } : {}),
        });
      },
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) samples.push(ms);
    });
  });
}
