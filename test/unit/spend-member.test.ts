// Team mode's member in local spend: a grouping of its own (`--by member`), kept in checkpoints while
// older ones (no member field) still read, and counted by member-scoped budgets from replayed spend.
import assert from 'node:assert/strict';
import type { ShepherdConfigInput } from '../../shared/config';
import { ConfigSchema } from '../../shared/config';
import { Budgets } from '../../daemon/spend/budgets';
import { decodeCheckpoint, encodeCheckpoint } from '../../daemon/spend/checkpoint';
import { MonthTally } from '../../daemon/spend/month-tally';
import { SpendIndex } from '../../daemon/spend/spend-index';
import { parseSpendQuery, spendReport } from '../../daemon/spend/spend-query';
import { teamSpendReport } from '../../daemon/spend/team-spend';
import { USD } from '../../shared/money';
import { sampleEntry } from '../support/ledger-entry';

const now = Date.parse('2025-01-20T00:00:00Z');
const q = (groupBy: string) => parseSpendQuery((n) => (n === 'groupBy' ? groupBy : n === 'from' ? '2025-01-01' : '2025-01-31'), now);

describe('spend by team member', () => {
  it('groups by member, with lines that have none apart', () => {
    const i = new SpendIndex();
    i.add(sampleEntry({ id: 'a', member: 'alice', costUsd: 1 }));
    i.add(sampleEntry({ id: 'b', member: 'alice', costUsd: 2 }));
    i.add(sampleEntry({ id: 'c', member: 'bob', costUsd: 0.5 }));
    i.add(sampleEntry({ id: 'd', costUsd: 0.25 }));
    const r = spendReport(i, q('member'), { now, currency: USD });
    assert.deepEqual(r.rows.map((x) => [x.key, x.requests, x.costUsd]), [['alice', 2, 3], ['bob', 1, 0.5], ['(no member)', 1, 0.25]]);
    assert.throws(() => parseSpendQuery((n) => (n === 'groupBy' ? 'team' : undefined), now), /groupBy must be one of model, deployment, provider, day, key, member/);
  });

  it('checkpoints keep the member; a checkpoint written before members (no field) still reads, as no member', () => {
    const tally = new MonthTally('2025-01');
    tally.add(sampleEntry({ member: 'alice' }));
    const probe = { size: 1, head: 'a'.repeat(64), tail: 'b'.repeat(64), atLineEnd: true };
    const text = encodeCheckpoint('2025-01', { offset: 1, lines: 1 }, tally.state(), probe);
    const back = decodeCheckpoint(text, '2025-01');
    assert.ok('checkpoint' in back);
    assert.equal(back.checkpoint.buckets[0].member, 'alice');
    const old = JSON.parse(text) as { buckets: Record<string, unknown>[] };
    delete old.buckets[0].member;
    const oldBack = decodeCheckpoint(JSON.stringify(old), '2025-01');
    assert.ok('checkpoint' in oldBack, JSON.stringify(oldBack));
    const restored = MonthTally.from('2025-01', oldBack.checkpoint);
    assert.deepEqual([...restored.buckets()].map((b) => b.member), [null]);
  });

  it("a member-scoped budget counts the member's replayed spend (from the index's buckets)", () => {
    const input: ShepherdConfigInput = { budgets: { alice: { limitUsd: 10, scope: { member: 'alice' } } }, team: { name: 't', postgres: { url: 'postgres://h/db' } } };
    const b = new Budgets(undefined, { now: () => now });
    b.add(sampleEntry({ id: 'a', member: 'alice', costUsd: 3, time: '2025-01-10T00:00:00.000Z' }));
    b.add(sampleEntry({ id: 'b', member: 'bob', costUsd: 4, time: '2025-01-10T00:00:00.000Z' }));
    b.configure(ConfigSchema.parse(input));
    assert.deepEqual(b.statuses().map((s) => [s.name, s.spentUsd]), [['alice', 3]]);
  });

  it('the team report adds up buckets from the team ledger, over the range and this month, marked scope team', async () => {
    const asked: string[][] = [];
    const source = new SpendIndex();
    source.add(sampleEntry({ id: 'a', member: 'alice', costUsd: 1, time: '2025-01-05T00:00:00.000Z' }));
    source.add(sampleEntry({ id: 'b', member: 'bob', costUsd: 2, time: '2025-01-06T00:00:00.000Z' }));
    const team = { buckets: async (from: string, to: string) => (asked.push([from, to]), [...source.all()]) };
    const r = await teamSpendReport(team, parseSpendQuery((n) => (n === 'groupBy' ? 'member' : n === 'from' ? '2024-12-01' : '2024-12-31'), now), { now, currency: USD });
    assert.deepEqual(asked, [['2024-12-01', '2025-01-31']]);
    assert.equal(r.scope, 'team');
    assert.equal(r.month.spentUsd, 3);
  });
});
