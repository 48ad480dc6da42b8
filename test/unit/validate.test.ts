// The chat request check: a plain fast check settles well-formed bodies, and zod (the source of truth)
// judges the rest. The fast check must never accept what the schema refuses.
import assert from 'node:assert/strict';
import { HttpError } from '../../daemon/core/http-error';
import { ChatRequestSchema, obviouslyValid, parseChatRequest } from '../../daemon/formats/openai/client-request';

const base = { model: 'chat', messages: [{ role: 'user', content: 'hi' }] };
const cases: [string, Record<string, unknown>][] = [
  ['minimal', base],
  ['streaming with usage', { ...base, stream: true, stream_options: { include_usage: true } }],
  ['nulls where null is allowed', { ...base, stream: null, stream_options: null, max_tokens: null, max_completion_tokens: null }],
  ['token limits', { ...base, max_tokens: 64, max_completion_tokens: 1 }],
  ['extra fields pass through', { ...base, temperature: 0.2, tools: [{ type: 'function' }], user: 'me' }],
  ['empty model', { ...base, model: '' }],
  ['model not a string', { ...base, model: 7 }],
  ['no model', { messages: base.messages }],
  ['no messages', { model: 'chat' }],
  ['empty messages', { ...base, messages: [] }],
  ['messages not an array', { ...base, messages: { role: 'user' } }],
  ['a message that is an array', { ...base, messages: [['user']] }],
  ['a message that is null', { ...base, messages: [null] }],
  ['a message without a role', { ...base, messages: [{ content: 'hi' }] }],
  ['an empty role', { ...base, messages: [{ role: '' }] }],
  ['a numeric role', { ...base, messages: [{ role: 1 }] }],
  ['stream as a string', { ...base, stream: 'true' }],
  ['stream_options as an array', { ...base, stream_options: [] }],
  ['include_usage as a string', { ...base, stream_options: { include_usage: 'yes' } }],
  ['max_tokens zero', { ...base, max_tokens: 0 }],
  ['max_tokens negative', { ...base, max_tokens: -5 }],
  ['max_tokens fractional', { ...base, max_tokens: 1.5 }],
  ['max_tokens huge', { ...base, max_tokens: 2 ** 60 }],
  ['max_tokens a string', { ...base, max_completion_tokens: '64' }],
];

/** The schema's own verdict (parseChatRequest itself asks obviouslyValid first). */
function schemaAccepts(body: Record<string, unknown>): boolean {
  return ChatRequestSchema.safeParse(structuredClone(body)).success;
}

describe('chat request validation', () => {
  for (const [name, body] of cases) {
    it(`${name}: the fast check accepts only what the schema accepts`, () => {
      const fast = obviouslyValid(body);
      if (fast) assert.equal(schemaAccepts(body), true);
      // The fast path is not allowed to be lazy about the common case either.
      if (['minimal', 'streaming with usage', 'token limits', 'extra fields pass through'].includes(name)) assert.equal(fast, true);
    });
  }

  it('parseChatRequest refuses exactly what the schema refuses', () => {
    for (const [name, body] of cases) {
      let accepted = true;
      try {
        parseChatRequest(structuredClone(body));
      } catch (err) {
        assert.ok(err instanceof HttpError, String(err));
        accepted = false;
      }
      assert.equal(accepted, schemaAccepts(body), name);
    }
  });

  it('a refused body still names the field', () => {
    assert.throws(
      () => parseChatRequest({ ...base, messages: [{ role: 'user' }, { content: 'no role' }] }),
      (err: unknown) => err instanceof HttpError && err.param === 'messages[1].role',
    );
    assert.throws(() => parseChatRequest({ ...base, max_tokens: 0 }), (err: unknown) => err instanceof HttpError && err.param === 'max_tokens');
  });

  it('hands on the client\'s own object untouched', () => {
    const body = { ...base, temperature: 0.5 };
    assert.equal(parseChatRequest(body), body);
  });
});
