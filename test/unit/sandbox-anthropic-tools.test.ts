import assert from 'node:assert/strict';
import { chooseTool, outputSchema, schemaValue, toolInput } from '../../daemon/sandbox/anthropic-tools';
import { checkMessages, countTokensJson, messageJson } from '../../daemon/sandbox/anthropic-wire';

describe('sandbox (Anthropic): what a coding agent needs', () => {
  const bash = { name: 'Bash', input_schema: { type: 'object', properties: { command: { type: 'string' }, timeout: { type: 'number', maximum: 600 } }, required: ['command'] } };
  const read = { name: 'Read', input_schema: { type: 'object', properties: { file_path: { type: 'string' }, limit: { type: 'integer', minimum: 1 } }, required: ['file_path'] } };
  const user = (text: string) => [{ role: 'user', content: [{ type: 'text', text: '<system-reminder>Read and Bash exist</system-reminder>' }, { type: 'text', text }] }];

  it('calls the tool the user names, with `snippets` as its string inputs, never one named only in a reminder', () => {
    const body = { tools: [read, bash], messages: user('Use the Bash tool to run `ls -la`') };
    assert.equal(chooseTool(body)?.name, 'Bash');
    assert.deepEqual(toolInput(bash.input_schema, 'Use the Bash tool to run `ls -la`'), { command: 'ls -la' });
    assert.equal(chooseTool({ tools: [read, bash], messages: user('say done') }), undefined);
  });

  it('answers tool results by quoting them, instead of calling another tool', () => {
    const messages = [...user('Use Bash'), { role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'Bash', input: {} }] }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: 'a.txt\nb.txt' }] }, { role: 'system', content: 'reminder' }];
    const chat = checkMessages({ model: 'm', max_tokens: 100, tools: [bash], messages }, 24);
    assert.equal(chat.plan.reply.kind, 'text');
    assert.match(chat.plan.reply.kind === 'text' ? chat.plan.reply.pieces.join('') : '', /^\[sandbox\] The tool said: a\.txt b\.txt/);
  });

  it('makes inputs that fit nested schemas: enums, bounds, arrays, refs, anyOf', () => {
    const schema = {
      type: 'object',
      $defs: { item: { type: 'object', properties: { n: { type: 'integer', minimum: 3 } }, required: ['n'] } },
      properties: { mode: { enum: ['fast', 'slow'] }, items: { type: 'array', minItems: 2, items: { $ref: '#/$defs/item' } }, either: { anyOf: [{ type: 'boolean' }, { type: 'string' }] }, name: { type: 'string', minLength: 12 } },
      required: ['mode', 'items', 'either', 'name'],
    };
    const v = schemaValue(schema, 'hi') as Record<string, unknown>;
    assert.deepEqual(v.mode, 'fast');
    assert.deepEqual(v.items, [{ n: 3 }, { n: 3 }]);
    assert.equal(v.either, false);
    assert.ok(typeof v.name === 'string' && v.name.length >= 12);
  });

  it('leads with a thinking block when thinking is asked for, and answers JSON for output_config.format', () => {
    const thinking = JSON.parse(messageJson({ id: 'm', toolId: 't', model: 'x' }, checkMessages({ model: 'x', max_tokens: 50, thinking: { type: 'adaptive' }, messages: user('hi') }, 24))) as { content: { type: string; signature?: string }[] };
    assert.deepEqual(thinking.content.map((b) => b.type), ['thinking', 'text']);
    assert.ok(thinking.content[0].signature);
    const format = { type: 'json_schema', schema: { type: 'object', properties: { count: { type: 'integer' } }, required: ['count'] } };
    assert.deepEqual(outputSchema({ output_config: { format } }), format.schema);
    const json = checkMessages({ model: 'x', max_tokens: 50, output_config: { format }, messages: user('count') }, 24);
    assert.deepEqual(JSON.parse(json.plan.reply.kind === 'text' ? json.plan.reply.pieces.join('') : ''), { count: 1 });
  });

  it('counts tokens for count_tokens as the message would report them', () => {
    const body = { model: 'x', max_tokens: 10, messages: user('How many sheep?') };
    const counted = JSON.parse(countTokensJson(body)) as { input_tokens: number };
    assert.equal(counted.input_tokens, checkMessages(body, 24).plan.promptTokens);
  });
});
