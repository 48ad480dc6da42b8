// A burst after an idle spell (an agent's first turn, 50 requests at once) must not cost a Redis call
// per request: requests that arrive while a lease call is under way wait for it and use its grant.
import { strict as assert } from 'node:assert';
import Redis from 'ioredis';
import { ConfigSchema } from '../../shared/config';
import { Budgets } from '../../daemon/spend/budgets';
import type { SpendCheck } from '../../daemon/spend/gate';
import { TeamBudgets } from '../../daemon/team/redis/budgets';
import { TeamRedis } from '../../daemon/team/redis/connection';
import { teamKeys } from '../../daemon/team/redis/keys';
import { startRedis, type TestServer } from '../support/team-servers';

const log = { debug() {}, info() {}, warn() {}, error() {} };
const config = ConfigSchema.parse({
  providers: { openai: { baseUrl: 'https://api.openai.com/v1' } },
  models: { big: { price: { input: 2, output: 8 }, deployments: [{ provider: 'openai', model: 'big' }] } },
  budgets: { cap: { limitUsd: 1000, action: 'block' } },
});
const request: SpendCheck = {
  group: 'big',
  body: { model: 'big', messages: [{ role: 'user', content: 'hi' }], max_tokens: 100 },
  deployments: [{ id: 'openai/big', providerName: 'openai', price: { input: 2, output: 8 } }],
};

describe('team budgets: a burst of requests after an idle spell (real redis-server)', () => {
  let server: TestServer;
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await server?.destroy();
  });

  it('admits 50 requests arriving at once with a handful of lease calls, not one each', async () => {
    const redis = new TeamRedis(server.url, 1_000, log);
    await redis.connect();
    const local = new Budgets();
    local.configure(config);
    const budgets = new TeamBudgets(redis, teamKeys('shepherd', 'burst'), 'daemon-1', local, log);
    budgets.configure(config);
    const stats = new Redis(server.url);
    const calls = async () => Number(/cmdstat_evalsha:calls=(\d+)/.exec(await stats.info('commandstats'))?.[1] ?? 0);
    const before = await calls();
    const verdicts = await Promise.all(Array.from({ length: 50 }, (_, i) => budgets.reserve(request, `r${i}`, { action: 'allow' })));
    assert.deepEqual(new Set(verdicts.map((v) => v.action)), new Set(['allow']));
    const made = (await calls()) - before;
    assert.ok(made <= 5, `${made} lease calls for 50 requests`);
    await budgets.close();
    await redis.close();
    stats.disconnect();
  });
});
