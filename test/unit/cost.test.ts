// The cost of one request from token counts and a per-1M-token price (OpenAI semantics: the prompt
// count includes cached tokens).
import assert from 'node:assert/strict';
import type { Price } from '../../shared/config';
import type { Usage } from '../../daemon/core/usage';
import { cacheSavingUsd, costUsd } from '../../daemon/spend/cost';
import { mergeCounts, NO_COUNTS, toUsage } from '../../daemon/formats/anthropic/upstream-response';

describe('costUsd', () => {
  const mini: Price = { input: 0.15, output: 0.6 };
  const cachedHalf: Price = { input: 2.5, output: 10, cachedInput: 1.25 };
  const noCachedPrice: Price = { input: 2.5, output: 10 };

  const cases: Array<[name: string, usage: Usage, price: Price | undefined, expected: number]> = [
    ['no price costs nothing, whatever the tokens', { promptTokens: 1000, completionTokens: 500 }, undefined, 0],
    ['prompt at input price, completion at output price', { promptTokens: 1000, completionTokens: 500 }, mini, 0.00045],
    ['zero tokens cost nothing', { promptTokens: 0, completionTokens: 0 }, mini, 0],
    ['zero tokens with cached zero', { promptTokens: 0, completionTokens: 0, cachedTokens: 0 }, cachedHalf, 0],
    // 600 uncached * 2.5 + 400 cached * 1.25 + 100 * 10 = 3000 per 1M
    ['cached part of the prompt at the cached price', { promptTokens: 1000, completionTokens: 100, cachedTokens: 400 }, cachedHalf, 0.003],
    // no cachedInput: all 1000 prompt tokens at 2.5, + 100 * 10
    ['cached tokens fall back to the input price', { promptTokens: 1000, completionTokens: 100, cachedTokens: 400 }, noCachedPrice, 0.0035],
    ['a cached price of 0 is free, not "unset"', { promptTokens: 1000, completionTokens: 0, cachedTokens: 1000 }, { input: 3, output: 15, cachedInput: 0 }, 0],
    ['more cached than prompt tokens bills the prompt once, at the cached price', { promptTokens: 100, completionTokens: 0, cachedTokens: 500 }, cachedHalf, 0.000125],
    // 1e9 * 3 / 1e6 + 2e8 * 15 / 1e6 = 3000 + 3000
    ['big numbers stay exact', { promptTokens: 1_000_000_000, completionTokens: 200_000_000 }, { input: 3, output: 15 }, 6000],
    // raw: 3 * 0.1 / 1e6 = 3.0000000000000004e-7
    ['float noise is rounded away', { promptTokens: 3, completionTokens: 0 }, { input: 0.1, output: 0 }, 3e-7],
    ['sub-unit fractions round to 1e-10 USD', { promptTokens: 1, completionTokens: 0 }, { input: 0.00001, output: 0 }, 0],
    ['nonsense counts from an upstream count as zero', { promptTokens: Number.NaN, completionTokens: -5, cachedTokens: Number.POSITIVE_INFINITY }, mini, 0],
  ];

  for (const [name, usage, price, expected] of cases) {
    it(name, () => {
      assert.equal(costUsd(usage, price), expected);
    });
  }

  it('is never negative and never NaN for any usage', () => {
    const counts = [0, 1, 7, 1e6, -1, Number.NaN, 2 ** 53];
    for (const p of counts) for (const c of counts) for (const k of [undefined, ...counts]) {
      const cost = costUsd({ promptTokens: p, completionTokens: c, cachedTokens: k }, cachedHalf);
      assert.ok(Number.isFinite(cost) && cost >= 0, `prompt=${p} completion=${c} cached=${k} gave ${cost}`);
    }
  });
});

describe('cost: prompt cache writes', () => {
  it('bills cache writes at the cache-write price and reads at the cached price', () => {
    // 1M prompt tokens: 600k plain, 300k read, 100k written; Claude Sonnet 4.5 list prices.
    const usd = costUsd(
      { promptTokens: 1_000_000, completionTokens: 0, cachedTokens: 300_000, cacheWriteTokens: 100_000 },
      { input: 3, cachedInput: 0.3, cacheWrite: 3.75, output: 15 },
    );
    assert.equal(usd, 2.265); // 1.8 + 0.09 + 0.375
  });

  it('bills 1-hour cache writes at cacheWrite1h (2x input), the 5-minute ones at cacheWrite', () => {
    const price = { input: 3, cachedInput: 0.3, cacheWrite: 3.75, cacheWrite1h: 6, output: 15 };
    // 1M prompt: 600k plain, 400k written of which 100k for an hour: 1.8 + 300k*3.75 + 100k*6.
    assert.equal(costUsd({ promptTokens: 1_000_000, completionTokens: 0, cacheWriteTokens: 400_000, cacheWrite1hTokens: 100_000 }, price), 3.525); // 1.8 + 1.125 + 0.6
    // Without a 1-hour price the 1-hour writes bill at cacheWrite; more 1h than writes is capped.
    assert.equal(costUsd({ promptTokens: 1_000_000, completionTokens: 0, cacheWriteTokens: 400_000, cacheWrite1hTokens: 900_000 }, { ...price, cacheWrite1h: undefined }), 3.3); // 1.8 + 1.5
  });

  it('reads the 5-minute/1-hour split from Anthropic usage', () => {
    const usage = toUsage(mergeCounts(NO_COUNTS, { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 300, cache_creation: { ephemeral_5m_input_tokens: 200, ephemeral_1h_input_tokens: 100 } }));
    assert.deepEqual(usage, { promptTokens: 310, completionTokens: 5, cacheWriteTokens: 300, cacheWrite1hTokens: 100 });
  });

  it('says what caching saved: reads below input, less writes above it', () => {
    const price = { input: 3, cachedInput: 0.3, cacheWrite: 3.75, output: 15 };
    assert.equal(cacheSavingUsd({ cachedTokens: 1_000_000, cacheWriteTokens: 0 }, price), 2.7);
    assert.equal(cacheSavingUsd({ cachedTokens: 0, cacheWriteTokens: 1_000_000 }, price), -0.75);
    assert.equal(cacheSavingUsd({ cachedTokens: 1_000_000, cacheWriteTokens: 1_000_000 }, undefined), 0);
  });
});
