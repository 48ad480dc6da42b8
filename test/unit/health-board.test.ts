import assert from 'node:assert/strict';
import { HealthBoard } from '../../daemon/health/board';
import type { DeploymentStateChange } from '../../daemon/core/events';
import type { ShepherdConfigInput } from '../../shared/config';
import { catalogOf, FakeClock, LOCAL, statusFailure, upstream5xx } from '../support/routing-fixtures';

type RoutingInput = NonNullable<ShepherdConfigInput['routing']>;

const twoDeployments = (routing: RoutingInput = {}, extra: Record<string, unknown> = {}) =>
  catalogOf({
    providers: { p: LOCAL },
    models: { g: { deployments: [{ provider: 'p', model: 'a', ...extra }, { provider: 'p', model: 'b' }] } },
    routing,
  });

function setup(routing: RoutingInput = {}, extra: Record<string, unknown> = {}) {
  const clock = new FakeClock();
  const events: DeploymentStateChange[] = [];
  const board = new HealthBoard(twoDeployments(routing, extra), (c) => events.push(c), clock.now);
  return { clock, events, board };
}

// Breaker settings that keep the circuit closed so health states can be observed on their own.
const NO_TRIP = { breaker: { failureThreshold: 1_000, minRequests: 1_000 } };

describe('health board: states', () => {
  it('is unknown before any outcome, healthy after a success', () => {
    const { board } = setup();
    assert.equal(board.report('p/a').state, 'unknown');
    board.success('p/a', false, 120);
    const h = board.report('p/a');
    assert.equal(h.state, 'healthy');
    assert.equal(h.latencyMs, 120);
    assert.equal(h.requests, 1);
    assert.equal(board.report('p/b').state, 'unknown', 'deployments are tracked separately');
  });

  it('a successful probe alone makes an unmeasured deployment healthy; a failed one does not', () => {
    const { board, clock } = setup();
    board.probe('p/a', true);
    board.probe('p/b', false, 'ECONNREFUSED');
    assert.equal(board.report('p/a').state, 'healthy');
    assert.equal(board.report('p/b').state, 'unknown');
    assert.deepEqual(board.report('p/b').lastProbe, { at: new Date(clock.t).toISOString(), ok: false, error: 'ECONNREFUSED' });
    assert.equal(board.report('p/b').lastError, 'health probe: ECONNREFUSED');
  });

  it('is degraded at an error rate of degradedErrorRate or more over the window', () => {
    const { board } = setup({ ...NO_TRIP, health: { degradedErrorRate: 0.1 } });
    for (let i = 0; i < 10; i++) board.success('p/a', false, 100);
    board.failure('p/a', false, upstream5xx());
    assert.equal(board.report('p/a').state, 'healthy', '1 in 11 is under 10%');
    for (let i = 0; i < 9; i++) board.success('p/b', false, 100);
    board.failure('p/b', false, upstream5xx());
    assert.equal(board.report('p/b').state, 'degraded', '1 in 10 is exactly 10%');
    assert.equal(board.report('p/b').errorRate, 0.1);
  });

  it('forgets old outcomes beyond the window', () => {
    const { board } = setup({ ...NO_TRIP, health: { window: 5 } });
    board.failure('p/a', false, upstream5xx());
    for (let i = 0; i < 4; i++) board.success('p/a', false, 100);
    assert.equal(board.report('p/a').state, 'degraded');
    board.success('p/a', false, 100);
    assert.equal(board.report('p/a').errorRate, 0);
    assert.equal(board.report('p/a').state, 'healthy');
  });

  it('is degraded when the latency EWMA is above slowMs, healthy at it', () => {
    const { board } = setup({ health: { slowMs: 1_000 } });
    board.success('p/a', false, 1_000);
    assert.equal(board.report('p/a').state, 'healthy');
    board.success('p/b', false, 1_500);
    assert.equal(board.report('p/b').state, 'degraded');
  });

  it('weighs latency by recency with the configured half-life', () => {
    const { board } = setup({ health: { latencyHalfLife: 1 } });
    board.success('p/a', false, 100);
    board.success('p/a', false, 300);
    // Half-life of one sample: the old value weighs half.
    assert.equal(board.report('p/a').latencyMs, 200);
    assert.equal(board.report('p/a').lastLatencyMs, 300);
  });

  it('is unhealthy while the circuit is open and while it is half-open', () => {
    const { board, clock } = setup({ breaker: { failureThreshold: 2, openMs: 1_000 } });
    board.failure('p/a', false, upstream5xx());
    board.failure('p/a', false, upstream5xx());
    assert.deepEqual([board.report('p/a').state, board.report('p/a').circuit], ['unhealthy', 'open']);
    assert.equal(board.report('p/a').circuitRetryAt, clock.t + 1_000);
    clock.advance(1_000);
    assert.deepEqual([board.report('p/a').state, board.report('p/a').circuit], ['unhealthy', 'half-open']);
  });

  it('gives the planner the same state, circuit and load as the full report', () => {
    const { board } = setup({ breaker: { failureThreshold: 1 } });
    board.begin('p/a', 0);
    board.failure('p/b', false, upstream5xx('down'));
    for (const id of ['p/a', 'p/b']) {
      const { state, circuit, circuitRetryAt, inflight, errorRate, consecutiveFailures, lastError } = board.report(id);
      assert.deepEqual({ ...board.get(id), latencyMs: undefined }, {
        id,
        state,
        circuit,
        circuitRetryAt,
        inflight,
        latencyMs: undefined,
        errorRate,
        consecutiveFailures,
        lastError,
      });
    }
  });

  it('reports a blank, unknown state for a deployment it does not know', () => {
    const { board } = setup();
    assert.equal(board.get('nope/x').state, 'unknown');
    assert.equal(board.rateWaitMs('nope/x', 10), 0);
  });

  // Slowness, not a 5% error rate under the 10% threshold, is why it is degraded: the event must say so.
  it('names slowness as the reason when only the latency makes a deployment degraded', () => {
    const { board, events } = setup({ ...NO_TRIP, health: { slowMs: 1_000, degradedErrorRate: 0.1 } });
    for (let i = 0; i < 19; i++) board.success('p/a', false, 100);
    board.failure('p/a', false, upstream5xx());
    assert.equal(board.get('p/a').state, 'healthy');
    board.success('p/a', false, 50_000);
    assert.equal(board.get('p/a').state, 'degraded');
    assert.match(events.at(-1)!.reason, /^slow: first-byte latency \d+ ms is above health\.slowMs$/);
  });
});

describe('health board: what counts as a failure', () => {
  it('counts 5xx, 408 and network failures against the deployment', () => {
    const { board } = setup(NO_TRIP);
    board.failure('p/a', false, upstream5xx());
    board.failure('p/a', false, statusFailure(408));
    board.failure('p/a', false, { kind: 'connect', class: 'outage', status: 502, retryable: true, message: 'ECONNREFUSED', type: 'upstream_error' });
    board.failure('p/a', false, { kind: 'timeout', class: 'outage', status: 504, retryable: true, message: 'first byte timeout', type: 'upstream_error' });
    const h = board.report('p/a');
    assert.deepEqual([h.requests, h.failures, h.consecutiveFailures, h.errorRate], [4, 4, 4, 1]);
    assert.equal(h.lastError, 'first byte timeout');
  });

  it("counts the client's own errors (400, 404, 422) and cancellations for nothing", () => {
    const { board, events } = setup({ breaker: { failureThreshold: 1 } });
    board.failure('p/a', false, statusFailure(400));
    board.failure('p/a', false, statusFailure(404));
    board.failure('p/a', false, statusFailure(422));
    board.failure('p/a', false, statusFailure(499));
    board.failure('p/a', false, { kind: 'reset', class: 'cancelled', status: 502, retryable: false, message: 'client went away', type: 'cancelled' });
    const h = board.report('p/a');
    assert.deepEqual([h.state, h.circuit, h.requests, h.failures, h.consecutiveFailures], ['unknown', 'closed', 0, 0, 0]);
    assert.deepEqual(events, []);
  });

  it('a 429 holds the deployment in the rate limiter until Retry-After passes, without counting as a failure', () => {
    const { board, clock, events } = setup({ breaker: { failureThreshold: 2 } });
    board.success('p/a', false, 100);
    events.length = 0;
    for (let i = 0; i < 5; i++) board.failure('p/a', false, statusFailure(429, { retryAfterMs: 3_000, message: 'slow down' }));
    assert.equal(board.rateWaitMs('p/a', 0), 3_000);
    assert.equal(board.rateWaitMs('p/b', 0), 0, 'only the deployment that answered 429 is held');
    const h = board.report('p/a');
    assert.deepEqual([h.state, h.circuit, h.requests, h.failures, h.consecutiveFailures], ['healthy', 'closed', 1, 0, 0]);
    assert.equal(h.lastError, 'slow down');
    assert.deepEqual(events, []);
    clock.advance(2_000);
    assert.equal(board.rateWaitMs('p/a', 0), 1_000);
    clock.advance(1_000);
    assert.equal(board.rateWaitMs('p/a', 0), 0);
  });

  it('a 429 during a half-open trial frees the trial slot', () => {
    const { board, clock } = setup({ breaker: { failureThreshold: 1, openMs: 1_000, halfOpenMax: 1 } });
    board.failure('p/a', false, upstream5xx());
    clock.advance(1_000);
    const trial = board.begin('p/a', 0);
    assert.deepEqual(trial, { ok: true, trial: true, charged: 0 });
    assert.equal(board.begin('p/a', 0).ok, false, 'the only slot is taken');
    board.failure('p/a', true, statusFailure(429, { retryAfterMs: 10 }));
    assert.deepEqual(board.begin('p/a', 0), { ok: true, trial: true, charged: 0 });
  });

  it('counts failed probes towards the consecutive failures that open the circuit', () => {
    const { board } = setup({ breaker: { failureThreshold: 3 } });
    board.probe('p/a', false, 'timeout');
    board.probe('p/a', false, 'timeout');
    assert.equal(board.get('p/a').circuit, 'closed');
    board.probe('p/a', false, 'timeout');
    assert.equal(board.get('p/a').circuit, 'open');
  });

  // Failures separated by successful probes are not consecutive.
  it('a successful probe breaks a run of consecutive failures', () => {
    const { board } = setup({ breaker: { failureThreshold: 3 } });
    board.failure('p/a', false, upstream5xx());
    board.probe('p/a', true);
    board.failure('p/a', false, upstream5xx());
    board.probe('p/a', true);
    assert.equal(board.get('p/a').consecutiveFailures, 0);
    board.failure('p/a', false, upstream5xx());
    assert.equal(board.get('p/a').circuit, 'closed');
  });

  it('trips on error rate only once minRequests outcomes are in the window', () => {
    const { board, events } = setup({ breaker: { failureThreshold: 100, errorRate: 0.5, minRequests: 10 } });
    // s f s f ...: 50% after 2, 4, 6 and 8 outcomes, too few to judge; the 10th opens the circuit.
    for (let i = 0; i < 9; i++) {
      if (i % 2 === 0) board.success('p/a', false, 100);
      else board.failure('p/a', false, upstream5xx());
      assert.equal(board.report('p/a').circuit, 'closed', `after ${i + 1} outcomes`);
    }
    board.failure('p/a', false, upstream5xx());
    assert.equal(board.report('p/a').circuit, 'open');
    assert.equal(events.at(-1)!.reason, 'circuit closed -> open: error rate 50% over the last 10 outcomes; open for 5000 ms');
  });
});

describe('health board: admission', () => {
  it('begin() refuses while the circuit is open and counts nothing in flight', () => {
    const { board, clock } = setup({ breaker: { failureThreshold: 1, openMs: 1_000 } });
    board.failure('p/a', false, upstream5xx());
    assert.deepEqual(board.begin('p/a', 0), { ok: false, retryAt: clock.t + 1_000, reason: 'circuit open' });
    assert.equal(board.report('p/a').inflight, 0);
  });

  it('begin() with panic goes past an open circuit', () => {
    const { board } = setup({ breaker: { failureThreshold: 1 } });
    board.failure('p/a', false, upstream5xx());
    assert.deepEqual(board.begin('p/a', 0, true), { ok: true, trial: false, charged: 0 });
    assert.equal(board.report('p/a').inflight, 1);
  });

  it('a panic attempt that succeeds lets trial traffic back in (like a probe)', () => {
    const { board } = setup({ breaker: { failureThreshold: 1 } });
    board.failure('p/a', false, upstream5xx());
    board.begin('p/a', 0, true);
    board.success('p/a', false, 100);
    assert.equal(board.report('p/a').circuit, 'half-open');
  });

  it('abandon() of a half-open trial frees its slot without counting an outcome', () => {
    const { board, clock } = setup({ breaker: { failureThreshold: 1, openMs: 1_000, halfOpenMax: 1 } });
    board.failure('p/a', false, upstream5xx());
    clock.advance(1_000);
    assert.deepEqual(board.begin('p/a', 0), { ok: true, trial: true, charged: 0 });
    assert.deepEqual(board.begin('p/a', 0), { ok: false, retryAt: clock.t, reason: 'circuit half-open; trial slots taken' });
    board.abandon('p/a', true);
    assert.equal(board.report('p/a').requests, 1);
    assert.deepEqual(board.begin('p/a', 0), { ok: true, trial: true, charged: 0 });
  });

  it('tracks requests in flight from begin() to success, failure or abandon', () => {
    const { board } = setup(NO_TRIP);
    for (let i = 0; i < 3; i++) board.begin('p/a', 0);
    assert.equal(board.report('p/a').inflight, 3);
    board.success('p/a', false, 10);
    board.failure('p/a', false, upstream5xx());
    assert.equal(board.report('p/a').inflight, 1);
    board.abandon('p/a', false);
    board.abandon('p/a', false);
    assert.equal(board.report('p/a').inflight, 0, 'never below zero');
  });

  it('begin() takes from the rate limits: rpm and estimated tokens', () => {
    const { board } = setup({}, { rpm: 60, burst: 2, tpm: 6_000 });
    board.begin('p/a', 900);
    assert.equal(board.rateWaitMs('p/a', 100), 0);
    assert.equal(board.rateWaitMs('p/a', 200), 1_000, '100 tokens short at 100 tokens/s');
    board.begin('p/a', 0);
    assert.equal(board.rateWaitMs('p/a', 0), 1_000, 'burst of 2 requests used up');
  });

  it('success() gives back the unused part of the token estimate', () => {
    const { board } = setup({}, { tpm: 6_000 });
    const ticket = board.begin('p/a', 1_000);
    assert.ok(ticket.ok && ticket.charged === 1_000);
    assert.equal(board.rateWaitMs('p/a', 500), 5_000);
    board.success('p/a', false, 10, { charged: ticket.charged, actual: 400 });
    assert.equal(board.rateWaitMs('p/a', 600), 0);
  });
});

describe('health board: events', () => {
  it('reports each state change once, with from, to, circuit, reason and time', () => {
    const { board, events, clock } = setup({ breaker: { failureThreshold: 3, openMs: 1_000, minRequests: 100 } });
    board.success('p/a', false, 100);
    board.success('p/a', false, 100);
    assert.deepEqual(events, [
      { deployment: 'p/a', group: 'g', from: 'unknown', to: 'healthy', circuit: 'closed', reason: 'requests succeeding', at: new Date(clock.t).toISOString(), keyRejected: null },
    ]);
    board.failure('p/a', false, upstream5xx());
    assert.equal(events.length, 2);
    assert.deepEqual(
      { from: events[1].from, to: events[1].to, circuit: events[1].circuit, reason: events[1].reason },
      { from: 'healthy', to: 'degraded', circuit: 'closed', reason: 'error rate 33% over the last 3 outcomes' },
    );
    board.failure('p/a', false, upstream5xx());
    assert.equal(events.length, 2, 'still degraded: no event');
    clock.advance(10);
    board.failure('p/a', false, upstream5xx());
    assert.equal(events.length, 3);
    assert.deepEqual(events[2], {
      deployment: 'p/a',
      group: 'g',
      from: 'degraded',
      to: 'unhealthy',
      circuit: 'open',
      reason: 'circuit closed -> open: 3 consecutive failures; open for 1000 ms',
      at: new Date(clock.t).toISOString(),
      keyRejected: null,
    });
  });

  it('reports the open -> half-open move from tick() when its time comes, and only then', () => {
    const { board, events, clock } = setup({ breaker: { failureThreshold: 1, openMs: 1_000 } });
    board.failure('p/a', false, upstream5xx());
    assert.equal(board.nextCircuitChange(), clock.t + 1_000);
    events.length = 0;
    clock.advance(999);
    board.tick();
    assert.equal(events.length, 0);
    clock.advance(1);
    board.tick();
    assert.equal(events.length, 1);
    assert.deepEqual(
      { from: events[0].from, to: events[0].to, circuit: events[0].circuit, reason: events[0].reason },
      { from: 'unhealthy', to: 'unhealthy', circuit: 'half-open', reason: 'circuit open -> half-open: open time elapsed; allowing trial requests' },
    );
    board.tick();
    assert.equal(events.length, 1);
    assert.equal(board.nextCircuitChange(), undefined);
  });

  it('reports the close with the state the window shows', () => {
    const { board, events, clock } = setup({ breaker: { failureThreshold: 1, openMs: 1_000 } });
    board.failure('p/a', false, upstream5xx());
    clock.advance(1_000);
    const a = board.begin('p/a', 0);
    assert.ok(a.ok && a.trial);
    board.success('p/a', true, 100);
    const last = events.at(-1)!;
    // Closing forgets the outcomes that ejected it: only the trial's success is left, so healthy.
    assert.deepEqual(
      { from: last.from, to: last.to, circuit: last.circuit, reason: last.reason },
      { from: 'unhealthy', to: 'healthy', circuit: 'closed', reason: 'circuit half-open -> closed: 1 trial request(s) succeeded' },
    );
  });
});

describe('health board: incidents', () => {
  it('opens an incident when the circuit opens and closes it, with its duration, when the circuit closes', () => {
    const { board, clock } = setup({ breaker: { failureThreshold: 2, openMs: 1_000 } });
    const start = clock.t;
    board.failure('p/a', false, upstream5xx('boom'));
    board.failure('p/a', false, upstream5xx('boom'));
    clock.advance(400);
    let [incident] = board.incidentsList();
    assert.deepEqual(incident, {
      deployment: 'p/a',
      group: 'g',
      start: new Date(start).toISOString(),
      end: null,
      durationMs: 400, // ongoing: so far
      reason: '2 consecutive failures; open for 1000 ms',
      resolution: null,
    });
    // A failed trial reopens: still the same incident.
    clock.advance(600);
    board.begin('p/a', 0);
    board.failure('p/a', true, upstream5xx());
    assert.equal(board.incidentsList().length, 1);
    clock.advance(2_000);
    board.begin('p/a', 0);
    board.success('p/a', true, 50);
    [incident] = board.incidentsList();
    assert.equal(incident.end, new Date(start + 3_000).toISOString());
    assert.equal(incident.durationMs, 3_000);
    assert.equal(incident.resolution, '1 trial request(s) succeeded');
    clock.advance(10_000);
    assert.equal(board.incidentsList()[0].durationMs, 3_000, 'a closed incident no longer grows');
  });

  it('lists incidents newest first, one per outage', () => {
    const { board, clock } = setup({ breaker: { failureThreshold: 1, openMs: 1_000 } });
    board.failure('p/a', false, upstream5xx());
    clock.advance(1);
    board.failure('p/b', false, upstream5xx());
    assert.deepEqual(board.incidentsList().map((i) => i.deployment), ['p/b', 'p/a']);
    assert.deepEqual(board.incidentsList(1).map((i) => i.deployment), ['p/b']);
  });
});

describe('health board: configure() on reload', () => {
  it('keeps what it learnt about remaining deployments, adds new ones and drops removed ones', () => {
    const { board } = setup({ breaker: { failureThreshold: 1, openMs: 60_000 } });
    board.success('p/a', false, 250);
    board.failure('p/b', false, upstream5xx());
    assert.equal(board.report('p/b').circuit, 'open');
    const reloaded = catalogOf({
      providers: { p: LOCAL },
      models: { g: { deployments: [{ provider: 'p', model: 'b' }, { provider: 'p', model: 'c' }] } },
      routing: { breaker: { failureThreshold: 1, openMs: 60_000 } },
    });
    board.configure(reloaded);
    assert.deepEqual(board.ids().sort(), ['p/b', 'p/c']);
    assert.equal(board.report('p/b').circuit, 'open', 'an ejected deployment stays ejected across a reload');
    assert.equal(board.report('p/b').failures, 1);
    assert.equal(board.report('p/c').state, 'unknown');
    assert.equal(board.report('p/a').requests, 0, 'a removed deployment is forgotten');
    assert.equal(board.deployment('p/a'), undefined);
    assert.equal(board.deployment('p/b')?.index, 0, 'the new catalog entry is adopted');
  });

  it('keeps a 429 hold when the limits did not change, and applies new breaker settings', () => {
    const { board } = setup({ breaker: { failureThreshold: 5 } }, { rpm: 60 });
    board.failure('p/a', false, statusFailure(429, { retryAfterMs: 5_000 }));
    board.configure(twoDeployments({ breaker: { failureThreshold: 1 } }, { rpm: 60 }));
    assert.equal(board.rateWaitMs('p/a', 0), 5_000);
    board.failure('p/b', false, upstream5xx());
    assert.equal(board.report('p/b').circuit, 'open', 'the new threshold of 1 applies');
  });

  it('replaces the rate limiter when the limits changed', () => {
    const { board } = setup({}, { rpm: 1 });
    board.begin('p/a', 0);
    assert.ok(board.rateWaitMs('p/a', 0) > 0);
    board.configure(twoDeployments({}, { rpm: 600 }));
    assert.equal(board.rateWaitMs('p/a', 0), 0);
  });

  it('shrinks the window to the new size, keeping the newest outcomes', () => {
    const { board } = setup({ ...NO_TRIP, health: { window: 10 } });
    board.failure('p/a', false, upstream5xx());
    for (let i = 0; i < 3; i++) board.success('p/a', false, 100);
    assert.equal(board.report('p/a').errorRate, 0.25);
    board.configure(twoDeployments({ ...NO_TRIP, health: { window: 3 } }));
    assert.equal(board.report('p/a').errorRate, 0);
    board.failure('p/a', false, upstream5xx());
    assert.equal(board.report('p/a').errorRate, 1 / 3);
  });

  // An outage of a deployment that a reload removed must not stay open (and grow) forever.
  it('ends the ongoing incident of a deployment removed by a reload', () => {
    const { board, clock } = setup({ breaker: { failureThreshold: 1 } });
    board.failure('p/b', false, upstream5xx());
    clock.advance(1_000);
    board.configure(
      catalogOf({ providers: { p: LOCAL }, models: { g: { deployments: [{ provider: 'p', model: 'a' }] } }, routing: { breaker: { failureThreshold: 1 } } }),
    );
    clock.advance(60_000);
    const [incident] = board.incidentsList();
    assert.notEqual(incident.end, null);
    assert.equal(incident.durationMs, 1_000);
  });
});

describe('health board: a rejected provider key', () => {
  const rejected = (status: number) => ({ kind: 'status' as const, class: 'key' as const, status, retryable: false, message: 'invalid key', type: 'authentication_error' });

  it('marks the deployment as unable to serve (not an outage) until keyRejectedMs passes', () => {
    const { board, clock } = setup({ breaker: { failureThreshold: 1 }, health: { keyRejectedMs: 60_000 } });
    board.failure('p/a', false, rejected(401));
    const h = board.get('p/a');
    assert.equal(h.circuit, 'closed', 'no circuit opens: the upstream is not down');
    assert.equal(h.keyRejected, 'HTTP 401: invalid key');
    assert.equal(h.state, 'unhealthy');
    assert.equal(board.incidentsList().length, 0, 'no outage incident');
    clock.advance(60_001);
    assert.equal(board.get('p/a').keyRejected, undefined);
  });

  it('clears the mark when the deployment succeeds or its key changes on reload', () => {
    const { board } = setup({ health: { keyRejectedMs: 60_000 } });
    board.failure('p/a', false, rejected(403));
    assert.ok(board.begin('p/a', 0).ok);
    board.success('p/a', false, 10);
    assert.equal(board.get('p/a').keyRejected, undefined);

    board.failure('p/a', false, rejected(401));
    board.configure(catalogOf({ providers: { p: LOCAL }, models: { g: { deployments: [{ provider: 'p', model: 'a' }, { provider: 'p', model: 'b' }] } }, routing: { health: { keyRejectedMs: 60_000 } } }, () => 'k-new'));
    assert.equal(board.get('p/a').keyRejected, undefined);
  });
});
