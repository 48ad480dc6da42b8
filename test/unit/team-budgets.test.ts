// Team mode's pure parts in spend and at start: a budget counts the team's last known spend plus this
// daemon's own since (what keeps it honest while Redis is away), the Redis keys share one hash slot,
// and a Redis URL named by an unset environment variable stops the start with the variable's name.
import assert from 'node:assert/strict';
import { ConfigSchema } from '../../shared/config';
import type { LedgerEntry } from '../../shared/ledger';
import { Budgets } from '../../daemon/spend/budgets';
import type { SpendCheck } from '../../daemon/spend/gate';
import { periodAt } from '../../daemon/spend/period';
import { teamKeys } from '../../daemon/team/redis/keys';
import { openTeamMode } from '../../daemon/lifecycle/team';
import { StartError } from '../../daemon/lifecycle/start-error';

const NOW = Date.parse('2026-11-20T12:00:00Z');
const cfg = ConfigSchema.parse({
  providers: { openai: { baseUrl: 'https://api.openai.com/v1' } },
  models: { big: { price: { input: 2, output: 8 }, deployments: [{ provider: 'openai', model: 'big' }] } },
  budgets: { cap: { limitUsd: 10, action: 'block', thresholds: [50] } },
  team: { name: 't', redis: { urlEnv: 'TEAM_REDIS_URL' } },
});
const request: SpendCheck = { group: 'big', body: { model: 'big', messages: [{ role: 'user', content: 'hi' }] }, deployments: [{ id: 'openai/big', providerName: 'openai', price: { input: 2, output: 8 } }] };

function entry(costUsd: number): LedgerEntry {
  return { id: `r${costUsd}`, time: '2026-11-20T11:00:00.000Z', requestedModel: 'big', model: 'big', servedModel: 'big', deployment: 'openai/big', provider: 'openai', attempts: 1, status: 200, ok: true, stream: false, promptTokens: 1, completionTokens: 1, usageSource: 'upstream', costUsd, latencyMs: 1 };
}

describe('team mode: budgets on the team spend', () => {
  it("counts the team's last known spend plus this daemon's own since, and blocks on it", () => {
    const alerts: string[] = [];
    const b = new Budgets(undefined, { now: () => NOW, onAlert: (a) => alerts.push(`${a.budget}@${a.threshold}`) });
    b.configure(cfg);
    b.add(entry(1));
    const start = periodAt('monthly', 1, NOW).start;
    // Redis says the team (this daemon's $1 included) has spent $4.
    b.observeTeam('cap', start, 4 * 1e10);
    assert.equal(b.statuses()[0].spentUsd, 4);
    assert.deepEqual(alerts, []);
    // Redis goes away; this daemon spends $2 more: the budget counts 4 + 2, and its 50 % alert is due.
    b.add(entry(2));
    assert.equal(b.statuses()[0].spentUsd, 6);
    assert.deepEqual(alerts, ['cap@50']);
    // The team's spend reaches the limit: refused here although this daemon spent only $3 itself.
    b.observeTeam('cap', start, 10 * 1e10);
    assert.equal(b.check(request).action, 'block');
    // An observation of another period (a late answer from last month) changes nothing.
    b.observeTeam('cap', start - 86_400_000 * 30, 0);
    assert.equal(b.statuses()[0].spentUsd, 10);
  });

  it("keeps a team's keys in one hash slot, apart from other teams' and prefixes'", () => {
    const k = teamKeys('shepherd', 'web');
    const b = k.budget('cap', Date.parse('2026-11-01T00:00:00Z'));
    for (const key of [b.spent, b.reserved, b.holds, b.held, b.flushed, k.daemons, k.rate('p/m', 'rpm')]) assert.ok(key.startsWith('shepherd:{web}:'), key);
    assert.equal(b.spent, 'shepherd:{web}:budget:cap:2026-11-01T00:00:00.000Z:spent');
    assert.notEqual(teamKeys('other', 'web').daemons, k.daemons);
  });
});

describe('team mode at start', () => {
  const deps = { member: 'me', log: { debug() {}, info() {}, warn() {}, error() {} }, budgets: new Budgets(), claimAlerts() {}, health: undefined as never, events: undefined as never };

  it('local mode (no team section) loads nothing', async () => {
    assert.equal(await openTeamMode(ConfigSchema.parse({}), {}, deps), undefined);
  });

  it('names the environment variable when team.redis.urlEnv is unset, or holds no Redis URL', async () => {
    await assert.rejects(openTeamMode(cfg, {}, deps), (err: unknown) => err instanceof StartError && /TEAM_REDIS_URL.*not set/.test(err.message));
    await assert.rejects(openTeamMode(cfg, { TEAM_REDIS_URL: 'http://x' }, deps), (err: unknown) => err instanceof StartError && /TEAM_REDIS_URL.*must start with redis:\/\//.test(err.message));
  });
});
