// Team mode's pure parts in health: hints from other daemons (eject a closed circuit for the sender's
// cooldown, never extend, ignored right after a success; recovery by this daemon's own trial), what
// this daemon tells the others, and its share of every rate limit while the team's limiter is away.
import assert from 'node:assert/strict';
import { HealthBoard, HINT_IGNORED_AFTER_SUCCESS_MS, type LocalEjection } from '../../daemon/health/board';
import { Breaker } from '../../daemon/health/breaker';
import { catalogOf, FakeClock, LOCAL, statusFailure, upstream5xx } from '../support/routing-fixtures';

function setup(extra: Record<string, unknown> = {}) {
  const clock = new FakeClock();
  const catalog = catalogOf({
    providers: { p: LOCAL },
    models: { g: { deployments: [{ provider: 'p', model: 'a', ...extra }, { provider: 'p', model: 'b' }] } },
    routing: { breaker: { failureThreshold: 2, openMs: 5_000 } },
  });
  const board = new HealthBoard(catalog, () => {}, clock.now);
  const told: LocalEjection[] = [];
  board.onLocalEjection((e) => told.push(e));
  return { clock, board, told };
}

describe('team mode: health hints between daemons', () => {
  it('a hint ejects a closed circuit for the given cooldown only; the first request after is a trial of our own', () => {
    const { board, clock, told } = setup();
    assert.equal(board.hint('p/a', 'circuit', 3_000, 'opened elsewhere'), true);
    assert.equal(board.get('p/a').circuit, 'open');
    assert.equal(board.begin('p/a', 0).ok, false, 'ejected here too');
    assert.deepEqual(told, [], 'a hint is never passed on: no echo between daemons');
    clock.advance(3_000);
    const trial = board.begin('p/a', 0);
    assert.deepEqual(trial, { ok: true, trial: true, charged: 0 });
    board.success('p/a', true, 50);
    assert.equal(board.get('p/a').circuit, 'closed');
  });

  it('a hint never extends an open circuit, and is ignored right after a success here', () => {
    const { board, clock } = setup();
    board.failure('p/a', false, upstream5xx());
    board.failure('p/a', false, upstream5xx());
    const until = board.get('p/a').circuitRetryAt;
    assert.equal(board.hint('p/a', 'circuit', 60_000, 'late news'), false);
    assert.equal(board.get('p/a').circuitRetryAt, until);
    board.success('p/b', false, 10);
    clock.advance(HINT_IGNORED_AFTER_SUCCESS_MS - 1);
    assert.equal(board.hint('p/b', 'circuit', 3_000, 'seen failing elsewhere'), false, 'we just saw it answer');
    clock.advance(1);
    assert.equal(board.hint('p/b', 'circuit', 3_000, 'seen failing elsewhere'), true);
  });

  it("a hint's cooldown is capped at the breaker's maxOpenMs", () => {
    const { board, clock } = setup({ breaker: { maxOpenMs: 10_000 } });
    board.hint('p/a', 'circuit', 3_600_000, 'a bad signal');
    assert.equal(board.get('p/a').circuitRetryAt, clock.t + 10_000);
  });

  it('tells the team when it opens a circuit or meets a 429 with Retry-After, not for other failures', () => {
    const { board, told } = setup();
    board.failure('p/a', false, upstream5xx());
    assert.equal(told.length, 0);
    board.failure('p/a', false, upstream5xx());
    assert.equal(told.length, 1);
    assert.equal(told[0].kind, 'circuit');
    assert.equal(told[0].ms, 5_000);
    board.failure('p/b', false, statusFailure(429, { class: 'rate_limit', retryAfterMs: 7_000 }));
    assert.deepEqual({ ...told[1], reason: '' }, { deployment: 'p/b', kind: 'rate_limit', ms: 7_000, reason: '' });
    board.failure('p/b', false, statusFailure(429, { class: 'rate_limit' }));
    assert.equal(told.length, 2, 'a 429 without Retry-After is no news');
    // A rate-limit hint holds the deployment without opening its circuit.
    const other = setup();
    other.board.hint('p/a', 'rate_limit', 2_000, '429');
    assert.equal(other.board.get('p/a').circuit, 'closed');
    assert.equal(other.board.rateWaitMs('p/a', 0), 2_000);
  });

  it("at a share of 1/3 this daemon's buckets are a third of the limit; back at 1 they are whole", () => {
    const { board } = setup({ rpm: 60 }); // a burst of 10
    board.setLimitShare(1 / 3); // rpm 20: a burst of 3
    let admitted = 0;
    while (board.rateWaitMs('p/a', 0) === 0 && admitted < 100) {
      board.begin('p/a', 0);
      admitted++;
    }
    assert.equal(admitted, 3);
    board.setLimitShare(1);
    admitted = 0;
    while (board.rateWaitMs('p/a', 0) === 0 && admitted < 100) {
      board.begin('p/a', 0);
      admitted++;
    }
    assert.equal(admitted, 10);
  });

  it('Breaker.eject opens only a closed circuit and counts no trip (its own back-off is unchanged)', () => {
    const cfg = { failureThreshold: 1, errorRate: 0.5, minRequests: 10, openMs: 1_000, maxOpenMs: 60_000, successThreshold: 1, halfOpenMax: 1 };
    const b = new Breaker(cfg);
    assert.deepEqual(b.eject(0, 5_000, 'hint'), { from: 'closed', to: 'open', reason: 'hint' });
    assert.equal(b.eject(10, 9_000, 'again'), undefined);
    assert.equal(b.retryAt(), 5_000);
    assert.equal(b.admit(5_000).ok, true);
    b.onSuccess(true);
    // Its own first trip opens for openMs, not a doubled time.
    b.onFailure(6_000, false, 'failing');
    assert.equal(b.retryAt(), 7_000);
  });
});
