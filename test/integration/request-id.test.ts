// Every answer carries x-request-id, refusals included, so an SDK's request_id is never null; a chat
// request's id is also its ledger line's id.
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { configFor, startHarness, startSandboxes, type Harness } from '../support/harness';

describe('x-request-id on every answer', function () {
  let h: Harness;
  before(async () => {
    const sandboxes = await startSandboxes(1);
    h = await startHarness(configFor(sandboxes), { sandboxes });
  });
  after(() => h.close());

  it("gives the openai SDK a request id (requestID) on a 400 from body checks", async () => {
    const err = await h.client.chat.completions.create({ model: 'chat', messages: [] }).then(
      () => assert.fail('expected a 400'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof OpenAI.BadRequestError);
    assert.match(String(err.requestID), /^shep-[0-9a-f-]{36}$/);
  });

  it('sends one on 404s, 405s, invalid JSON and status reads, different each time', async () => {
    const ids = new Set<string>();
    for (const [method, path, body] of [
      ['GET', '/v1/nothing', undefined],
      ['GET', '/v1/chat/completions', undefined],
      ['POST', '/v1/chat/completions', '{"model":'],
      ['GET', '/v1/shepherd/status', undefined],
      ['GET', '/healthz', undefined],
    ] as const) {
      const res = await fetch(`${h.daemon.url}${path}`, { method, body });
      await res.text();
      const id = res.headers.get('x-request-id');
      assert.match(id ?? '', /^shep-/, `${method} ${path}`);
      ids.add(id ?? '');
    }
    assert.equal(ids.size, 5);
  });

  it("uses the same id for a refusal recorded in the ledger and for an answer", async () => {
    const refused = await h.client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    assert.ok(refused instanceof OpenAI.NotFoundError);
    const answered = await h.client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'x' }] }).withResponse();
    const ids = (await h.ledgerEntries()).map((e) => e.id);
    assert.ok(ids.includes(String(refused.requestID)), `${refused.requestID} in ${ids.join(', ')}`);
    assert.ok(ids.includes(answered.request_id ?? ''), `${answered.request_id} in ${ids.join(', ')}`);
  });
});
