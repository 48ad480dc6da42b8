// What a model group promises clients (VS Code's model list): limits and capabilities folded over its
// deployments, `auto` and its profiles; and the caller's name a request may carry into the ledger.
import assert from 'node:assert/strict';
import { ModelGroupSchema } from '../../shared/config';
import { AutoSchema } from '../../shared/routing-config';
import { autoModels, groupModelInfo } from '../../daemon/config/model-info';
import { clientTag } from '../../daemon/core/caller';

const group = (input: unknown) => ModelGroupSchema.parse(input);

describe('model info for clients', () => {
  it('takes the group\'s values, lowered by any deployment that can do less', () => {
    const g = group({
      contextWindow: 200_000,
      maxOutputTokens: 64_000,
      capabilities: { tools: true, images: true },
      deployments: [{ provider: 'a', model: 'm' }, { provider: 'b', model: 'm', contextWindow: 100_000, capabilities: { images: false } }],
    });
    assert.deepEqual(groupModelInfo(g), { contextWindow: 100_000, maxOutputTokens: 64_000, capabilities: { tools: true, images: false } });
  });

  it('promises no capability some deployment leaves unstated, and nothing at all when the config is silent', () => {
    const some = group({ deployments: [{ provider: 'a', model: 'm', capabilities: { tools: true } }, { provider: 'b', model: 'm' }] });
    assert.deepEqual(groupModelInfo(some), {});
  });

  it('lists auto and each profile with its tiers, unless no tier group exists or a group is called auto', () => {
    const auto = AutoSchema.parse({ tiers: { simple: 'cheap', medium: 'cheap', complex: 'big', reasoning: 'big' }, profiles: { fast: { complex: 'cheap' } } });
    assert.deepEqual(autoModels(auto, new Set(['cheap', 'big'])), [
      { name: 'auto', tiers: { simple: 'cheap', medium: 'cheap', complex: 'big', reasoning: 'big' } },
      { name: 'auto:fast', tiers: { simple: 'cheap', medium: 'cheap', complex: 'cheap', reasoning: 'big' } },
      // Built in: the base tiers, cascading (a profile of that name would replace it).
      { name: 'auto:cascade', tiers: { simple: 'cheap', medium: 'cheap', complex: 'big', reasoning: 'big' } },
    ]);
    assert.deepEqual(autoModels(auto, new Set(['other'])), []);
    assert.deepEqual(autoModels(auto, new Set(['cheap', 'auto'])), []);
  });
});

describe('caller name (x-shepherd-client)', () => {
  it('keeps a short plain name, lower-cased', () => {
    assert.equal(clientTag('GitHub.Copilot-Chat'), 'github.copilot-chat');
    assert.equal(clientTag(['my-script/1.0', 'ignored']), 'my-script/1.0');
  });

  it('drops what could mislead a reader of the ledger or a CSV export', () => {
    for (const bad of [undefined, '', '  ', 'a b', '=cmd()', 'x'.repeat(101), 'name\u202e', 'évil']) assert.equal(clientTag(bad), undefined, JSON.stringify(bad));
  });
});
