// Reasoning tokens priced apart: they are part of the completion count (OpenAI semantics) and billed
// at price.reasoning when set, else at the output price.
import assert from 'node:assert/strict';
import { costUsd } from '../../daemon/spend/cost';

describe('costUsd with reasoning tokens', () => {
  const price = { input: 1, output: 4, reasoning: 10 };
  it('bills the reasoning part of the completion at the reasoning price', () => {
    // 1000 * 1 + (500 - 300) * 4 + 300 * 10 = 4800 per 1M
    assert.equal(costUsd({ promptTokens: 1000, completionTokens: 500, reasoningTokens: 300 }, price), 0.0048);
  });
  it('falls back to the output price, and never bills more reasoning than completion tokens', () => {
    assert.equal(costUsd({ promptTokens: 0, completionTokens: 500, reasoningTokens: 300 }, { input: 1, output: 4 }), 0.002);
    assert.equal(costUsd({ promptTokens: 0, completionTokens: 100, reasoningTokens: 900 }, price), 0.001);
  });
});
