// The spend view's Team section (team mode): the team ledger's state and the team's month by member,
// from the snapshot; absent in local mode.
import assert from 'node:assert/strict';
import { SnapshotSchema } from '../../../shared/protocol';
import { teamView } from '../../../extension/series';
import { snapshot } from './fixtures';

const money = (usd: number) => `$${usd.toFixed(2)}`;

describe('spend view: team section', () => {
  it('is absent in local mode', () => {
    assert.equal(teamView(snapshot({}), money), undefined);
  });

  it('shows each member this month, sandbox spend apart, and the snapshot schema keeps both fields', () => {
    const s = SnapshotSchema.parse({
      ...snapshot({}),
      teamLedger: { state: 'ok', waiting: 0, shipped: 12, table: 'shepherd_ledger' },
      teamSpend: {
        month: '2026-12',
        asOf: '2026-12-05T10:11:12.000Z',
        members: [
          { member: 'alice', requests: 10, costUsd: 1.5, sandboxRequests: 0, sandboxCostUsd: 0 },
          { member: 'bob', requests: 0, costUsd: 0, sandboxRequests: 3, sandboxCostUsd: 0.25 },
        ],
      },
    });
    const view = teamView(s, money)!;
    assert.match(view.state, /Team ledger \(shepherd_ledger\): shipping · this month's spend as of 10:11:12 UTC/);
    assert.deepEqual(view.rows, [
      { member: 'alice', requests: '10', spend: '$1.50' },
      { member: 'bob', requests: '3', spend: '$0.00 (+ $0.25 sandbox)' },
    ]);
  });

  it('says when PostgreSQL is not taking lines, why, and how many wait', () => {
    const s = { ...snapshot({}), teamLedger: { state: 'failing' as const, waiting: 7, shipped: 0, table: 't', lastError: 'connect ECONNREFUSED 10.0.0.5:5432' } };
    const view = teamView(s, money)!;
    assert.equal(view.failing, true);
    assert.match(view.state, /PostgreSQL is not taking lines \(connect ECONNREFUSED 10\.0\.0\.5:5432\); they are kept locally and shipped when it answers · 7 line\(s\) waiting/);
  });
});
