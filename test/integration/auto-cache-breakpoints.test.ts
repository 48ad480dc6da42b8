// Automatic cache breakpoints (issue 17, item 4): an OpenAI-format client (Cline, Continue) on an
// Claude group gets cache_control on its last system block and last tool, when the provider (or the
// group) says so and the client marked nothing itself; the sandbox records what arrived upstream.
import assert from 'node:assert/strict';
import type { ShepherdConfigInput } from '../../shared/config';
import type { Sandbox } from '../../daemon/sandbox/server';
import { startHarness, startSandboxes, type Harness } from '../support/harness';
import { toAnthropicRequest } from '../../daemon/formats/anthropic/upstream-request';
import type { ChatBody } from '../../daemon/core/chat';

const tools = [
  { type: 'function', function: { name: 'read_file', parameters: { type: 'object', properties: { path: { type: 'string' } } } } },
  { type: 'function', function: { name: 'write_file', parameters: { type: 'object', properties: { path: { type: 'string' } } } } },
];
const chatBody = (over: Partial<ChatBody> = {}): ChatBody => ({
  model: 'claude',
  messages: [{ role: 'system', content: 'You are Cline.' }, { role: 'system', content: 'Rules: be careful.' }, { role: 'user', content: 'fix it' }],
  tools,
  ...over,
});

describe('automatic cache breakpoints: the translation', () => {
  it('marks the last system block and the last tool, nothing else', () => {
    const out = toAnthropicRequest(chatBody(), 'm', 1024, { autoCacheBreakpoints: true }) as { system: Record<string, unknown>[]; tools: Record<string, unknown>[]; messages: { content: Record<string, unknown>[] }[] };
    assert.deepEqual(out.system.map((b) => b.cache_control), [undefined, { type: 'ephemeral' }]);
    assert.deepEqual(out.tools.map((t) => t.cache_control), [undefined, { type: 'ephemeral' }]);
    assert.ok(out.messages.every((m) => m.content.every((b) => b.cache_control === undefined)));
  });

  it('adds nothing when switched off, or when the client placed a breakpoint itself', () => {
    assert.doesNotMatch(JSON.stringify(toAnthropicRequest(chatBody(), 'm', 1024)), /cache_control/);
    const own = chatBody({
      messages: [{ role: 'system', content: 'x' }, { role: 'user', content: [{ type: 'text', text: 'long doc', cache_control: { type: 'ephemeral' } }] }],
    });
    const out = JSON.stringify(toAnthropicRequest(own, 'm', 1024, { autoCacheBreakpoints: true }));
    assert.equal(out.match(/cache_control/g)?.length, 1, out);
  });
});

describe('automatic cache breakpoints: what reaches the upstream', function () {
  let h: Harness;
  let anth: Sandbox;
  before(async () => {
    const [s] = await startSandboxes(1);
    anth = s;
    const config: ShepherdConfigInput = {
      sandbox: false,
      providers: {
        auto: { type: 'anthropic', baseUrl: s.urls.anthropic, apiKey: 'sk-ant-test', autoCacheBreakpoints: true },
        plain: { type: 'anthropic', baseUrl: s.urls.anthropic, apiKey: 'sk-ant-test' },
      },
      models: {
        claude: { deployments: [{ provider: 'auto', model: 'claude-auto' }] },
        'claude-plain': { deployments: [{ provider: 'plain', model: 'claude-plain' }] },
        'claude-group-on': { autoCacheBreakpoints: true, deployments: [{ provider: 'plain', model: 'claude-group' }] },
      },
      routing: { health: { probes: { enabled: false } }, retry: { rounds: 0 }, hedge: { enabled: false } },
    };
    h = await startHarness(config, { sandboxes: [s] });
  });
  after(() => h.close());

  const upstreamBody = (model: string) => {
    const r = [...anth.requests].reverse().find((x) => (x.body as { model?: string } | undefined)?.model === model);
    assert.ok(r, `a request for ${model} reached the sandbox`);
    return r.body as { system?: Record<string, unknown>[]; tools?: Record<string, unknown>[] };
  };

  it('an OpenAI client on a Claude group: system prompt and tools arrive marked for caching', async () => {
    const messages = [{ role: 'system' as const, content: 'You are Cline.' }, { role: 'user' as const, content: 'fix it' }];
    await h.client.chat.completions.create({ model: 'claude', messages, tools: tools as never });
    const sent = upstreamBody('claude-auto');
    assert.deepEqual(sent.system?.at(-1)?.cache_control, { type: 'ephemeral' });
    assert.deepEqual(sent.tools?.at(-1)?.cache_control, { type: 'ephemeral' });
    await h.client.chat.completions.create({ model: 'claude-plain', messages, tools: tools as never });
    assert.doesNotMatch(JSON.stringify(upstreamBody('claude-plain')), /cache_control/, 'off unless configured');
    await h.client.chat.completions.create({ model: 'claude-group-on', messages, tools: tools as never });
    assert.deepEqual(upstreamBody('claude-group').system?.at(-1)?.cache_control, { type: 'ephemeral' }, 'a group turns it on for its deployments');
  });
});
