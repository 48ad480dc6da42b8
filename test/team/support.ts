// Several in-process daemons of one team against one real redis-server, sharing test upstreams.
import Redis from 'ioredis';
import type { ShepherdConfigInput } from '../../shared/config';
import type { Sandbox } from '../../daemon/sandbox/server';
import { configFor, startHarness, type Harness } from '../support/harness';

export const TEAM = 'testteam';

/** The same config for every daemon of the team, with its Redis. */
export function teamConfig(sandboxes: Sandbox[], redisUrl: string, extra: Partial<ShepherdConfigInput> = {}): ShepherdConfigInput {
  const { team, ...rest } = extra;
  return configFor(sandboxes, { ...rest, team: { name: TEAM, redis: { url: redisUrl, timeoutMs: 250 }, ...team } as NonNullable<ShepherdConfigInput['team']> });
}

export async function startTeam(n: number, config: ShepherdConfigInput): Promise<Harness[]> {
  const out: Harness[] = [];
  // The harness closes the sandboxes it is given: these are shared, so none is handed over.
  const team = config.team as NonNullable<ShepherdConfigInput['team']>;
  for (let i = 0; i < n; i++) out.push(await startHarness({ ...config, team: { ...team, member: `m${i}` } }, { sandboxes: [] }));
  return out;
}

export async function closeAll(hs: Harness[]): Promise<void> {
  await Promise.all(hs.map((h) => h.close()));
}

/** A plain client of the test's Redis. */
export function redisClient(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1 });
}

export async function status(h: Harness): Promise<{ team?: { state: string; redis?: { state: string; unsyncedUsd: number; daemons: number } }; deployments: { id: string; circuit: string }[] }> {
  const res = await fetch(`${h.daemon.url}/v1/shepherd/status`);
  return (await res.json()) as never;
}

/** Sends one small chat request; the HTTP status (200 answered, 402 budget, 429 saturated...). */
export async function chat(h: Harness, maxTokens = 20, key?: string): Promise<number> {
  const res = await fetch(`${h.daemon.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hello there' }], max_tokens: maxTokens }),
  });
  await res.arrayBuffer();
  return res.status;
}

/** Integer cost units (1e-10 USD) of every ledger line of these daemons. */
export async function ledgerUnits(hs: Harness[]): Promise<number> {
  let units = 0;
  for (const h of hs) for (const e of await h.ledgerEntries()) units += Math.round(e.costUsd * 1e10);
  return units;
}
