// Local API keys as a spend dimension: the ledger names the key by a label (never the key), spend can
// be grouped by it, and a budget scoped to one key blocks only that key.
import assert from 'node:assert/strict';
import { keyLabel } from '../../daemon/http/guard';
import { configFor, startHarness, startSandboxes, type Harness } from '../support/harness';

const ALICE = 'local-key-alice-0001';
const BOB = 'local-key-bob-00002';

describe('local API keys in the ledger, spend and budgets', function () {
  let h: Harness;
  before(async () => {
    const sandboxes = await startSandboxes(1);
    const config = configFor(sandboxes, {
      server: { apiKeys: [ALICE, BOB] },
      budgets: { 'bob-cap': { limitUsd: 0, scope: { key: keyLabel(BOB) }, action: 'block' } },
    });
    h = await startHarness(config, { sandboxes });
  });
  after(() => h.close());

  const ask = (key: string) =>
    fetch(`${h.daemon.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }),
    });

  it('records the key as a label, never the key itself, and groups spend by it', async () => {
    const res = await ask(ALICE);
    assert.equal(res.status, 200);
    await res.text();
    const entry = (await h.ledgerEntries()).find((e) => e.id === res.headers.get('x-request-id'));
    assert.equal(entry?.key, keyLabel(ALICE));
    assert.match(entry?.key ?? '', /^key-[0-9a-f]{8}$/);
    assert.doesNotMatch(JSON.stringify(await h.ledgerEntries()), /local-key-alice/);
    const spend = await fetch(`${h.daemon.url}/v1/shepherd/spend?groupBy=key`, { headers: { authorization: `Bearer ${ALICE}` } });
    const report = (await spend.json()) as { rows: { key: string; requests: number }[] };
    assert.equal(report.rows.find((r) => r.key === keyLabel(ALICE))?.requests, 1);
  });

  it("blocks only the key whose budget is spent, with a 402 naming the budget", async () => {
    const bob = await ask(BOB);
    assert.equal(bob.status, 402);
    assert.match(((await bob.json()) as { error: { message: string } }).error.message, /bob-cap/);
    const alice = await ask(ALICE);
    assert.equal(alice.status, 200);
    await alice.text();
  });
});
