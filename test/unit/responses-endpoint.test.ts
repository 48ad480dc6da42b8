// The /v1/responses translation on its own: Responses requests to chat bodies (items, tools, formats,
// refusals), chat completions to Response objects, and chat chunks to Responses events.
import assert from 'node:assert/strict';
import { HttpError } from '../../daemon/core/http-error';
import { responses, responsesClient, type ResponseContext } from '../../daemon/formats/openai/responses-answer';
import { parseResponsesRequest, toChatBody } from '../../daemon/formats/openai/responses-request';

function translate(body: Record<string, unknown>) {
  return toChatBody(parseResponsesRequest({ model: 'm', ...body }));
}

function refused(body: Record<string, unknown>, code: string, param: string): void {
  assert.throws(
    () => translate(body),
    (err: unknown) => err instanceof HttpError && err.status === 400 && err.code === code && err.param === param,
  );
}

describe('responses endpoint: requests to chat bodies', () => {
  it('maps messages, parts, calls, outputs and reasoning items to chat messages in order', () => {
    const { body } = translate({
      instructions: 'sys',
      input: [
        { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'dev ' }, { type: 'input_text', text: 'notes' }] },
        { role: 'user', content: [{ type: 'input_text', text: 'look' }, { type: 'input_image', image_url: 'data:image/png;base64,AA', detail: 'low' }] },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Let me check.' }] },
        { type: 'function_call', call_id: 'c1', name: 'shell', arguments: '{"command":["ls"]}' },
        { type: 'function_call', call_id: 'c2', name: 'shell', arguments: '{"command":["pwd"]}' },
        { type: 'reasoning', id: 'rs', summary: [] },
        { type: 'function_call_output', call_id: 'c1', output: 'a b' },
        { type: 'function_call_output', call_id: 'c2', output: [{ type: 'input_text', text: '/w' }] },
        { type: 'web_search_call', id: 'ws', status: 'completed' },
      ],
    });
    assert.deepEqual(body.messages, [
      { role: 'system', content: 'sys' },
      { role: 'system', content: 'dev notes' },
      { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AA', detail: 'low' } }] },
      {
        role: 'assistant',
        content: 'Let me check.',
        tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'shell', arguments: '{"command":["ls"]}' } },
          { id: 'c2', type: 'function', function: { name: 'shell', arguments: '{"command":["pwd"]}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', content: 'a b' },
      { role: 'tool', tool_call_id: 'c2', content: '/w' },
    ]);
  });

  it('keeps function tools, leaves out the rest and says which, and maps tool_choice and the options', () => {
    const { body, droppedTools } = translate({
      input: 'hi',
      tools: [
        { type: 'function', name: 'f', parameters: { type: 'object', properties: {} }, strict: true },
        { type: 'web_search_preview' },
        { type: 'custom', name: 'apply_patch' },
        { type: 'namespace', name: 'mcp' },
      ],
      tool_choice: { type: 'function', name: 'f' },
      parallel_tool_calls: true,
      max_output_tokens: 10,
      temperature: 0.2,
      top_p: 0.9,
      reasoning: { effort: 'high', summary: 'auto' },
      text: { format: { type: 'json_schema', name: 'out', schema: { type: 'object' }, strict: true } },
      stream: true,
      store: false,
      include: ['reasoning.encrypted_content'],
      metadata: { a: 'b' },
      user: 'u1',
    });
    assert.deepEqual(droppedTools, ['web_search_preview', 'custom:apply_patch', 'namespace:mcp']);
    assert.deepEqual(body, {
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} }, strict: true } }],
      tool_choice: { type: 'function', function: { name: 'f' } },
      parallel_tool_calls: true,
      max_completion_tokens: 10,
      temperature: 0.2,
      top_p: 0.9,
      reasoning_effort: 'high',
      response_format: { type: 'json_schema', json_schema: { name: 'out', schema: { type: 'object' }, strict: true } },
      user: 'u1',
      stream: true,
      stream_options: { include_usage: true },
    });
    // A choice naming a tool that was left out does not fail the request.
    assert.equal(translate({ input: 'hi', tools: [{ type: 'function', name: 'f' }, { type: 'web_search' }], tool_choice: { type: 'web_search' } }).body.tool_choice, 'auto');
    // With every tool left out, the request goes on without tools.
    assert.equal(translate({ input: 'hi', tools: [{ type: 'web_search' }], tool_choice: 'required' }).body.tools, undefined);
  });

  it('refuses what needs stored state, and bad fields, naming them', () => {
    refused({ input: 'x', previous_response_id: 'resp_1' }, 'previous_response_not_supported', 'previous_response_id');
    refused({ input: [{ type: 'item_reference', id: 'msg_1' }] }, 'previous_response_not_supported', 'input[0]');
    refused({ input: 'x', conversation: 'conv_1' }, 'conversation_not_supported', 'conversation');
    refused({ input: 'x', background: true }, 'background_not_supported', 'background');
    refused({ input: 7 }, 'invalid_value', 'input');
    refused({ input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file_1' }] }] }, 'invalid_value', 'input[0].content[0].image_url');
    refused({ input: [{ type: 'function_call_output', output: 'x' }] }, 'invalid_value', 'input[0].call_id');
    refused({ input: 'x', tools: [{ type: 'function' }] }, 'invalid_value', 'tools[0].name');
    refused({ input: 'x', text: { format: { type: 'json_schema', name: 'n' } } }, 'invalid_value', 'text.format.schema');
  });
});

describe('responses endpoint: answers', () => {
  const ctx: ResponseContext = { id: 'resp_abc', createdAt: 1, request: parseResponsesRequest({ model: 'group', input: 'x', instructions: 'i' }), tools: [] };

  it('turns a chat completion into a Response with text, tool calls and usage details', () => {
    const completion = {
      id: 'chatcmpl-1',
      model: 'served',
      choices: [{ index: 0, finish_reason: 'tool_calls', message: { role: 'assistant', content: 'ok', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] } }],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, prompt_tokens_details: { cached_tokens: 4 }, completion_tokens_details: { reasoning_tokens: 2 } },
    };
    const r = JSON.parse(responsesClient(ctx).wholeBody(JSON.stringify(completion))) as Record<string, unknown>;
    assert.equal(r.id, 'resp_abc');
    assert.equal(r.status, 'completed');
    assert.equal(r.model, 'served');
    assert.equal(r.instructions, 'i');
    assert.deepEqual(r.output, [
      { id: 'msg_abc_0', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', annotations: [], logprobs: [], text: 'ok' }] },
      { id: 'fc_abc_1', type: 'function_call', status: 'completed', arguments: '{}', call_id: 'call_1', name: 'f' },
    ]);
    assert.deepEqual(r.usage, { input_tokens: 10, input_tokens_details: { cached_tokens: 4 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 2 }, total_tokens: 15 });
  });

  it('streams text then two tool calls as separate items, each closed before the next starts', () => {
    const enc = responsesClient(ctx).streamEncoder();
    const frame = (delta: unknown, finish: string | null = null) => `data: ${JSON.stringify({ id: 'c', model: 'served', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    let out = enc.push(frame({ role: 'assistant', content: 'Hi' }));
    out += enc.push(frame({ tool_calls: [{ index: 0, id: 'call_a', function: { name: 'f', arguments: '{"a"' } }] }));
    out += enc.push(frame({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }));
    out += enc.push(frame({ tool_calls: [{ index: 1, id: 'call_b', function: { name: 'g', arguments: '{}' } }] }));
    out += enc.end(frame({}, 'tool_calls') + `data: ${JSON.stringify({ id: 'c', choices: [], usage: { prompt_tokens: 3, completion_tokens: 4 } })}\n\ndata: [DONE]\n\n`);
    const events = out
      .split('\n\n')
      .filter(Boolean)
      .map((f) => JSON.parse(f.split('\n')[1].slice(6)) as { type: string; sequence_number: number; output_index?: number; arguments?: string; response?: { output: unknown[]; usage: { total_tokens: number } } });
    assert.deepEqual(events.map((e) => `${e.type}${e.output_index === undefined ? '' : `@${e.output_index}`}`), [
      'response.created',
      'response.in_progress',
      'response.output_item.added@0',
      'response.content_part.added@0',
      'response.output_text.delta@0',
      'response.output_text.done@0',
      'response.content_part.done@0',
      'response.output_item.done@0',
      'response.output_item.added@1',
      'response.function_call_arguments.delta@1',
      'response.function_call_arguments.delta@1',
      'response.function_call_arguments.done@1',
      'response.output_item.done@1',
      'response.output_item.added@2',
      'response.function_call_arguments.delta@2',
      'response.function_call_arguments.done@2',
      'response.output_item.done@2',
      'response.completed',
    ]);
    assert.deepEqual(events.map((e) => e.sequence_number), events.map((_, i) => i));
    assert.equal(events[11].arguments, '{"a":1}');
    const final = events.at(-1)?.response;
    assert.equal(final?.output.length, 3);
    assert.equal(final?.usage.total_tokens, 7);
  });

  it('answers errors in the OpenAI shape, and the dropped tools in a header', () => {
    assert.deepEqual(JSON.parse(responses.client.errorBody(new HttpError(400, 'bad', 'invalid_request_error', 'c', 'p'))), { error: { message: 'bad', type: 'invalid_request_error', code: 'c', param: 'p' } });
    const accepted = responses.accept?.({ model: 'm', input: 'x', tools: [{ type: 'web_search' }, { type: 'file_search' }] });
    assert.deepEqual(accepted?.headers, { 'x-shepherd-dropped-tools': 'web_search, file_search' });
  });
});
