import assert from 'node:assert/strict';
import { ConfigSchema } from '../../shared/config';
import { normaliseModelName, patternMatches, patternsOverlap } from '../../shared/model-names';
import { buildCatalog, listModelNames, resolveModel } from '../../daemon/routing/catalog';
import { describeResolution } from '../../daemon/routing/names';
import { presetConfig } from '../../daemon/config/presets';
import { planRoute } from '../../daemon/routing/plan';
import { HealthBoard } from '../../daemon/health/board';
import { distanceTable } from '../../daemon/routing/regions';
import { RoutingCursors } from '../../daemon/routing/strategies';

const presets = ConfigSchema.parse(presetConfig());
const catalog = buildCatalog(presets, () => 'sk-test');
const groupOf = (name: string) => {
  const r = resolveModel(catalog, name);
  return r === undefined ? undefined : r.how === 'auto' ? 'auto' : r.group;
};

describe('model names: normalisation', () => {
  const cases: [string, string][] = [
    ['claude-haiku-4-5-20251001', 'claude-haiku-4.5'],
    ['Claude-Sonnet-4-5', 'claude-sonnet-4.5'],
    ['claude-sonnet-4-5[1m]', 'claude-sonnet-4.5'],
    ['claude-sonnet-4-5@20250929', 'claude-sonnet-4.5'],
    ['claude-3-7-sonnet-latest', 'claude-3.7-sonnet'],
    ['gpt-4.1-2025-04-14', 'gpt-4.1'],
    ['gpt-4o-2024-08-06', 'gpt-4o'],
    ['gpt-4-0613', 'gpt-4-0613'], // not a version pair: kept
    ['gemini-2.5-flash-latest', 'gemini-2.5-flash'],
    ['deepseek-v3.2', 'deepseek-v3.2'],
  ];
  for (const [raw, want] of cases) it(`${raw} -> ${want}`, () => assert.equal(normaliseModelName(raw), want));
});

describe('model names: patterns', () => {
  it('match with * and ?', () => {
    assert.ok(patternMatches('claude-opus-*', 'claude-opus-5-5'));
    assert.ok(patternMatches('claude-*-sonnet-*', 'claude-3-7-sonnet-20250219'));
    assert.ok(!patternMatches('claude-*-sonnet-*', 'claude-sonnet-4'));
    assert.ok(patternMatches('gpt-4.?', 'gpt-4.1'));
  });
  it('tell whether two patterns can match one name', () => {
    assert.ok(patternsOverlap('*sonnet*', '*latest*'));
    assert.ok(!patternsOverlap('claude-opus-*', 'claude-sonnet-*'));
    assert.ok(patternsOverlap('claude-*-haiku', 'claude-*-opus-*'));
    assert.ok(!patternsOverlap('a*b', 'a*c'));
  });
});

describe('model names: what Claude Code and dated names resolve to with the presets', () => {
  const cases: [string, string][] = [
    ['claude-opus-4-8', 'claude-opus-4.5'],
    ['claude-opus-5-5', 'claude-opus-4.5'],
    ['claude-sonnet-5', 'claude-sonnet-4.5'],
    ['claude-sonnet-5-5', 'claude-sonnet-4.5'],
    ['claude-sonnet-4-5', 'claude-sonnet-4.5'],
    ['claude-sonnet-4-5-20250929[1m]', 'claude-sonnet-4.5'],
    ['claude-haiku-4-5-20251001', 'claude-haiku-4.5'],
    ['claude-haiku-5-5', 'claude-haiku-4.5'],
    ['claude-3-7-sonnet-20250219', 'claude-sonnet-4.5'],
    ['claude-3-5-haiku-latest', 'claude-haiku-4.5'],
    ['sonnet', 'claude-sonnet-4.5'],
    ['HAIKU', 'claude-haiku-4.5'],
    ['gpt-4.1-2025-04-14', 'gpt-4.1'],
    ['gemini-2.5-flash-preview-05-20', 'gemini-2.5-flash'],
    ['gemini-flash-latest', 'gemini-2.5-flash'],
  ];
  for (const [name, group] of cases) it(`${name} -> ${group}`, () => assert.equal(groupOf(name), group));

  it('says how a name was resolved', () => {
    const r = resolveModel(catalog, 'claude-opus-5-5')!;
    assert.equal(describeResolution('claude-opus-5-5', r, 'claude-opus-4.5'), 'pattern claude-opus-* -> claude-opus-4.5');
    const n = resolveModel(catalog, 'claude-haiku-4-5-20251001')!;
    assert.equal(describeResolution('claude-haiku-4-5-20251001', n, 'claude-haiku-4.5'), 'normalised claude-haiku-4.5 -> claude-haiku-4.5');
  });

  it('keeps patterns out of the model list', () => {
    assert.ok(!listModelNames(catalog).some((m) => m.id.includes('*')));
  });
});

describe('model names: precedence and the unknown-model rule', () => {
  const base = {
    providers: { p: { baseUrl: 'http://127.0.0.1:1/v1' } },
    models: {
      wide: { aliases: ['claude-*'], deployments: [{ provider: 'p', model: 'w' }] },
      narrow: { aliases: ['claude-opus-*', 'claude-opus-special'], deployments: [{ provider: 'p', model: 'n' }] },
      exact: { aliases: ['claude-opus-9'], deployments: [{ provider: 'p', model: 'e' }] },
    },
  };
  const c = buildCatalog(ConfigSchema.parse(base), () => undefined);
  const of = (name: string) => {
    const r = resolveModel(c, name);
    return r && r.how !== 'auto' ? r.group : r?.how;
  };
  it('exact names win over patterns, and the most specific pattern wins', () => {
    assert.equal(of('claude-opus-9'), 'exact');
    assert.equal(of('claude-opus-special'), 'narrow');
    assert.equal(of('claude-opus-10'), 'narrow');
    assert.equal(of('claude-sonnet-1'), 'wide');
    assert.equal(of('gpt-9'), undefined);
  });

  it('sends unknown names to a group or to auto when configured', () => {
    const toGroup = buildCatalog(ConfigSchema.parse({ ...base, routing: { unknownModel: { action: 'group', group: 'exact' } } }), () => undefined);
    assert.deepEqual(resolveModel(toGroup, 'gpt-9'), { how: 'unknown-rule', group: 'exact' });
    const toAuto = buildCatalog(ConfigSchema.parse({ ...base, routing: { unknownModel: { action: 'auto' } } }), () => undefined);
    assert.deepEqual(resolveModel(toAuto, 'gpt-9'), { how: 'auto' });
  });

  it('puts the resolution in the plan', () => {
    const ctx = { catalog: c, health: new HealthBoard(c), cursors: new RoutingCursors(), distances: distanceTable(), random: () => 0.5 };
    const result = planRoute(ctx, 'claude-opus-10', { model: 'claude-opus-10', messages: [{ role: 'user', content: 'hi' }] });
    assert.ok(result.ok);
    assert.equal(result.plan.resolved, 'pattern claude-opus-* -> narrow');
    const unknown = planRoute(ctx, 'gpt-9', { model: 'gpt-9', messages: [] });
    assert.ok(!unknown.ok && /"gpt-9" is not configured; available: wide, narrow, exact, auto/.test(unknown.message));
  });

  it('refuses a config whose patterns clash, naming both', () => {
    const bad = ConfigSchema.safeParse({
      ...base,
      models: {
        a: { aliases: ['*sonnet*'], deployments: [{ provider: 'p', model: 'a' }] },
        b: { aliases: ['*latest*'], deployments: [{ provider: 'p', model: 'b' }] },
      },
    });
    assert.ok(!bad.success);
    const issue = bad.error.issues.find((i) => i.path.join('.') === 'models.b.aliases.0');
    assert.match(issue?.message ?? '', /alias pattern "\*latest\*" \(model group "b"\) clashes with "\*sonnet\*" \(model group "a"\)/);
  });

  it('refuses two names of different groups that are the same once normalised, and a rule naming no group', () => {
    const same = ConfigSchema.safeParse({
      ...base,
      models: { a: { deployments: [{ provider: 'p', model: 'a' }] }, 'gpt-4.1': { aliases: [], deployments: [{ provider: 'p', model: 'b' }] }, c: { aliases: ['gpt-4-1'], deployments: [{ provider: 'p', model: 'c' }] } },
    });
    assert.ok(!same.success);
    assert.match(same.error.issues[0].message, /"gpt-4-1" and "gpt-4.1" .* same name once normalised/);
    const rule = ConfigSchema.safeParse({ ...base, routing: { unknownModel: { action: 'group', group: 'nope' } } });
    assert.ok(!rule.success);
    assert.match(rule.error.issues[0].message, /unknown model group "nope"/);
  });
});
