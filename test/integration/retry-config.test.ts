// The retry settings a user can set per group, end to end: retries in place (retry.perDeployment),
// which upstream statuses are worth another deployment (retry.retryableStatuses), and that a request
// keeps the config it arrived with when the file is reloaded while it runs.
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { configFor, eventually, startHarness, startSandboxes, type Harness } from '../support/harness';

const hello: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'hi' }];

describe('retry settings per group', function () {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('retries a failing deployment in place perDeployment times before failing over', async () => {
    const sandboxes = await startSandboxes(2);
    const base = configFor(sandboxes);
    base.models!.chat.retry = { perDeployment: 2, baseMs: 1, maxMs: 5 };
    h = await startHarness(base, { sandboxes });
    await sandboxes[0].setFaults([{ fault: { type: 'status', status: 503 }, count: 2 }]);
    const res = await h.client.chat.completions.create({ model: 'chat', messages: hello }).withResponse();
    assert.equal(res.response.headers.get('x-shepherd-deployment'), 'up0/upstream-model-0', 'the third try on the first deployment answered');
    assert.equal(res.response.headers.get('x-shepherd-attempts'), '3');
    assert.equal(sandboxes[0].requests.length, 3);
    assert.equal(sandboxes[1].requests.length, 0, 'no failover was needed');
    const entry = await eventually(async () => (await h!.ledgerEntries()).find((e) => e.id === res.response.headers.get('x-request-id')));
    assert.equal(entry.attempts, 3);
  });

  it('fails over on exactly the statuses in retryableStatuses, and treats the rest as final', async () => {
    const sandboxes = await startSandboxes(2);
    const base = configFor(sandboxes);
    // 400 counts as worth another deployment here; 503 does not.
    base.models!.chat.retry = { retryableStatuses: [400, 429] };
    h = await startHarness(base, { sandboxes });

    await sandboxes[0].setFaults([{ fault: { type: 'status', status: 400 }, count: 1 }]);
    const moved = await h.client.chat.completions.create({ model: 'chat', messages: hello }).withResponse();
    assert.equal(moved.response.headers.get('x-shepherd-deployment'), 'up1/upstream-model-1');

    await sandboxes[0].setFaults([{ fault: { type: 'status', status: 503 }, count: 1 }]);
    const before = sandboxes[1].requests.length;
    await assert.rejects(h.client.chat.completions.create({ model: 'chat', messages: hello }, { maxRetries: 0 }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.APIError);
      assert.equal(err.status, 503);
      return true;
    });
    assert.equal(sandboxes[1].requests.length, before, 'a status outside the list is final: no failover');
  });

  it('keeps the config a request arrived with for all its attempts when the file is reloaded meanwhile', async () => {
    const sandboxes = await startSandboxes(1);
    const base = configFor(sandboxes);
    base.routing!.retry = { rounds: 1, baseMs: 1, maxMs: 5 };
    h = await startHarness(base, { sandboxes, start: { watch: false } });
    sandboxes[0].setTiming({ latencyMs: 400 });
    await sandboxes[0].setFaults([{ fault: { type: 'status', status: 503 }, count: 1 }]);
    const pending = h.client.chat.completions.create({ model: 'chat', messages: hello }, { maxRetries: 0 }).withResponse();
    await eventually(() => sandboxes[0].requests.length === 1 || undefined, 5_000, 'the first attempt to arrive upstream');
    // While that attempt waits, the file renames the group: the request's second pass must still
    // plan against the config it arrived with, not find its group gone.
    const next = configFor(sandboxes);
    next.models = { renamed: next.models!.chat };
    await h.writeConfig(next);
    assert.ok((await h.daemon.reload()).ok);
    const res = await pending;
    assert.equal(res.response.status, 200);
    assert.equal(sandboxes[0].requests.length, 2, 'the second pass reached the upstream');
    assert.equal(res.response.headers.get('x-shepherd-model'), 'chat');
    // A request that arrives after the reload follows the new file.
    await assert.rejects(h.client.chat.completions.create({ model: 'chat', messages: hello }, { maxRetries: 0 }), /404/);
  });
});
