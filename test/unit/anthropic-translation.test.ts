// Faithful translation between Anthropic and OpenAI bodies (issue 17, item 3): thinking and
// reasoning_effort both ways, output_config.format to response_format, is_error kept in the text,
// PDF documents as OpenAI file parts (other document sources refused naming the field).
import assert from 'node:assert/strict';
import { parseMessagesRequest, reasoningEffort, toChatBody } from '../../daemon/formats/anthropic/client-request';
import { thinkingFor, toAnthropicRequest } from '../../daemon/formats/anthropic/upstream-request';
import { JSON_MODE_INSTRUCTION } from '../../daemon/formats/anthropic/output-format';
import { HttpError } from '../../daemon/core/http-error';
import { anthropic } from '../../daemon/formats/anthropic/adapter';

const base = { model: 'm', max_tokens: 32_000, messages: [{ role: 'user', content: 'hi' }] };
const chat = (extra: Record<string, unknown>) => toChatBody(parseMessagesRequest({ ...base, ...extra }));

describe('anthropic -> openai: thinking, output format, tool errors, documents', () => {
  it('maps thinking budgets and output_config.effort to reasoning_effort', () => {
    assert.equal(chat({ thinking: { type: 'enabled', budget_tokens: 1024 } }).reasoning_effort, 'low');
    assert.equal(chat({ thinking: { type: 'enabled', budget_tokens: 8000 } }).reasoning_effort, 'medium');
    assert.equal(chat({ thinking: { type: 'enabled', budget_tokens: 20_000 } }).reasoning_effort, 'high');
    assert.equal(chat({ thinking: { type: 'adaptive' } }).reasoning_effort, 'medium');
    assert.equal(chat({ thinking: { type: 'adaptive' }, output_config: { effort: 'low' } }).reasoning_effort, 'low');
    assert.equal(reasoningEffort({ output_config: { effort: 'max' } }), 'high');
    assert.equal(chat({ thinking: { type: 'disabled' } }).reasoning_effort, undefined);
    assert.equal(chat({}).reasoning_effort, undefined);
  });

  it('maps output_config.format json_schema to response_format', () => {
    const schema = { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] };
    assert.deepEqual(chat({ output_config: { format: { type: 'json_schema', schema } } }).response_format, {
      type: 'json_schema',
      json_schema: { name: 'output', schema, strict: true },
    });
  });

  it('keeps is_error as an "Error: " prefix in the tool message', () => {
    const body = chat({
      messages: [
        { role: 'user', content: 'go' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'run', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'command not found', is_error: true }] },
      ],
    });
    assert.deepEqual(body.messages.at(-1), { role: 'tool', tool_call_id: 't1', content: 'Error: command not found' });
  });

  it('carries a base64 PDF as an OpenAI file part, and refuses other document sources naming the field', () => {
    const pdf = { type: 'document', title: 'spec.pdf', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' } };
    const body = chat({ messages: [{ role: 'user', content: [pdf, { type: 'text', text: 'summarise' }] }] });
    assert.deepEqual((body.messages[0] as { content: unknown[] }).content[0], {
      type: 'file',
      file: { filename: 'spec.pdf', file_data: 'data:application/pdf;base64,JVBERi0=' },
    });
    const url = { type: 'document', source: { type: 'url', url: 'https://example.com/a.pdf' } };
    assert.throws(
      () => chat({ messages: [{ role: 'user', content: [url] }] }),
      (e: unknown) => e instanceof HttpError && e.status === 400 && e.param === 'messages[0].content[0].source' && /base64 PDF/.test(e.message),
    );
  });
});

describe('openai -> anthropic: reasoning_effort as extended thinking', () => {
  it('sets a thinking budget by effort, below max_tokens, and drops temperature and top_p', () => {
    const out = toAnthropicRequest({ model: 'x', messages: [{ role: 'user', content: 'hi' }], reasoning_effort: 'high', max_tokens: 64_000, temperature: 0.2, top_p: 0.5 }, 'm', 4096);
    assert.deepEqual(out.thinking, { type: 'enabled', budget_tokens: 24_576 });
    assert.equal(out.temperature, undefined);
    assert.equal(out.top_p, undefined);
    assert.deepEqual(thinkingFor('medium', 4096), { type: 'enabled', budget_tokens: 4095 });
    assert.equal(thinkingFor('low', 1000), undefined, 'no room to think under max_tokens');
    assert.equal(thinkingFor('none', 64_000), undefined);
    const unset = toAnthropicRequest({ model: 'x', messages: [{ role: 'user', content: 'hi' }], reasoning_effort: 'low' }, 'm', 4096);
    assert.deepEqual([unset.thinking, unset.max_tokens], [{ type: 'enabled', budget_tokens: 2048 }, 2048 + 4096], 'room to answer after thinking');
    const plain = toAnthropicRequest({ model: 'x', messages: [{ role: 'user', content: 'hi' }], temperature: 0.2 }, 'm', 4096);
    assert.equal(plain.thinking, undefined);
    assert.equal(plain.temperature, 0.2);
  });
});

describe('openai -> anthropic: response_format as structured output', () => {
  const ask = (response_format: unknown, extra: Record<string, unknown> = {}) =>
    toAnthropicRequest({ model: 'x', messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'hi' }], response_format, ...extra }, 'm', 4096, { autoCacheBreakpoints: true });
  const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };

  it('sends a json_schema as output_config.format, so the answer is held to the schema', () => {
    const out = ask({ type: 'json_schema', json_schema: { name: 'place', schema, strict: true } });
    assert.deepEqual(out.output_config, { format: { type: 'json_schema', schema } });
    assert.deepEqual(out.system, [{ type: 'text', text: 'Be terse.', cache_control: { type: 'ephemeral' } }], 'no instruction added');
  });

  it('asks for one JSON object in the system prompt for json_object (Anthropic has no schema-less JSON mode)', () => {
    const out = ask({ type: 'json_object' });
    assert.equal(out.output_config, undefined);
    // The client's prompt keeps the cache breakpoint; the instruction follows it.
    assert.deepEqual(out.system, [
      { type: 'text', text: 'Be terse.', cache_control: { type: 'ephemeral' } },
      { type: 'text', text: JSON_MODE_INSTRUCTION },
    ]);
    const bare = toAnthropicRequest({ model: 'x', messages: [{ role: 'user', content: 'hi' }], response_format: { type: 'json_object' } }, 'm', 4096);
    assert.deepEqual(bare.system, [{ type: 'text', text: JSON_MODE_INSTRUCTION }]);
  });

  it('adds nothing for text or no response_format', () => {
    for (const rf of [undefined, { type: 'text' }]) {
      const out = ask(rf);
      assert.equal(out.output_config, undefined);
      assert.equal((out.system as unknown[]).length, 1);
    }
  });

  it('round-trips an Anthropic client\'s output_config.format through an OpenAI body', () => {
    const out = toAnthropicRequest(chat({ output_config: { format: { type: 'json_schema', schema } } }), 'm', 4096);
    assert.deepEqual(out.output_config, { format: { type: 'json_schema', schema } });
  });
});

describe('anthropic answers: thinking text as reasoning_content', () => {
  it('streams thinking_delta as reasoning_content deltas, the text as content', () => {
    const t = anthropic.streamTranslator({ clientWantsUsage: false });
    const events = [
      { type: 'message_start', message: { id: 'msg', model: 'm', usage: { input_tokens: 1, output_tokens: 0 } } },
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Let me think.' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: '42' } },
      { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 5 } },
      { type: 'message_stop' },
    ];
    const frames = events.flatMap((e) => t.push({ event: e.type, data: JSON.stringify(e) }));
    const deltas = frames.filter((f) => f.startsWith('data: {')).map((f) => JSON.parse(f.slice(6)).choices?.[0]?.delta ?? {});
    assert.equal(deltas.map((d) => d.reasoning_content ?? '').join(''), 'Let me think.');
    assert.equal(deltas.map((d) => d.content ?? '').join(''), '42');
  });
});
