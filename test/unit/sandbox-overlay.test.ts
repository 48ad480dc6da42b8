import assert from 'node:assert/strict';
import { ConfigSchema } from '../../shared/config';
import { sandboxOverlay } from '../../daemon/config/sandbox-overlay';
import { buildCatalog } from '../../daemon/routing/catalog';

describe('sandbox overlay (the no-keys default)', () => {
  const config = ConfigSchema.parse({
    server: { port: 5000 },
    providers: { openai: { baseUrl: 'https://api.openai.com/v1', apiKeyEnv: 'OPENAI_API_KEY' } },
    models: {
      'gpt-4.1': { aliases: ['gpt4'], price: { input: 2, output: 8 }, deployments: [{ provider: 'openai', model: 'gpt-4.1' }] },
    },
  });
  const endpoints = [
    { provider: 'sandbox-us', region: 'us-east', url: 'http://127.0.0.1:1111/v1' },
    { provider: 'sandbox-eu', region: 'eu-west', url: 'http://127.0.0.1:2222/v1' },
  ];
  const overlaid = sandboxOverlay(config, endpoints);

  it('keeps every group with its aliases and prices, served by one deployment per sandbox', () => {
    const group = overlaid.models['gpt-4.1'];
    assert.deepEqual(group.aliases, ['gpt4']);
    assert.deepEqual(group.price, { input: 2, output: 8 });
    assert.deepEqual(group.deployments, [
      { provider: 'sandbox-us', model: 'gpt-4.1', region: 'us-east' },
      { provider: 'sandbox-eu', model: 'gpt-4.1', region: 'eu-west' },
    ]);
  });

  it('replaces the real providers with keyless sandbox ones and keeps the server settings', () => {
    assert.deepEqual(Object.keys(overlaid.providers), ['sandbox-us', 'sandbox-eu']);
    assert.equal(overlaid.providers['sandbox-us'].sandbox, true);
    assert.equal(overlaid.server.port, 5000);
    assert.ok(ConfigSchema.safeParse(overlaid).success, 'the overlaid config is itself valid');
  });

  it('yields deployments that are usable without keys and labelled as sandbox', () => {
    const catalog = buildCatalog(overlaid, () => undefined);
    const deployments = catalog.groups.get('gpt-4.1')!.deployments;
    assert.ok(deployments.every((d) => d.sandbox && d.unavailable === undefined));
    assert.deepEqual(deployments.map((d) => d.id), ['sandbox-us/gpt-4.1@us-east', 'sandbox-eu/gpt-4.1@eu-west']);
  });
});
