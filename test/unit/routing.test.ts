import assert from 'node:assert/strict';
import { ConfigSchema } from '../../shared/config';
import { buildCatalog, listModelNames, resolveGroup } from '../../daemon/routing/catalog';
import { planRoute as plan, type PlanResult } from '../../daemon/routing/plan';
import { HealthBoard } from '../../daemon/health/board';
import { distanceTable } from '../../daemon/routing/regions';
import { RoutingCursors } from '../../daemon/routing/strategies';
import type { Catalog } from '../../daemon/routing/catalog';

function planRoute(c: Catalog, model: string): PlanResult {
  const ctx = { catalog: c, health: new HealthBoard(c), cursors: new RoutingCursors(), distances: distanceTable(), random: () => 0.5 };
  return plan(ctx, model, { model, messages: [{ role: 'user', content: 'hi' }] });
}

const config = ConfigSchema.parse({
  providers: {
    openai: { baseUrl: 'https://api.openai.com/v1', apiKeyEnv: 'OPENAI_API_KEY' },
    relay: { baseUrl: 'https://relay.example/v1', apiKeyEnv: 'RELAY_API_KEY' },
    local: { baseUrl: 'http://127.0.0.1:11434/v1' },
  },
  models: {
    'gpt-4.1': {
      aliases: ['gpt4', 'GPT-4'],
      price: { input: 2, output: 8 },
      deployments: [
        { provider: 'openai', model: 'gpt-4.1', region: 'us' },
        { provider: 'relay', model: 'openai/gpt-4.1', price: { input: 2.2, output: 8.8 } },
      ],
    },
    llama: { deployments: [{ provider: 'local', model: 'llama3.2' }] },
    nokey: { deployments: [{ provider: 'relay', model: 'x' }] },
  },
});
const keys: Record<string, string> = { openai: 'sk-test-openai' };
const catalog = buildCatalog(config, (name) => keys[name]);

describe('routing: catalog', () => {
  it('resolves group names and aliases case-insensitively', () => {
    assert.equal(resolveGroup(catalog, 'gpt-4.1')?.name, 'gpt-4.1');
    assert.equal(resolveGroup(catalog, 'gpt4')?.name, 'gpt-4.1');
    assert.equal(resolveGroup(catalog, 'gpt-4')?.name, 'gpt-4.1');
    assert.equal(resolveGroup(catalog, 'gpt-5'), undefined);
  });

  it('names deployments provider/model@region and inherits the group price unless overridden', () => {
    const [first, second] = resolveGroup(catalog, 'gpt-4.1')!.deployments;
    assert.equal(first.id, 'openai/gpt-4.1@us');
    assert.deepEqual(first.price, { input: 2, output: 8 });
    assert.equal(second.id, 'relay/openai/gpt-4.1');
    assert.deepEqual(second.price, { input: 2.2, output: 8.8 });
  });

  it('marks deployments whose provider key is missing, naming the variable; keyless providers stay usable', () => {
    const [withKey, withoutKey] = resolveGroup(catalog, 'gpt-4.1')!.deployments;
    assert.equal(withKey.unavailable, undefined);
    assert.equal(withKey.apiKey, 'sk-test-openai');
    assert.match(withoutKey.unavailable ?? '', /RELAY_API_KEY/);
    assert.equal(resolveGroup(catalog, 'llama')!.deployments[0].unavailable, undefined);
  });

  it('lists every group and alias for /v1/models', () => {
    const ids = listModelNames(catalog).map((m) => m.id);
    assert.deepEqual(ids, ['gpt-4.1', 'gpt4', 'GPT-4', 'llama', 'nokey']);
  });
});

describe('routing: plan', () => {
  it('orders usable deployments by config priority and explains each, skipping keyless ones with a reason', () => {
    const result = planRoute(catalog, 'gpt4');
    assert.ok(result.ok);
    assert.equal(result.plan.group.name, 'gpt-4.1');
    assert.deepEqual(result.plan.attempts.map((a) => a.deployment.id), ['openai/gpt-4.1@us']);
    assert.equal(result.plan.skipped.length, 1);
    assert.match(result.plan.skipped[0].reason, /RELAY_API_KEY/);
  });

  it('keeps config order across several usable deployments', () => {
    const both = buildCatalog(config, () => 'k');
    const result = planRoute(both, 'gpt-4.1');
    assert.ok(result.ok);
    assert.deepEqual(result.plan.attempts.map((a) => a.deployment.id), ['openai/gpt-4.1@us', 'relay/openai/gpt-4.1']);
    assert.match(result.plan.attempts[1].reason, /fallback/);
  });

  it('refuses an unknown model and lists what is available', () => {
    const result = planRoute(catalog, 'gpt-5');
    assert.equal(result.ok, false);
    assert.ok(!result.ok && result.reason === 'unknown_model');
    assert.match(result.message, /"gpt-5" is not configured; available: gpt-4.1, llama, nokey, auto/);
  });

  it('says which deployments are unusable when none is left', () => {
    const result = planRoute(catalog, 'nokey');
    assert.ok(!result.ok && result.reason === 'no_deployment');
    assert.match(result.message, /relay\/x: no API key: environment variable RELAY_API_KEY is not set/);
  });
});
