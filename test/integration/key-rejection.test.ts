// A provider key that one upstream rejects: the request fails over, the deployment is marked (its
// key, not an outage), later plans leave it out, and the client sees 401 only when nothing can serve.
// Errors name every deployment of the plan, the ones left out included.
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { configFor, startHarness, startSandboxes, type Harness } from '../support/harness';

const hello: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'hi' }];

interface StatusDeployment {
  id: string;
  state: string;
  circuit: string;
  keyRejected: string | null;
}

async function status(h: Harness): Promise<StatusDeployment[]> {
  const body = (await (await fetch(`${h.daemon.url}/v1/shepherd/status`)).json()) as { deployments: StatusDeployment[] };
  return body.deployments;
}

describe('a rejected provider key', function () {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('fails over to the next deployment, marks the first one, and leaves it out of later plans', async () => {
    const sandboxes = await startSandboxes(2);
    h = await startHarness(configFor(sandboxes), { sandboxes });
    await sandboxes[0].setFaults([{ fault: { type: 'status', status: 401, message: 'Incorrect API key provided' }, count: 1 }]);
    const res = await h.client.chat.completions.create({ model: 'chat', messages: hello }).withResponse();
    assert.equal(res.response.headers.get('x-shepherd-deployment'), 'up1/upstream-model-1');

    const [first, second] = await status(h);
    assert.equal(first.id, 'up0/upstream-model-0');
    assert.equal(first.state, 'unhealthy');
    assert.equal(first.circuit, 'closed', 'a rejected key is not an outage');
    assert.match(first.keyRejected ?? '', /HTTP 401: Incorrect API key provided/);
    assert.equal(second.keyRejected, null);

    const before = sandboxes[0].requests.length;
    await h.client.chat.completions.create({ model: 'chat', messages: hello });
    assert.equal(sandboxes[0].requests.length, before, 'the deployment with the rejected key was not called again');
  });

  it('answers 401 when every deployment had its key rejected, naming each', async () => {
    const sandboxes = await startSandboxes(2);
    h = await startHarness(configFor(sandboxes), { sandboxes });
    await sandboxes[0].setFaults([{ fault: { type: 'status', status: 401, message: 'bad key zero' } }]);
    await sandboxes[1].setFaults([{ fault: { type: 'status', status: 403, message: 'key one lacks access' } }]);
    const expect401 = (pattern: RegExp) => (err: unknown) => {
      assert.ok(err instanceof OpenAI.AuthenticationError, String(err));
      assert.match(err.message, pattern);
      return true;
    };
    await assert.rejects(
      h.client.chat.completions.create({ model: 'chat', messages: hello }, { maxRetries: 0 }),
      expect401(/up0\/upstream-model-0 \(HTTP 401: bad key zero\).*up1\/upstream-model-1 \(HTTP 403: key one lacks access\)/),
    );
    // The next request is refused before any upstream call, still as an authentication problem.
    const calls = sandboxes.map((s) => s.requests.length);
    await assert.rejects(h.client.chat.completions.create({ model: 'chat', messages: hello }, { maxRetries: 0 }), expect401(/provider key was rejected/));
    assert.deepEqual(sandboxes.map((s) => s.requests.length), calls);
  });

  it('keeps the client’s own errors final: a 400 is not failed over', async () => {
    const sandboxes = await startSandboxes(2);
    h = await startHarness(configFor(sandboxes), { sandboxes });
    await sandboxes[0].setFaults([{ fault: { type: 'status', status: 400, message: 'messages[0]: bad role' }, count: 1 }]);
    await assert.rejects(h.client.chat.completions.create({ model: 'chat', messages: hello }, { maxRetries: 0 }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.BadRequestError);
      return true;
    });
    assert.equal(sandboxes[1].requests.length, 0);
  });

  it('names the deployments left out of the plan (no key) beside the one that failed', async () => {
    const sandboxes = await startSandboxes(1);
    const config = configFor(sandboxes);
    config.providers!.keyless = { baseUrl: 'http://127.0.0.1:9/v1', apiKeyEnv: 'SHEPHERD_TEST_UNSET_KEY' };
    config.models = {
      claude: { deployments: [{ provider: 'keyless', model: 'claude-x' }], fallbacks: ['chat'] },
      chat: config.models!.chat,
    };
    h = await startHarness(config, { sandboxes });
    await sandboxes[0].setFaults([{ fault: { type: 'status', status: 503, message: 'overloaded' } }]);
    await assert.rejects(h.client.chat.completions.create({ model: 'claude', messages: hello }, { maxRetries: 0 }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.APIError);
      assert.match(err.message, /up0\/upstream-model-0: overloaded/);
      assert.match(err.message, /not tried: keyless\/claude-x \([^)]*SHEPHERD_TEST_UNSET_KEY/);
      return true;
    });
  });
});
