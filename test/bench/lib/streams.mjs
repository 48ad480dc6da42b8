// Streaming measurements. These are measurements, not load: a small undici client reads the SSE stream
// and timestamps every read, so the time to first chunk and the gaps between content chunks can be
// compared with the upstream direct, and a chunk held back by a gateway shows up as a late chunk.
import { Agent, request } from 'undici';
import { chatRequest, stats } from './load.mjs';
import { MODELS, UPSTREAMS } from './targets.mjs';

const PROMPT = [{ role: 'user', content: 'Stream a short answer, please.' }];

/** Reads one stream; returns the time of the first body chunk and the arrival time of each content event. */
async function readStream(target, model, dispatcher) {
  const req = chatRequest(target, { model, messages: PROMPT, stream: true });
  const t0 = performance.now();
  const res = await request(req.url, { method: 'POST', headers: req.headers, body: req.body, dispatcher });
  if (res.statusCode !== 200) {
    const text = await res.body.text();
    throw new Error(`${target.name}: stream answered ${res.statusCode}: ${text.slice(0, 200)}`);
  }
  const headersMs = performance.now() - t0;
  let firstChunkMs;
  const contentAt = []; // ms since t0, one per content event
  const contentPerRead = []; // content events per read that carried any
  let buffered = '';
  for await (const chunk of res.body) {
    const t = performance.now() - t0;
    firstChunkMs ??= t;
    buffered += chunk.toString('utf8');
    let end;
    let inRead = 0;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const event = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
      const data = JSON.parse(event.slice(6));
      const content = data.choices?.[0]?.delta?.content;
      if (typeof content === 'string' && content.length > 0) {
        contentAt.push(t);
        inRead++;
      }
    }
    if (inRead > 0) contentPerRead.push(inRead);
  }
  return { headersMs, firstChunkMs, contentAt, contentPerRead };
}

/**
 * `runs` streams of the paced upstream (20 chunks, 20 ms apart) through each target, one target after
 * the other for each run (interleaved, as the load phases are). Lateness of content chunk k = (its
 * arrival - the first chunk's arrival) - (k-1) x gap: a chunk a gateway held back until the next one
 * arrives is about one gap late. `lateChunks` counts chunks later than half a gap; `batchedReads`
 * counts reads that carried more than one content chunk.
 */
export async function pacedStreams(targets, { runs, warmup = 3 }) {
  const gap = UPSTREAMS.paced.gapMs;
  const agents = new Map(targets.map((t) => [t.name, new Agent({ keepAliveTimeout: 30_000 })]));
  const acc = new Map(targets.map((t) => [t.name, { firstChunk: [], gaps: [], lateness: [], chunks: 0, lateChunks: 0, batchedReads: 0, minChunks: Infinity }]));
  try {
    for (const t of targets) for (let i = 0; i < warmup; i++) await readStream(t, MODELS.paced, agents.get(t.name));
    for (let i = 0; i < runs; i++) {
      for (let j = 0; j < targets.length; j++) {
        const t = targets[(i + j) % targets.length];
        const a = acc.get(t.name);
        const s = await readStream(t, MODELS.paced, agents.get(t.name));
        a.firstChunk.push(s.firstChunkMs);
        a.chunks += s.contentAt.length;
        a.minChunks = Math.min(a.minChunks, s.contentAt.length);
        // The sandbox writes its first content chunk right behind the role chunk; later ones are paced.
        a.batchedReads += s.contentPerRead.slice(1).filter((n) => n > 1).length;
        for (let k = 1; k < s.contentAt.length; k++) {
          a.gaps.push(s.contentAt[k] - s.contentAt[k - 1]);
          const late = s.contentAt[k] - s.contentAt[0] - k * gap;
          a.lateness.push(late);
          if (late > gap / 2) a.lateChunks++;
        }
      }
    }
  } finally {
    await Promise.all([...agents.values()].map((d) => d.close()));
  }
  return new Map(
    [...acc].map(([name, a]) => [
      name,
      {
        runs,
        chunksPerStream: UPSTREAMS.paced.chunks,
        minChunksSeen: a.minChunks,
        firstChunk: stats(a.firstChunk),
        gap: stats(a.gaps),
        lateness: stats(a.lateness),
        lateChunks: a.lateChunks,
        batchedReads: a.batchedReads,
        chunks: a.chunks,
      },
    ]),
  );
}

/**
 * `n` concurrent slow streams (a chunk every 100 ms) through a target, opened over `rampMs`, each read
 * to its end. Returns how many completed with every chunk.
 */
export async function openStreams(target, { n, rampMs }) {
  const dispatcher = new Agent({ connections: n + 10, keepAliveTimeout: 30_000, headersTimeout: 60_000, bodyTimeout: 60_000 });
  const expected = UPSTREAMS.slow.chunks;
  const req = chatRequest(target, { model: MODELS.slow, messages: PROMPT, stream: true });
  let complete = 0;
  let failed = 0;
  let open = 0;
  let maxOpen = 0;
  const errors = new Map();
  const one = async (delay) => {
    await new Promise((r) => setTimeout(r, delay));
    try {
      const res = await request(req.url, { method: 'POST', headers: req.headers, body: req.body, dispatcher });
      open++;
      maxOpen = Math.max(maxOpen, open);
      let events = 0;
      let buffered = '';
      for await (const chunk of res.body) {
        // Count content events without parsing JSON: the harness must not be the bottleneck.
        buffered += chunk.toString('utf8');
        const end = buffered.lastIndexOf('\n\n');
        if (end < 0) continue;
        const whole = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        for (let i = whole.indexOf('"content":"'); i >= 0; i = whole.indexOf('"content":"', i + 11)) if (whole[i + 11] !== '"') events++;
      }
      open--;
      if (res.statusCode === 200 && events >= expected) complete++;
      else {
        failed++;
        const key = `HTTP ${res.statusCode}, ${events} chunks`;
        errors.set(key, (errors.get(key) ?? 0) + 1);
      }
    } catch (err) {
      failed++;
      const key = String(err?.code ?? err?.message ?? err);
      errors.set(key, (errors.get(key) ?? 0) + 1);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: n }, (_, i) => one(Math.floor((i / n) * rampMs))));
  const wallMs = performance.now() - started;
  await dispatcher.close();
  return { n, complete, failed, maxOpen, wallMs, errors: Object.fromEntries(errors) };
}
