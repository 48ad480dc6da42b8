// Turns the measurements into ratios, target verdicts, the stdout table and docs/BENCHMARKS.md.
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { UPSTREAMS } from './targets.mjs';

const NAMES = ['direct', 'bare proxy', 'shepherd', 'portkey'];

export function machine() {
  let os = 'Linux';
  try {
    os = /^PRETTY_NAME="?([^"\n]+)/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os;
  } catch {
    // not Linux, or no os-release
  }
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, ramGb: Math.round(totalmem() / 2 ** 30), os: `${os}, kernel ${release()}`, node: process.version };
}

export function versions(root, benchDir) {
  // Read from the installed package.json files (some packages do not export theirs).
  const version = (dir) => {
    try {
      return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
    } catch {
      return 'unknown';
    }
  };
  const mods = join(benchDir, 'node_modules');
  return {
    shepherd: version(root),
    undici: version(join(root, 'node_modules', 'undici')),
    autocannon: version(join(mods, 'autocannon')),
    portkey: version(join(mods, '@portkey-ai', 'gateway')),
    'hono node-server (Portkey)': version(join(mods, '@hono', 'node-server')),
  };
}

const sub = (a, b) => ({ mean: a.mean - b.mean, p50: a.p50 - b.p50, p99: a.p99 - b.p99 });

/** Adds `added` (each target minus direct), `ratios` and `verdicts` to the results. */
export function derive(r) {
  const t = r.targets;
  const d = t.direct;
  r.added = {};
  for (const name of NAMES.slice(1)) {
    const x = t[name];
    r.added[name] = {
      c1: sub(x.c1.latency, d.c1.latency),
      rate: sub(x.rate.latency, d.rate.latency),
      firstChunkMs: x.stream.firstChunk.p50 - d.stream.firstChunk.p50,
      gapMeanMs: x.stream.gap.mean - d.stream.gap.mean,
      gapP99Ms: x.stream.gap.p99 - d.stream.gap.p99,
    };
  }
  const a = r.added;
  const sh = t.shepherd;
  const bare = t['bare proxy'];
  const pk = t.portkey;
  r.ratios = {
    'throughput c=50, Shepherd / bare proxy': sh.c50.rps / bare.c50.rps,
    'throughput c=50, Shepherd / Portkey': sh.c50.rps / pk.c50.rps,
    'CPU per request c=50, Shepherd / bare proxy': sh.c50.cpuMsPerRequest / bare.c50.cpuMsPerRequest,
    'CPU per request c=50, Portkey / Shepherd': pk.c50.cpuMsPerRequest / sh.c50.cpuMsPerRequest,
    'added latency c=1 (mean), Shepherd / bare proxy': a.shepherd.c1.mean / a['bare proxy'].c1.mean,
    'added latency c=1 (p50), Shepherd / bare proxy': a.shepherd.c1.p50 / a['bare proxy'].c1.p50,
    'added latency c=1 (mean), Shepherd / Portkey': a.shepherd.c1.mean / a.portkey.c1.mean,
    [`added latency at ${r.plan.rate} req/s (mean), Shepherd / bare proxy`]: a.shepherd.rate.mean / a['bare proxy'].rate.mean,
    'added time to first chunk (median), Shepherd / bare proxy': a.shepherd.firstChunkMs / a['bare proxy'].firstChunkMs,
    'added time to first chunk (median), Shepherd / Portkey': a.shepherd.firstChunkMs / a.portkey.firstChunkMs,
  };
  const os = r.openStreams.shepherd;
  const bos = r.openStreams['bare proxy'];
  const layouts = Object.entries(r.replay.layouts);
  const worst = layouts.length > 0 ? layouts.reduce((w, l) => (l[1].firstStartMs > w[1].firstStartMs ? l : w)) : ['not measured', { firstStartMs: NaN }];
  const full = r.replay.entries >= 1_000_000;
  r.verdicts = [
    verdict(
      'Throughput at c=50 ≥ 80 % of the bare proxy',
      `${pct(r.ratios['throughput c=50, Shepherd / bare proxy'])} of it (${num(sh.c50.rps)} vs ${num(bare.c50.rps)} req/s)`,
      r.ratios['throughput c=50, Shepherd / bare proxy'] >= 0.8,
      `Shepherd spends ${x2(r.ratios['CPU per request c=50, Shepherd / bare proxy'])} the bare proxy's CPU per request (${fix(sh.c50.cpuMsPerRequest, 3)} vs ${fix(bare.c50.cpuMsPerRequest, 3)} ms)`,
    ),
    verdict(
      'Throughput at c=50 ≥ 10x Portkey',
      `${x2(r.ratios['throughput c=50, Shepherd / Portkey'])} (${num(sh.c50.rps)} vs ${num(pk.c50.rps)} req/s)`,
      r.ratios['throughput c=50, Shepherd / Portkey'] >= 10,
      `Portkey spends ${x2(r.ratios['CPU per request c=50, Portkey / Shepherd'])} Shepherd's CPU per request; on 2 shared cores the load generator and the upstream take their share of the CPU whoever the gateway is, which narrows every throughput ratio`,
    ),
    verdict(
      'Added latency at c=1 ≤ 1.25x the bare proxy’s (mean)',
      `${ms(a.shepherd.c1.mean)} vs ${ms(a['bare proxy'].c1.mean)}: ${x2(r.ratios['added latency c=1 (mean), Shepherd / bare proxy'])}`,
      r.ratios['added latency c=1 (mean), Shepherd / bare proxy'] <= 1.25,
      `at p50: ${ms(a.shepherd.c1.p50)} vs ${ms(a['bare proxy'].c1.p50)} (${x2(r.ratios['added latency c=1 (p50), Shepherd / bare proxy'])})`,
    ),
    verdict(
      'Streaming: no chunk held back',
      `${sh.stream.lateChunks} late chunks of ${sh.stream.chunks} (direct ${d.stream.lateChunks}, bare proxy ${bare.stream.lateChunks}), ${sh.stream.batchedReads} batched reads, ${sh.stream.minChunksSeen}/${sh.stream.chunksPerStream} chunks in every stream`,
      // Against the noise floor of the same run (what the direct and bare streams saw on this machine),
      // with a margin of 2 % of the chunks: holding chunks back makes most of them late, not a few.
      sh.stream.lateChunks <= Math.max(d.stream.lateChunks, bare.stream.lateChunks) + 0.02 * sh.stream.chunks &&
        sh.stream.batchedReads <= Math.max(d.stream.batchedReads, bare.stream.batchedReads) + 0.02 * sh.stream.chunks &&
        sh.stream.minChunksSeen >= sh.stream.chunksPerStream,
    ),
    verdict(
      'Added time to first chunk ≤ 1.25x the bare proxy’s',
      `${ms(a.shepherd.firstChunkMs)} vs ${ms(a['bare proxy'].firstChunkMs)}: ${x2(r.ratios['added time to first chunk (median), Shepherd / bare proxy'])}`,
      r.ratios['added time to first chunk (median), Shepherd / bare proxy'] <= 1.25,
    ),
    verdict(
      `${os.n.toLocaleString('en')} concurrent streams: peak RSS < 150 MB`,
      `${mb(os.peakRssMb)} (${os.complete}/${os.n} streams complete, at most ${os.maxOpen} open at once)`,
      os.peakRssMb < 150 && os.complete === os.n && os.maxOpen === os.n,
      `${mb(os.idleRssMb)} before the streams opened; the bare proxy peaked at ${mb(bos.peakRssMb)} (${mb(bos.idleRssMb)} before)`,
    ),
    verdict(
      `${os.n.toLocaleString('en')} concurrent streams: no event-loop stall > 20 ms`,
      `longest ${ms(os.loopMaxMs)}; ${ms(os.loopMaxSteadyMs)} while all were open`,
      os.loopMaxMs <= 20,
      `the bare proxy, same phase: ${ms(bos.loopMaxMs)}; ${ms(bos.loopMaxSteadyMs)} while all were open${bos.loopMaxMs > 20 ? ' (over the limit too: the shared machine’s load alone exceeds it in this run)' : ''}${os.metricsLoopLagMaxMs === undefined ? '' : `; the daemon's own /metrics (event-loop delay, max since start-up): ${ms(os.metricsLoopLagMaxMs)}`}`,
    ),
    verdict(
      'Ledger replay: 1M entries < 2 s (first start, every line parsed)',
      r.replay.error
        ? `not measured: ${r.replay.error.split('\n')[0].slice(0, 160)}`
        : `${ms(worst[1].firstStartMs)} (${worst[0]}, ${r.replay.entries.toLocaleString('en')} entries)${full ? '' : ' — not 1M: a --quick run'}`,
      full && worst[1].firstStartMs < 2000,
      r.replay.error
        ? ''
        : `the cold path parses every line (${fix((worst[1].mb ?? NaN) / (worst[1].firstStartMs / 1000), 0)} MB/s); later starts read month summaries and checkpoints: ${(worst[1].laterStartMs ?? []).map(msInt).join(', ')}`,
    ),
  ];
  if (r.protocols) r.verdicts.push(...protocolVerdicts(r));
  if (r.team?.c1) r.verdicts.push(...teamVerdicts(r));
  const cc = r.cascadeChecks;
  if (cc && !cc.error) {
    const worst = Math.max(...Object.values(cc.answers).map((a) => a.meanUs));
    r.verdicts.push(verdict('Cascade checks: under 1 ms on a ~1,000-token answer of every kind (prose, JS/TS, Python, JSON)', `${fix(worst, 1)} µs for the slowest kind of answer`, worst < 1000, 'parsers loaded; their one-time load is in the daemon rows'));
  }
  if (r.protocols?.cascade) {
    const c = r.protocols.cascade.stream;
    const first = (k) => c[k].firstContent.p50;
    Object.assign(r.ratios, {
      'cascade: first text (median), held and kept / plain stream': first('cascade hold, kept') / first('plain stream'),
      'cascade: first text (median), stream strong / plain stream': first('cascade stream strong') / first('plain stream'),
    });
  }
  return r;
}

/** Team mode's row (lib/team.mjs): what Redis adds per request and costs in throughput; absent from older results. */
function teamVerdicts(r) {
  const { c1, c50 } = r.team;
  const added = c1.team.latency.mean - c1.local.latency.mean;
  const tput = c50.team.rps / c50.local.rps;
  Object.assign(r.ratios, { 'team mode: throughput c=50, team / local mode': tput });
  return [
    verdict(
      'Team mode: added latency per request at c=1 ≤ 0.3 ms over local mode (shared budgets and rate limits in Redis)',
      `${ms(added)} (mean ${ms(c1.team.latency.mean)} vs ${ms(c1.local.latency.mean)}; p50 ${ms(c1.team.latency.p50)} vs ${ms(c1.local.latency.p50)})`,
      added <= 0.3,
    ),
    verdict(
      'Team mode: throughput at c=50 ≥ 0.7x local mode',
      `${x2(tput)} (${num(c50.team.rps)} vs ${num(c50.local.rps)} req/s)`,
      tput >= 0.7,
      `CPU per request ${fix(c50.team.cpuMsPerRequest, 3)} vs ${fix(c50.local.cpuMsPerRequest, 3)} ms (the daemon's; redis-server ${r.team.redis?.version ?? ''} runs beside it on the same cores)`,
    ),
  ];
}

/** Team mode's lines: [party, figures]. */
function teamRows(r) {
  const t = r.team;
  if (!t) return [];
  if (t.skipped) return [['team mode', `skipped: ${t.skipped}`]];
  return ['local mode', 'team mode'].map((party) => {
    const key = party === 'local mode' ? 'local' : 'team';
    const x = t.c50[key];
    return [party, `${num(x.rps)} req/s at c=50 (${num(x.non2xx + x.errors + x.timeouts)} failed, CPU ${fix(x.cpuMsPerRequest, 3)} ms/req); c=1 mean / p50 / p99 ${trio(t.c1[key].latency)} ms`];
  });
}

/** Ratios and targets of the other endpoints' rows (lib/protocols.mjs); absent from older results. */
function protocolVerdicts(r) {
  const { responses: rs, embeddings: em, messages: m } = r.protocols;
  const first = (s, k) => s[k].firstContent.p50;
  const rsRatio = first(rs.stream, 'shepherd responses') / first(rs.stream, 'shepherd chat');
  const rsEvent = rs.stream['shepherd responses'].firstEvent.p50 / rs.stream['shepherd chat'].firstEvent.p50;
  const rsTput = rs.c50['shepherd responses'].rps / rs.c50['shepherd chat'].rps;
  const emTput = em.c50.shepherd.rps / em.c50['bare proxy'].rps;
  const emAdded = (n) => em.c1[n].latency.mean - em.c1.direct.latency.mean;
  // Each path against the upstream it used: translation's is the chat stream (absent from older results).
  const mAdded = (n) => first(m.stream, n) - first(m.stream, n === 'shepherd translation' && m.stream['direct chat'] ? 'direct chat' : 'direct');
  const mTput = m.c50['shepherd passthrough'].rps / m.c50['shepherd translation'].rps;
  const mCpu = m.c50['shepherd passthrough'].cpuMsPerRequest / m.c50['shepherd translation'].cpuMsPerRequest;
  // The agent-sized request (lib/protocols.mjs); absent from older results.
  const ag = m.agent?.c50;
  const agTput = ag ? ag['shepherd passthrough'].rps / ag['shepherd translation'].rps : undefined;
  const agCpu = ag ? ag['shepherd passthrough'].cpuMsPerRequest / ag['shepherd translation'].cpuMsPerRequest : undefined;
  if (ag) {
    Object.assign(r.ratios, {
      'Anthropic, agent-sized request: throughput c=50, passthrough / translation': agTput,
      'Anthropic, agent-sized request: CPU per request c=50, passthrough / translation': agCpu,
    });
  }
  Object.assign(r.ratios, {
    'Responses: first text event (median), /v1/responses / chat, through Shepherd': rsRatio,
    'Responses: throughput c=50, /v1/responses / chat, through Shepherd': rsTput,
    'embeddings: throughput c=50, Shepherd / bare proxy': emTput,
    'embeddings: throughput c=50, Shepherd / direct': em.c50.shepherd.rps / em.c50.direct.rps,
    'Anthropic: throughput c=50, passthrough / translation': mTput,
    'Anthropic: CPU per request c=50, passthrough / translation': mCpu,
  });
  return [
    verdict(
      'Responses API: time to first text event ≤ 1.25x the chat path’s, through Shepherd (streamed, translated to chat upstream)',
      `${ms(first(rs.stream, 'shepherd responses'))} vs ${ms(first(rs.stream, 'shepherd chat'))}: ${x2(rsRatio)}`,
      rsRatio <= 1.25,
      `first event of any kind: ${ms(rs.stream['shepherd responses'].firstEvent.p50)} vs ${ms(rs.stream['shepherd chat'].firstEvent.p50)} (${x2(rsEvent)}); the sandbox writes its first text right behind the role chunk, so the two often coincide`,
    ),
    verdict(
      'Responses API: throughput at c=50 ≥ 80 % of chat’s, through Shepherd (not streamed)',
      `${pct(rsTput)} (${num(rs.c50['shepherd responses'].rps)} vs ${num(rs.c50['shepherd chat'].rps)} req/s)`,
      rsTput >= 0.8,
      `CPU per request ${fix(rs.c50['shepherd responses'].cpuMsPerRequest, 3)} vs ${fix(rs.c50['shepherd chat'].cpuMsPerRequest, 3)} ms`,
    ),
    verdict(
      'Embeddings: throughput at c=50 ≥ 80 % of the bare proxy',
      `${pct(emTput)} of it (${num(em.c50.shepherd.rps)} vs ${num(em.c50['bare proxy'].rps)} req/s; direct ${num(em.c50.direct.rps)})`,
      emTput >= 0.8,
      `added latency at c=1 (mean): Shepherd ${ms(emAdded('shepherd'))}, bare proxy ${ms(emAdded('bare proxy'))}`,
    ),
    verdict(
      'Anthropic /v1/messages: passthrough cheaper than translation (throughput at c=50 higher, added time to first text event lower)',
      `throughput ${num(m.c50['shepherd passthrough'].rps)} vs ${num(m.c50['shepherd translation'].rps)} req/s (${x2(mTput)}); added first text event ${ms(mAdded('shepherd passthrough'))} vs ${ms(mAdded('shepherd translation'))}`,
      mTput > 1 && mAdded('shepherd passthrough') <= mAdded('shepherd translation'),
      `the bare proxy: ${num(m.c50['bare proxy'].rps)} req/s, added first text event ${ms(mAdded('bare proxy'))}; CPU per request passthrough / translation ${x2(mCpu)}${ag ? `; an agent-sized request (40 KB): throughput ${x2(agTput)}, CPU per request ${x2(agCpu)} (${fix(ag['shepherd passthrough'].cpuMsPerRequest, 3)} vs ${fix(ag['shepherd translation'].cpuMsPerRequest, 3)} ms)` : ''}`,
    ),
  ];
}

function verdict(target, figure, met, note = '') {
  return { target, figure, met, note };
}

const fix = (v, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');
const ms = (v) => `${fix(v, Math.abs(v) >= 10 ? 0 : 2)} ms`;
const mb = (v) => `${fix(v, 0)} MB`;
const pct = (v) => `${fix(v * 100, 0)} %`;
const x2 = (v) => (Number.isFinite(v) ? `${fix(v, 2)}x` : 'n/a');
const msInt = (v) => (Number.isFinite(v) ? `${Math.round(v).toLocaleString('en')} ms` : 'n/a');
const num = (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en') : 'n/a');
const trio = (l) => `${fix(l.mean)} / ${fix(l.p50)} / ${fix(l.p99)}`;

/** Rows of the main comparison: [label, direct, bare, shepherd, portkey]. */
function rows(r) {
  const t = r.targets;
  const each = (f) => NAMES.map((n) => f(t[n], r.added[n], n));
  const os = r.openStreams;
  return [
    ['throughput, c=50 (req/s)', ...each((x) => num(x.c50.rps))],
    ['  failed requests, c=50', ...each((x) => num(x.c50.non2xx + x.c50.errors + x.c50.timeouts))],
    ['  CPU per request, c=50 (ms)', ...each((x) => fix(x.c50.cpuMsPerRequest, 3))],
    ['latency c=1, mean / p50 / p99 (ms)', ...each((x) => trio(x.c1.latency))],
    ['  added vs direct (ms)', ...each((x, a) => (a ? trio(a.c1) : '-'))],
    [`latency at ${r.plan.rate} req/s, mean / p50 / p99 (ms)`, ...each((x) => trio(x.rate.latency))],
    ['  achieved req/s', ...each((x) => num(x.rate.rps))],
    ['  added vs direct (ms)', ...each((x, a) => (a ? trio(a.rate) : '-'))],
    ['stream: first chunk, median (ms)', ...each((x) => fix(x.stream.firstChunk.p50))],
    ['  added vs direct (ms)', ...each((x, a) => (a ? fix(a.firstChunkMs) : '-'))],
    ['stream: chunk gap mean / p99 (ms)', ...each((x) => `${fix(x.stream.gap.mean)} / ${fix(x.stream.gap.p99)}`)],
    ['  added gap mean / p99 (ms)', ...each((x, a) => (a ? `${fix(a.gapMeanMs)} / ${fix(a.gapP99Ms)}` : '-'))],
    ['  late chunks / batched reads', ...each((x) => `${x.stream.lateChunks} / ${x.stream.batchedReads}`)],
    ['RSS after the load phases (MB)', ...each((x, a, n) => (n === 'direct' ? '(upstream)' : fix(x.memoryAfterLoad.rssMb, 0)))],
    [`${os.shepherd.n} open streams: peak RSS (MB)`, '-', fix(os['bare proxy'].peakRssMb, 0), fix(os.shepherd.peakRssMb, 0), 'not run'],
    ['  streams complete / most open at once', '-', `${os['bare proxy'].complete} / ${os['bare proxy'].maxOpen}`, `${os.shepherd.complete} / ${os.shepherd.maxOpen}`, '-'],
    ['  phase wall time / gateway CPU time (s)', '-', `${fix(os['bare proxy'].wallMs / 1000, 1)} / ${fix(os['bare proxy'].cpuSeconds, 1)}`, `${fix(os.shepherd.wallMs / 1000, 1)} / ${fix(os.shepherd.cpuSeconds, 1)}`, '-'],
    ['  longest event-loop stall (ms)', '-', fix(os['bare proxy'].loopMaxMs, 1), fix(os.shepherd.loopMaxMs, 1), '-'],
    ['  longest stall, all streams open (ms)', '-', fix(os['bare proxy'].loopMaxSteadyMs, 1), fix(os.shepherd.loopMaxSteadyMs, 1), '-'],
  ];
}

/** Rows of the other endpoints: [row, party, figures]. */
function protocolRows(r) {
  const p = r.protocols;
  if (!p) return [];
  const out = [];
  const load = (row, set) => {
    for (const [party, x] of Object.entries(set.c50)) {
      const c1 = set.c1?.[party];
      out.push([row, party, `${num(x.rps)} req/s at c=50 (${num(x.non2xx + x.errors + x.timeouts)} failed, CPU ${fix(x.cpuMsPerRequest, 3)} ms/req)${c1 ? `; c=1 mean / p50 / p99 ${trio(c1.latency)} ms` : ''}`]);
    }
  };
  const streams = (row, set) => {
    for (const [party, s] of Object.entries(set)) out.push([row, party, `first event ${fix(s.firstEvent.p50)} ms, first text event ${fix(s.firstContent.p50)} ms (medians of ${s.firstContent.n})`]);
  };
  streams('Responses API, streamed (paced upstream)', p.responses.stream);
  load('Responses API, not streamed', p.responses);
  load('embeddings', p.embeddings);
  load('Anthropic /v1/messages, not streamed', p.messages);
  if (p.messages.agent) load('Anthropic /v1/messages, agent-sized request (40 KB), not streamed', p.messages.agent);
  streams('Anthropic /v1/messages, streamed (paced upstream)', p.messages.stream);
  if (p.cascade) streams('auto:cascade, streamed (paced upstream: 20 chunks 20 ms apart)', p.cascade.stream);
  return out;
}

function daemonRows(r) {
  const out = [['daemon start-up, median of ' + r.startup.runs, ms(r.startup.medianMs) + ` (min ${ms(r.startup.minMs)}, max ${ms(r.startup.maxMs)})`]];
  const cc = r.cascadeChecks;
  if (cc?.error) out.push(['cascade checks', `failed: ${cc.error.split('\n')[0].slice(0, 200)}`]);
  else if (cc) {
    out.push([
      'cascade checks on ~1,000-token answers (mean)',
      `${Object.entries(cc.answers).map(([name, a]) => `${name} ${fix(a.meanUs, 1)} µs`).join('; ')}; parsers loaded once: acorn + ajv ${msInt(cc.parsersLoadMs)}, TypeScript ${msInt(cc.tsParserLoadMs)}, Python (tree-sitter) ${msInt(cc.pythonLoadMs)}`,
    ]);
  }
  if (r.replay.error) out.push(['ledger replay', `failed: ${r.replay.error.split('\n')[0].slice(0, 200)}`]);
  for (const [name, l] of Object.entries(r.replay.layouts)) {
    out.push([`ledger replay, ${r.replay.entries.toLocaleString('en')} entries ${name} (${l.mb} MB)`, `full parse ${msInt(l.fullParseMs)}; first start ${msInt(l.firstStartMs)}; later starts ${(l.laterStartMs ?? []).map(msInt).join(', ')}; after a crash ${msInt(l.afterCrashMs)}`]);
  }
  return out;
}

function pad(cells, widths) {
  return cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
}

export function table(r) {
  const head = ['', ...NAMES];
  const body = rows(r);
  const widths = head.map((_, i) => Math.max(...[head, ...body].map((row) => String(row[i]).length)));
  const lines = [pad(head, widths), ...body.map((row) => pad(row, widths)), ''];
  for (const [k, v] of daemonRows(r)) lines.push(`${k}: ${v}`);
  const prows = protocolRows(r);
  if (prows.length) lines.push('', 'other endpoints:', ...prows.map(([row, party, v]) => `  ${row}, ${party}: ${v}`));
  const trows = teamRows(r);
  if (trows.length) lines.push('', 'team mode (a real redis-server; same config otherwise):', ...trows.map(([party, v]) => `  ${party}: ${v}`));
  lines.push('', 'ratios:');
  for (const [k, v] of Object.entries(r.ratios)) lines.push(`  ${k}: ${x2(v)}`);
  lines.push('', 'targets:');
  for (const v of r.verdicts) lines.push(`  ${v.met ? 'met    ' : 'NOT met'}  ${v.target}: ${v.figure}${v.note ? `\n             ${v.note}` : ''}`);
  lines.push('', `run time: ${fix(r.runSeconds, 0)} s`);
  return lines.join('\n');
}

const md = (row) => `| ${row.join(' | ')} |`;

function teamMarkdown(r) {
  const rows = teamRows(r);
  if (!rows.length) return '';
  return `
### Team mode

Shepherd with a \`team\` section (issue 18) against the same Shepherd in local mode, both fresh and
otherwise configured alike: a hard budget (each request reserved, then settled, in Redis) and an rpm on
every deployment far above the load (each attempt takes from the team's limiter). A real redis-server
runs on loopback beside them, in memory only. ${r.plan.rounds} x ${r.plan.throughputS} s at c=50 and ${r.plan.rounds} x ${r.plan.c1S} s at c=1, interleaved.

| party | figures |
|---|---|
${rows.map(md).join('\n')}
`;
}

function protocolMarkdown(r) {
  const rows = protocolRows(r);
  if (!rows.length) return '';
  return `
### Other endpoints

The Responses API (\`POST /v1/responses\`, translated to chat completions upstream) against the chat path
through Shepherd; embeddings (\`POST /v1/embeddings\`, an \`embedding\` group) against the direct upstream
and the bare proxy; Anthropic's \`POST /v1/messages\` to a group of Anthropic-type deployments (passed
through unchanged apart from the model) and to the OpenAI-type \`bench\` group (translated to chat
completions and back), against the same request direct to the sandbox's Anthropic wire and through
the bare proxy; and the two Anthropic paths again with an agent-sized request (a long system prompt with a
cache breakpoint, a dozen tools, nine turns: about 40 KB, the shape Claude Code sends every turn), where
what grows with the body (parsing, translating, serialising) shows. Portkey takes no part here. Load runs as in the main table (${r.plan.rounds} x ${r.plan.throughputS} s at c=50,
${r.plan.rounds} x ${r.plan.c1S} s at c=1, interleaved); streams are ${r.plan.streamRuns} per case on the paced upstream, interleaved.
*First event* is the first body bytes; *first text event* the first event that carries answer text.
Each Anthropic path's added time is against the upstream stream it used: the passthrough's against the
sandbox's Anthropic stream (*direct*), translation's against its chat stream (*direct chat*).
The \`auto:cascade\` rows (issue 19) stream through a cascade whose cheap and strong groups are both on
the paced upstream: *plain stream* asks the cheap group directly; *cascade hold, kept* holds the cheap
answer until its checks pass (its first text comes when the whole cheap answer is in); *escalated*
holds it, fails a check on purpose (a minimum length no answer reaches) and streams the strong answer;
*cascade stream strong* (\`cascade.stream: "strong"\`) sends the stream straight to the strong group.

| row | party | figures |
|---|---|---|
${rows.map(md).join('\n')}
`;
}

export function markdown(r) {
  const m = r.machine;
  const v = r.versions;
  const met = r.verdicts.filter((x) => x.met).length;
  const notMet = r.verdicts.filter((x) => !x.met);
  return `# Benchmarks

Generated by \`${r.command}\` on ${r.date.slice(0, 16).replace('T', ' ')} UTC (run time ${fix(r.runSeconds, 0)} s) from
\`docs/benchmarks.json\`; do not edit by hand, run the command again. The harness is in \`test/bench/\`.

**${met} of ${r.verdicts.length} targets met.**${notMet.length ? ` Not yet: ${notMet.map((x) => x.target).join('; ')}.` : ''}

What the profiles showed, what was changed on the request path, and before/after figures from the
same harness: [PERFORMANCE.md](PERFORMANCE.md).

## Machine and versions

| | |
|---|---|
| CPU | ${m.cpu}, ${m.cores} cores |
| RAM | ${m.ramGb} GB |
| OS | ${m.os} |
| Node | ${m.node} |
| load average (1 min) before / after the run | ${fix(m.loadAverageBefore)} / ${fix(m.loadAverageAfter)} (other work on the shared machine counts too) |
| Shepherd build | commit ${r.build?.commit ?? 'unknown'}${r.build?.uncommittedChanges ? ' with uncommitted changes in daemon/ or shared/' : ''}; dist/daemon.js sha256 ${r.build?.daemonJsSha256 ?? 'unknown'} (one copy used by every Shepherd process of the run) |
${Object.entries(v).map(([k, ver]) => `| ${k} | ${ver} |`).join('\n')}

## What runs

Everything on 127.0.0.1, each party in its own process, measured in the same run with the same load
generator (autocannon) and the same request body. Each phase runs every party ${r.plan.rounds === 1 ? 'once' : `${r.plan.rounds} times`},
interleaved with the order rotated each round, so a change in the machine's background load during
the run is spread over all four:

- **direct**: the upstream itself, Shepherd's sandbox with no latency configured (it answers without a
  timer), so every figure above it is gateway cost. The floor.
- **bare proxy** (\`test/bench/bare-proxy.mjs\`): node:http and an undici Pool; parses the request JSON,
  forwards it, parses the response JSON and replies; streams are piped chunk by chunk. What any Node
  gateway must do at minimum.
- **shepherd**: \`node dist/daemon.js start\` with a realistic config: each model group has two deployments
  (two providers) on the upstream, strategy \`latency\`, prices, health tracking and probes (defaults),
  the ledger and metrics on, default log level (\`shepherdConfig()\` in \`test/bench/lib/targets.mjs\`).
- **portkey**: \`@portkey-ai/gateway\` ${v.portkey} from npm (\`build/start-server.js --headless\`), routed to
  the same upstream with \`x-portkey-provider: openai\` and \`x-portkey-custom-host\`.

## Results

| | ${NAMES.join(' | ')} |
|---|${NAMES.map(() => '---:').join('|')}|
${rows(r).map((row) => md(row.map((c) => String(c).replace(/^ +/, '&nbsp;&nbsp;')))).join('\n')}

| daemon | |
|---|---|
${daemonRows(r).map(md).join('\n')}
${protocolMarkdown(r)}${teamMarkdown(r)}
## Ratios

| ratio | value |
|---|---:|
${Object.entries(r.ratios).map(([k, val]) => md([k, x2(val)])).join('\n')}

## Targets (2-core machine, ratios from one run)

| target | figure | | what limits it / context |
|---|---|---|---|
${r.verdicts.map((x) => md([x.target, x.figure, x.met ? 'met' : '**NOT met**', x.note || ''])).join('\n')}

## How to read this

Absolute figures depend on the machine and on what else runs on it; the ratios are what to compare,
because all four parties were measured side by side in one run on the same upstream. On a busy shared
machine even the ratios move by tens of percent from run to run (the load average row above says how
busy it was): a target just met or just missed needs a second run before anyone concludes from it. On a 2-core
machine the load generator, the gateway and the upstream share the cores, so throughput is a
comparison of CPU cost per request rather than a capacity figure; *CPU per request* is the party's
own process CPU time (user + system, \`/proc/PID/stat\`, 10 ms ticks) during the c=50 runs divided by
the requests served, and moves much less with the machine's other load than requests/s do (for
direct it is the upstream's own cost). *Added* latency is the party's
figure minus the direct one at the same percentile (at p99 this difference is noisy). Latencies are
autocannon's per-response times (fractional ms; its histogram rounds to whole ms). Throughput runs
${r.plan.rounds} x ${r.plan.throughputS} s at 50 connections after a ${r.plan.warmupS} s warm-up; latency ${r.plan.rounds} x ${r.plan.c1S} s at
one connection and ${r.plan.rounds} x ${r.plan.rateS} s at a fixed ${r.plan.rate} req/s over 20 connections (autocannon \`overallRate\`).

Streaming: the upstream sends 20 content chunks 20 ms apart; a small undici client reads
${r.plan.streamRuns} streams per party (after warm-up) and timestamps every read. *First chunk* is the time
from sending the request to the first body bytes. A chunk is *late* when it arrives more than half a
gap (10 ms) after its place in the upstream's schedule, counted from the first chunk; a *batched read*
carried more than one content chunk. A gateway that holds chunks back shows it in most chunks; a
busy shared machine makes a few chunks late for every party, so the target counts as met when
Shepherd has no more late chunks and batched reads than the direct stream or the bare proxy had in
the same run, give or take 2 % of the chunks, and every chunk arrived. Portkey's first chunk includes a fixed 25 ms wait in its stream
transformer (a \`setTimeout\` before the first event), which also makes its later gaps look shorter.

Open streams: ${r.openStreams.shepherd.n.toLocaleString('en')} streams (${UPSTREAMS.slow.chunks} chunks, one every ${UPSTREAMS.slow.gapMs} ms,
opened over ${r.plan.rampMs} ms) through a freshly started gateway process; *most open at once* counts streams whose headers had arrived
and whose end had not (when it stays below ${r.openStreams.shepherd.n.toLocaleString('en')}, the gateway fell behind and streams
ran longer than their ${((UPSTREAMS.slow.chunks - 1) * UPSTREAMS.slow.gapMs) / 1000} s), and CPU time is the gateway process's own
(user + system, from \`/proc/PID/stat\`) during the phase. (A chunk every 100 ms
was tried first: 10,000 chunks/s saturate both cores with the upstream and the client alone, so even the
bare proxy never held all 1,000 streams open at once and its event loop measured CPU starvation.) Peak RSS is the process's VmHWM from
\`/proc\`, reset just before the phase (so it is the peak while the streams were open, including what
the process held before them). The daemon has no event-loop metric yet, so the stall is measured by
preloading \`test/bench/loop-probe.cjs\` (\`node --require\`): perf_hooks' \`monitorEventLoopDelay\` with
5 ms resolution, windowed every 250 ms; the figure is the longest delay seen while the streams were
open, including the ramp and the streams' ends (an idle loop reads about 5 ms, so this is an upper
bound); the next row is the same while every stream was open and none had ended. The same probe runs
in the bare proxy.

Start-up is from spawning \`node dist/daemon.js start\` on a fresh data directory to the first
\`GET /v1/models\` that answers 200 (polled every 5 ms). Ledger replay runs \`test/bench/replay.ts\` (its
own description says what each figure is); the target is judged on the *first start*, the cold path
that parses every line, in the slower of its two layouts.

Portkey note: \`@portkey-ai/gateway\` ${v.portkey} fails every streamed request with \`TypeError: immutable\`
when npm resolves its \`@hono/node-server\` dependency to a version above 1.14.1 (Portkey-AI/gateway
issue 1389); \`test/bench/package.json\` pins \`@hono/node-server\` ${v['hono node-server (Portkey)']} through
\`overrides\`, the version that works.
`;
}
