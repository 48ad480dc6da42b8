import assert from 'node:assert/strict';
import { requestTexts, scrubEchoes, secretMasker, truncateMessage } from '../../daemon/core/redact';

describe('redacting upstream error text', () => {
  it('masks every secret, longest first, and the token of a "Scheme token" value; ignores short values', () => {
    const mask = secretMasker(['sk-abcdef123456', 'Bearer gw-7777777', 'abc', undefined, 'sk-abcdef123456-long']);
    assert.equal(mask('key sk-abcdef123456-long and sk-abcdef123456, Bearer gw-7777777 or gw-7777777; abc'), 'key *** and ***, *** or ***; abc');
  });

  it('replaces text echoed from the request, and only long stretches of it', () => {
    const prompt = 'Summarise the attached quarterly report for the board, please.';
    const message = `invalid request: "${prompt.slice(5, 50)}" is too long; the board wants it`;
    assert.equal(scrubEchoes(message, [prompt]), 'invalid request: "[prompt text]" is too long; the board wants it');
    assert.equal(scrubEchoes('nothing in common here at all', [prompt]), 'nothing in common here at all');
  });

  it('finds echoes anywhere in the body, however nested', () => {
    const body = { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'a secret plan to take over the world' }] }] };
    assert.deepEqual(requestTexts(body), ['a secret plan to take over the world']);
    assert.equal(scrubEchoes('echo: a secret plan to take over the world!', requestTexts(body)), 'echo: [prompt text]!');
  });

  it('cuts long messages, saying by how much', () => {
    assert.equal(truncateMessage('x'.repeat(10), 4), 'xxxx… (6 more characters cut)');
    assert.equal(truncateMessage('short'), 'short');
  });
});
