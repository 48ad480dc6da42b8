// The text a stream carried, for a local token count when the upstream reports no usage: cut out of
// the frames as they pass, without parsing them.
import assert from 'node:assert/strict';
import { completionText, StreamedText } from '../../daemon/pipeline/usage-fallback';

const frame = (chunk: unknown) => `data: ${JSON.stringify(chunk)}\n\n`;
const delta = (d: Record<string, unknown>) => frame({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: d, finish_reason: null }] });

describe('usage fallback: the streamed text', () => {
  it('collects content, refusals, tool-call names and arguments, escapes decoded, in order', () => {
    const s = new StreamedText();
    s.add(delta({ role: 'assistant', content: '' }));
    s.add(delta({ content: 'He said "hi"\\ and \n left: é 😀' }) + delta({ content: ' then' }));
    s.add(delta({ refusal: 'no.' }));
    s.add(delta({ tool_calls: [{ index: 0, id: 't1', type: 'function', function: { name: 'get_weather', arguments: '{"city":' } }] }));
    s.add(delta({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }));
    s.add(frame({ id: 'c', choices: [], usage: null }) + 'data: [DONE]\n\n');
    assert.equal(s.text(), 'He said "hi"\\ and \n left: é 😀 thenno.get_weather{"city":"Paris"}');
  });

  it('reads spaced JSON as well as compact, and skips null content', () => {
    const s = new StreamedText();
    s.add('data: {"choices": [{"delta": {"content": "a b"}}]}\n\n');
    s.add('data: {"choices":[{"delta":{"content":null,"tool_calls":[]}}]}\n\n');
    assert.equal(s.text(), 'a b');
  });

  it('is not fooled by key-like text inside a value', () => {
    const s = new StreamedText();
    s.add(delta({ content: 'say "content":"x" please' }));
    assert.equal(s.text(), 'say "content":"x" please');
  });

  it('reads a whole completion\'s message and tool calls', () => {
    const json = JSON.stringify({ choices: [{ message: { role: 'assistant', content: 'ok', tool_calls: [{ function: { name: 'f', arguments: '{}' } }] } }] });
    assert.equal(completionText(json), 'okf{}');
    assert.equal(completionText('not json'), '');
  });
});
