// The inbound Anthropic endpoint's translations: Messages requests into OpenAI chat bodies (with
// errors naming the field), and OpenAI completions and chunks back into Anthropic messages and events.
import assert from 'node:assert/strict';
import { anthropicClient } from '../../daemon/formats/anthropic/client-answer';
import { parseMessagesRequest, toChatBody } from '../../daemon/formats/anthropic/client-request';
import { HttpError } from '../../daemon/core/http-error';

const translate = (req: Record<string, unknown>) => toChatBody(parseMessagesRequest({ model: 'chat', max_tokens: 100, ...req }));

describe('anthropic endpoint: requests in', () => {
  const table: { name: string; req: Record<string, unknown>; expect: Record<string, unknown> }[] = [
    {
      name: 'text',
      req: { messages: [{ role: 'user', content: 'Hello' }] },
      expect: { model: 'chat', max_tokens: 100, messages: [{ role: 'user', content: 'Hello' }] },
    },
    {
      name: 'system as a string or as text blocks',
      req: { system: [{ type: 'text', text: 'Be terse.' }, { type: 'text', text: 'No emoji.', cache_control: { type: 'ephemeral' } }], messages: [{ role: 'user', content: 'Hi' }] },
      expect: { messages: [{ role: 'system', content: 'Be terse.\n\nNo emoji.' }, { role: 'user', content: 'Hi' }] },
    },
    {
      name: 'multi-turn with content blocks; thinking blocks are left out',
      req: {
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'a' }] },
          { role: 'assistant', content: [{ type: 'thinking', thinking: 'hmm', signature: 's' }, { type: 'text', text: 'b' }] },
          { role: 'user', content: 'c' },
        ],
      },
      expect: {
        messages: [
          { role: 'user', content: 'a' },
          { role: 'assistant', content: 'b' },
          { role: 'user', content: 'c' },
        ],
      },
    },
    {
      name: 'images: base64 sources become data URLs, url sources stay URLs',
      req: {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Compare' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
              { type: 'image', source: { type: 'url', url: 'https://x.test/b.jpg' } },
            ],
          },
        ],
      },
      expect: {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Compare' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
              { type: 'image_url', image_url: { url: 'https://x.test/b.jpg' } },
            ],
          },
        ],
      },
    },
    {
      name: 'parallel tool_use blocks and their tool_result blocks; tools and tool_choice',
      req: {
        tools: [{ name: 'weather', description: 'forecast', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
        tool_choice: { type: 'any', disable_parallel_tool_use: true },
        messages: [
          { role: 'user', content: 'Weather?' },
          {
            role: 'assistant',
            content: [
              { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Oslo' } },
              { type: 'tool_use', id: 'toolu_2', name: 'weather', input: { city: 'Rome' } },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 'toolu_1', content: '3C' },
              { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: '21C' }] },
              { type: 'text', text: 'And tomorrow?' },
            ],
          },
        ],
      },
      expect: {
        tools: [{ type: 'function', function: { name: 'weather', description: 'forecast', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
        tool_choice: 'required',
        parallel_tool_calls: false,
        messages: [
          { role: 'user', content: 'Weather?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'toolu_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
              { id: 'toolu_2', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'toolu_1', content: '3C' },
          { role: 'tool', tool_call_id: 'toolu_2', content: '21C' },
          { role: 'user', content: 'And tomorrow?' },
        ],
      },
    },
    {
      name: 'stop sequences, sampling, user, and a named tool',
      req: {
        messages: [{ role: 'user', content: 'x' }],
        stop_sequences: ['END'],
        temperature: 0.2,
        top_p: 0.9,
        metadata: { user_id: 'u-7' },
        tools: [{ name: 'f', input_schema: { type: 'object' } }],
        tool_choice: { type: 'tool', name: 'f' },
      },
      expect: { stop: ['END'], temperature: 0.2, top_p: 0.9, user: 'u-7', tool_choice: { type: 'function', function: { name: 'f' } } },
    },
    {
      name: 'a stream asks for usage, so the client\'s message_delta can carry it',
      req: { messages: [{ role: 'user', content: 'x' }], stream: true },
      expect: { stream: true, stream_options: { include_usage: true } },
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      const body = translate(row.req) as Record<string, unknown>;
      for (const [key, value] of Object.entries(row.expect)) assert.deepEqual(body[key], value, key);
    });
  }

  it('rejects bad requests with a 400 that names the field', () => {
    const bad = (req: unknown, pattern: RegExp) =>
      assert.throws(
        () => parseMessagesRequest(req),
        (err: unknown) => err instanceof HttpError && err.status === 400 && pattern.test(err.message),
      );
    bad({ model: 'chat', messages: [{ role: 'user', content: 'x' }] }, /^max_tokens: required/);
    bad({ model: 'chat', max_tokens: 5, messages: [] }, /^messages: must contain at least one message/);
    bad({ model: 'chat', max_tokens: 5, messages: [{ role: 'robot', content: 'x' }] }, /^messages\[0\]\.role/);
    bad({ model: 'chat', max_tokens: 5, messages: [{ role: 'user', content: [{ type: 'search_result', source: 'x' }] }] }, /^messages\[0\]\.content\[0\].*unsupported content block type/);
    bad({ model: 'chat', max_tokens: 5, messages: [{ role: 'user', content: [{ type: 'document', source: {} }] }] }, /^messages\[0\]\.content\[0\]\.source\.type/);
    bad({ model: 'chat', max_tokens: 5, messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'web_search_20250305', name: 'web_search' }] }, /^tools\[0\]\.input_schema/);
    bad({ model: 'chat', max_tokens: 5, messages: [{ role: 'user', content: 'x' }], temperature: 1.5 }, /^temperature/);
    bad([], /JSON object/);
  });
});

/** Parses Anthropic SSE text into its events. */
function events(text: string): { event: string; data: Record<string, unknown> }[] {
  return text
    .split('\n\n')
    .filter(Boolean)
    .map((frame) => {
      const [eventLine, dataLine] = frame.split('\n');
      return { event: eventLine.slice('event: '.length), data: JSON.parse(dataLine.slice('data: '.length)) };
    });
}

const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', model: 'gpt-x', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

describe('anthropic endpoint: answers out', () => {
  it('turns a completion with text and parallel tool calls into a message with tool_use blocks', () => {
    const completion = {
      id: 'chatcmpl-9',
      object: 'chat.completion',
      model: 'gpt-x',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Checking.',
            tool_calls: [
              { id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
              { id: 'call_b', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
            ],
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 120, completion_tokens: 30, prompt_tokens_details: { cached_tokens: 100 } },
    };
    const message = JSON.parse(anthropicClient.wholeBody(JSON.stringify(completion)));
    assert.equal(message.type, 'message');
    assert.match(message.id, /^msg_/);
    assert.deepEqual(message.content, [
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: 'call_a', name: 'weather', input: { city: 'Oslo' } },
      { type: 'tool_use', id: 'call_b', name: 'weather', input: { city: 'Rome' } },
    ]);
    assert.equal(message.stop_reason, 'tool_use');
    // Anthropic counts input without cache reads.
    assert.deepEqual(message.usage, { input_tokens: 20, output_tokens: 30, cache_read_input_tokens: 100, cache_creation_input_tokens: 0 });
  });

  for (const [finish, stop] of [
    ['stop', 'end_turn'],
    ['length', 'max_tokens'],
    ['tool_calls', 'tool_use'],
    ['content_filter', 'refusal'],
  ]) {
    it(`maps finish_reason ${finish} to stop_reason ${stop}`, () => {
      const completion = { id: 'x', model: 'm', choices: [{ message: { content: 'x' }, finish_reason: finish }], usage: { prompt_tokens: 1, completion_tokens: 1 } };
      assert.equal(JSON.parse(anthropicClient.wholeBody(JSON.stringify(completion))).stop_reason, stop);
    });
  }

  it('streams text then parallel tool calls as content blocks, and closes with stop reason and usage', () => {
    const enc = anthropicClient.streamEncoder();
    let out = enc.push(chunk({ role: 'assistant', content: '' }) + chunk({ content: 'Let me ' }));
    out += enc.push(chunk({ content: 'check.' }));
    out += enc.push(chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'weather', arguments: '' } }] }));
    out += enc.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }) + chunk({ tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] }));
    out += enc.push(chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'time', arguments: '{}' } }] }));
    out += enc.push(chunk({}, 'tool_calls'));
    const usage = { id: 'chatcmpl-1', object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 40, completion_tokens: 12 } };
    out += enc.end(`data: ${JSON.stringify(usage)}\n\ndata: [DONE]\n\n`);
    const evs = events(out);
    assert.deepEqual(
      evs.map((e) => e.event),
      [
        'message_start',
        'content_block_start',
        'content_block_delta',
        'content_block_delta',
        'content_block_stop',
        'content_block_start',
        'content_block_delta',
        'content_block_delta',
        'content_block_stop',
        'content_block_start',
        'content_block_delta',
        'content_block_stop',
        'message_delta',
        'message_stop',
      ],
    );
    assert.ok(evs.every((e) => e.data.type === e.event), 'each data object names its own type');
    assert.deepEqual(evs[5].data, { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'call_a', name: 'weather', input: {} } });
    assert.deepEqual(evs[7].data.delta, { type: 'input_json_delta', partial_json: '"Oslo"}' });
    assert.equal((evs[9].data.content_block as { name: string }).name, 'time');
    assert.equal(evs[10].data.index, 2);
    assert.deepEqual(evs[12].data, {
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: { input_tokens: 40, output_tokens: 12, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
    });
  });

  it('still sends a whole, valid event sequence for a stream that carried no content', () => {
    const evs = events(anthropicClient.streamEncoder().end('data: [DONE]\n\n'));
    assert.deepEqual(
      evs.map((e) => e.event),
      ['message_start', 'message_delta', 'message_stop'],
    );
  });

  it('closes a broken stream with an Anthropic error event', () => {
    const enc = anthropicClient.streamEncoder();
    enc.push(chunk({ content: 'Hi' }));
    const [ev] = events(enc.error('stream interrupted: upstream connection was reset', 'upstream_error', null));
    assert.equal(ev.event, 'error');
    assert.deepEqual(ev.data, { type: 'error', error: { type: 'api_error', message: 'stream interrupted: upstream connection was reset' } });
  });

  it('answers errors in Anthropic\'s shape with Anthropic\'s type names', () => {
    const body = (err: HttpError) => JSON.parse(anthropicClient.errorBody(err));
    assert.deepEqual(body(new HttpError(400, 'max_tokens: required')), { type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: required' } });
    assert.equal(body(new HttpError(404, 'unknown model', 'invalid_request_error', 'model_not_found')).error.type, 'not_found_error');
    assert.equal(body(new HttpError(429, 'slow')).error.type, 'rate_limit_error');
    assert.equal(body(new HttpError(503, 'Overloaded', 'api_error', 'overloaded_error')).error.type, 'overloaded_error');
    assert.equal(body(new HttpError(503, 'all failed', 'api_error', 'all_deployments_failed')).error.type, 'api_error');
  });
});
