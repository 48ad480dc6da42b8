// The /metrics exposition, parsed back with a strict text-format parser: what Prometheus would scrape.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BudgetStatus } from '../../shared/budget-status';
import type { LedgerEntry } from '../../shared/ledger';
import type { TeamLedgerHealth } from '../../shared/team-ledger';
import { loopDelaySeconds, Metrics, type DeploymentGaugeSource } from '../../daemon/metrics/metrics';
import { parsePrometheusText, sampleValue } from '../support/prom-text';

function entry(over: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    id: 'shep-1',
    time: '2026-11-20T12:00:00.000Z',
    requestedModel: 'chat',
    model: 'chat',
    servedModel: 'm',
    deployment: 'up0/m',
    provider: 'up0',
    attempts: 1,
    status: 200,
    ok: true,
    stream: true,
    promptTokens: 100,
    completionTokens: 40,
    usageSource: 'upstream',
    costUsd: 0.00052,
    latencyMs: 1500,
    ttftMs: 300,
    ...over,
  };
}

describe('metrics', () => {
  let deployments: DeploymentGaugeSource[] = [];
  let budgets: BudgetStatus[] = [];
  let inflight = 0;
  const made: Metrics[] = [];
  const make = () => {
    const m = new Metrics({ deployments: () => deployments, inflight: () => inflight, budgets: () => budgets });
    made.push(m);
    return m;
  };
  afterEach(() => made.splice(0).forEach((m) => m.close()));

  it('team mode: the team ledger\'s state and lines waiting, only when a team ledger is configured', async () => {
    const team: { health?: TeamLedgerHealth } = {};
    const m = new Metrics({ deployments: () => [], inflight: () => 0, budgets: () => [], teamLedger: () => team.health });
    made.push(m);
    const values = async () => {
      const f = parsePrometheusText((await m.exposition()).text);
      return [sampleValue(f, 'shepherd_team_ledger_failing', {}), sampleValue(f, 'shepherd_team_ledger_lines_waiting', {})];
    };
    assert.deepEqual(await values(), [0, 0], 'before it is open');
    team.health = { state: 'failing', waiting: 42, shipped: 0, table: 't', lastError: 'ECONNREFUSED' };
    assert.deepEqual(await values(), [1, 42]);
    const local = parsePrometheusText((await make().exposition()).text);
    assert.equal(local.get('shepherd_team_ledger_failing'), undefined, 'local mode has no team metrics');
  });

  it('exposes requests, durations, tokens and cost in valid text format with bounded labels', async () => {
    const m = make();
    m.observe(entry());
    m.observe(entry({ id: 'shep-2', latencyMs: 50, ttftMs: 20 }));
    m.observe(entry({ id: 'shep-3', status: 503, ok: false, promptTokens: 0, completionTokens: 0, costUsd: 0, ttftMs: undefined }));
    m.observe(entry({ id: 'shep-4', requestedModel: 'secret prompt? no: a typo', model: null, deployment: null, provider: null, status: 404, ok: false, promptTokens: 0, completionTokens: 0, costUsd: 0 }));
    m.observe(entry({ id: 'shep-5', usageSource: 'estimated', stream: false }));
    m.observe(entry({ id: 'shep-6', deployment: 'sandbox/m', provider: 'sandbox', sandbox: true, costUsd: 5 })); // simulated: a request, not money
    const { contentType, text } = await m.exposition();
    assert.equal(contentType, 'text/plain; version=0.0.4; charset=utf-8');
    const f = parsePrometheusText(text);

    assert.equal(f.get('shepherd_requests_total')?.type, 'counter');
    assert.equal(sampleValue(f, 'shepherd_requests_total', { group: 'chat', deployment: 'up0/m', status: '200' }), 3);
    assert.equal(sampleValue(f, 'shepherd_requests_total', { group: 'chat', deployment: 'up0/m', status: '503' }), 1);
    assert.equal(sampleValue(f, 'shepherd_requests_total', { group: '(none)', deployment: '(none)', status: '404' }), 1);

    assert.equal(f.get('shepherd_request_duration_seconds')?.type, 'histogram');
    const streamed = { group: 'chat', deployment: 'up0/m', stream: 'true' };
    assert.equal(sampleValue(f, 'shepherd_request_duration_seconds_count', streamed), 3);
    assert.equal(sampleValue(f, 'shepherd_request_duration_seconds_bucket', { ...streamed, le: '0.05' }), 1);
    assert.equal(sampleValue(f, 'shepherd_request_duration_seconds_bucket', { ...streamed, le: '2' }), 3);
    assert.equal(sampleValue(f, 'shepherd_time_to_first_token_seconds_count', streamed), 2, 'successful requests only');
    assert.equal(sampleValue(f, 'shepherd_time_to_first_token_seconds_sum', streamed), 0.32);

    assert.equal(sampleValue(f, 'shepherd_tokens_total', { group: 'chat', deployment: 'up0/m', direction: 'input' }), 300);
    assert.equal(sampleValue(f, 'shepherd_tokens_total', { group: 'chat', deployment: 'up0/m', direction: 'output' }), 120);
    assert.ok(Math.abs(sampleValue(f, 'shepherd_cost_usd_total', { group: 'chat', provider: 'up0' }) - 0.00156) < 1e-12);
    assert.equal(sampleValue(f, 'shepherd_requests_total', { group: 'chat', deployment: 'sandbox/m', status: '200' }), 1);
    assert.equal(f.get('shepherd_cost_usd_total')?.samples.some((s) => s.labels.provider === 'sandbox'), false, 'no simulated spend in the cost counter');
    assert.equal(sampleValue(f, 'shepherd_estimated_usage_requests_total', { group: 'chat' }), 1);

    // Bounded cardinality: no request ids and no client-chosen model names in any label.
    for (const family of f.values()) {
      for (const s of family.samples) {
        assert.deepEqual(Object.keys(s.labels).filter((l) => !['group', 'deployment', 'provider', 'status', 'stream', 'direction', 'le', 'state', 'budget', 'quantile'].includes(l)), []);
        assert.ok(!Object.values(s.labels).some((v) => v.startsWith('shep-') || v.includes('typo')), JSON.stringify(s));
      }
    }
  });

  it('reads circuit states, in-flight requests and budget ratios at scrape time', async () => {
    const m = make();
    deployments = [
      { id: 'up0/m', group: 'chat', provider: 'up0', inflight: 2, circuit: 'open' },
      { id: 'up1/m', group: 'chat', provider: 'up1', inflight: 0, circuit: 'closed' },
      { id: 'old/m', group: 'chat', provider: 'old' }, // a report without a circuit field
    ];
    inflight = 3;
    budgets = [{ name: 'team', usedRatio: 0.8, spentUsd: 8 } as BudgetStatus];
    let f = parsePrometheusText((await m.exposition()).text);
    assert.equal(sampleValue(f, 'shepherd_inflight_requests'), 3);
    assert.equal(sampleValue(f, 'shepherd_deployment_inflight_requests', { deployment: 'up0/m' }), 2);
    assert.equal(sampleValue(f, 'shepherd_circuit_state', { deployment: 'up0/m', state: 'open' }), 1);
    assert.equal(sampleValue(f, 'shepherd_circuit_state', { deployment: 'up0/m', state: 'closed' }), 0);
    assert.equal(sampleValue(f, 'shepherd_circuit_state', { deployment: 'up1/m', state: 'closed' }), 1);
    assert.equal(f.get('shepherd_circuit_state')?.samples.filter((s) => s.labels.deployment === 'old/m').length, 0);
    assert.equal(sampleValue(f, 'shepherd_budget_used_ratio', { budget: 'team' }), 0.8);

    // A deployment removed by a reload disappears from the gauges at the next scrape.
    deployments = [{ id: 'up1/m', group: 'chat', provider: 'up1', inflight: 1, circuit: 'half-open' }];
    f = parsePrometheusText((await m.exposition()).text);
    assert.equal(f.get('shepherd_circuit_state')?.samples.filter((s) => s.labels.deployment === 'up0/m').length, 0);
    assert.equal(sampleValue(f, 'shepherd_circuit_state', { deployment: 'up1/m', state: 'half-open' }), 1);
  });

  it('the sample Grafana dashboard queries only metrics the daemon exposes', async () => {
    const dashboard = JSON.parse(await readFile(join(__dirname, '../../docs/grafana-dashboard.json'), 'utf8')) as { panels: { targets: { expr: string }[] }[] };
    const exposed = new Set((await make().registry.getMetricsAsJSON()).map((m) => m.name));
    const used = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/shepherd_[a-z_]+/g) ?? [])));
    assert.ok(used.size >= 8);
    for (const name of used) assert.ok(exposed.has(name.replace(/_(bucket|sum|count)$/, '')), `${name} is not exposed`);
  });

  it('the parser rejects what Prometheus would reject', () => {
    assert.throws(() => parsePrometheusText('x_total 1\n'), /no TYPE/);
    assert.throws(() => parsePrometheusText('# TYPE x counter\nx{a="1} 1\n'), /unterminated|expected/);
    assert.throws(() => parsePrometheusText('# TYPE x counter\nx{a="1"} 1\nx{a="1"} 2\n'), /duplicate/);
    assert.throws(() => parsePrometheusText('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'), /cumulative/);
    assert.throws(() => parsePrometheusText('# TYPE x gauge\nx one\n'), /bad value/);
  });

  it('reports an event-loop stall since the previous scrape, and the resident memory', async () => {
    const m = make();
    const loopMax = async () => {
      const text = parsePrometheusText((await m.exposition()).text);
      return { max: sampleValue(text, 'shepherd_event_loop_delay_seconds', { quantile: 'max' }) ?? 0, text };
    };
    await new Promise((r) => setTimeout(r, 30)); // the monitor measures from its first tick on
    const until = Date.now() + 60;
    while (Date.now() < until); // a 60 ms stall, on purpose
    // The next timers phase: the monitor's overdue tick runs before this later-due timer and records
    // the stall (a scrape before that tick would start a new window and lose it).
    await new Promise((r) => setTimeout(r, 1));
    const first = await loopMax();
    assert.ok(first.max >= 0.04, `a 60 ms stall reads as ${first.max} s`);
    assert.ok((sampleValue(first.text, 'shepherd_resident_memory_bytes', {}) ?? 0) > 10_000_000);
    // The scrape resets the window: the next one at once, without a stall, sees far less.
    assert.ok((await loopMax()).max < first.max);
  });

  it('reads an idle loop as about zero delay, not the 10 ms sampling interval of the monitor', async () => {
    assert.ok(Math.abs(loopDelaySeconds(10.2e6, 5, 10) - 0.0002) < 1e-9, 'delay beyond the interval');
    assert.equal(loopDelaySeconds(9.9e6, 5, 10), 0, 'a timer that fired a little early is no delay');
    assert.equal(loopDelaySeconds(Number.NaN, 0, 10), 0, 'no samples yet');
    const m = make();
    await new Promise((r) => setTimeout(r, 80)); // an idle loop: the monitor's timer fires several times
    const text = parsePrometheusText((await m.exposition()).text);
    const p50 = sampleValue(text, 'shepherd_event_loop_delay_seconds', { quantile: '0.5' }) ?? 1;
    assert.ok(p50 < 0.005, `an idle loop's median delay reads as ${p50} s`);
  });
});
