// Token counts when the upstream reported none: a real tokenizer (o200k) with the OpenAI chat framing,
// and the cheap pre-request guess hard budgets use.
import assert from 'node:assert/strict';
import { encodeChat, countTokens } from 'gpt-tokenizer/cjs/encoding/o200k_base';
import { estimateUsage, preRequestEstimateUsd } from '../../daemon/spend/estimate';
import { costUsd } from '../../daemon/spend/cost';

describe('estimateUsage', () => {
  it('counts the prompt as the chat template does and the output text with the same encoding', () => {
    const messages = [
      { role: 'system' as const, content: 'You are terse.' },
      { role: 'user' as const, content: 'Explain TCP slow start in one sentence, please.' },
    ];
    const usage = estimateUsage({ model: 'gpt-4.1', messages }, 'It grows the window exponentially until loss.');
    assert.equal(usage.promptTokens, encodeChat(messages, 'gpt-4o').length);
    assert.equal(usage.completionTokens, countTokens('It grows the window exponentially until loss.'));
    assert.ok(usage.promptTokens > 20 && usage.promptTokens < 40, String(usage.promptTokens));
  });

  it('counts text parts of content arrays, names and tools; special-token text is plain text', () => {
    const plain = estimateUsage({ model: 'm', messages: [{ role: 'user', content: 'hello there' }] }, '');
    const parts = estimateUsage({ model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'hello there' }, { type: 'image_url', image_url: { url: 'data:...' } }] }] }, '');
    assert.equal(parts.promptTokens, plain.promptTokens);
    assert.equal(plain.completionTokens, 0);
    const named = estimateUsage({ model: 'm', messages: [{ role: 'user', name: 'ann', content: 'hello there' }] }, '');
    assert.equal(named.promptTokens, plain.promptTokens + 1 + countTokens('ann'));
    const tools = estimateUsage({ model: 'm', messages: [{ role: 'user', content: 'hello there' }], tools: [{ type: 'function', function: { name: 'f' } }] }, '');
    assert.ok(tools.promptTokens > plain.promptTokens);
    assert.doesNotThrow(() => estimateUsage({ model: 'm', messages: [{ role: 'user', content: '<|endoftext|>' }] }, '<|im_end|>'));
  });

  it('gives usage that prices like upstream usage', () => {
    const usage = estimateUsage({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }, 'hello');
    assert.equal(costUsd(usage, { input: 1_000_000, output: 2_000_000 }), usage.promptTokens + 2 * usage.completionTokens);
  });
});

describe('preRequestEstimateUsd', () => {
  it('prices ~4 characters per token at the dearest input price plus max tokens at the dearest output price', () => {
    const body = { model: 'm', messages: [{ role: 'user', content: 'x'.repeat(380) }], max_tokens: 1000 };
    const chars = JSON.stringify(body.messages).length; // 400
    const usd = preRequestEstimateUsd(body, [{ input: 1, output: 4 }, { input: 2, output: 8 }, undefined]);
    assert.equal(usd, (Math.ceil(chars / 4) * 2 + 1000 * 8) / 1e6);
    assert.equal(preRequestEstimateUsd(body, [undefined]), 0, 'unpriced deployments cost nothing');
    assert.equal(preRequestEstimateUsd({ ...body, max_tokens: undefined, max_completion_tokens: 10 }, [{ input: 0, output: 1 }]), 10 / 1e6);
  });
});
