// The sandbox's JSON Schema instances: tool arguments and JSON answers an agent can use.
import assert from 'node:assert/strict';
import { schemaInstance, toolArguments } from '../../daemon/sandbox/schema-instance';
import { planReply } from '../../daemon/sandbox/text';

const hints = { text: 'list the files' };

describe('sandbox: JSON Schema instances', () => {
  it('fills required properties with the right types, enums, consts, nested objects and arrays', () => {
    const schema = {
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 20 },
        count: { type: 'integer', minimum: 3 },
        ratio: { type: 'number', maximum: 0.5 },
        ok: { type: 'boolean' },
        mode: { enum: ['fast', 'slow'] },
        kind: { const: 'k' },
        when: { type: 'string', format: 'date-time' },
        tags: { type: 'array', items: { type: 'string' }, minItems: 2 },
        nested: { type: 'object', properties: { inner: { type: ['integer', 'null'] } }, required: ['inner'] },
        optional: { type: 'string' },
      },
      required: ['name', 'count', 'ratio', 'ok', 'mode', 'kind', 'when', 'tags', 'nested'],
    };
    assert.deepEqual(schemaInstance(schema, hints), {
      name: 'list the filesxxxxxx',
      count: 3,
      ratio: 0.5,
      ok: false,
      mode: 'fast',
      kind: 'k',
      when: '2026-01-01T00:00:00Z',
      tags: ['list the files', 'list the files'],
      nested: { inner: 1 },
    });
  });

  it('follows $ref, anyOf and allOf', () => {
    const schema = {
      $defs: { Step: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] } },
      type: 'object',
      properties: {
        steps: { type: 'array', items: { $ref: '#/$defs/Step' } },
        maybe: { anyOf: [{ type: 'null' }, { type: 'string' }] },
        both: { allOf: [{ type: 'object', properties: { a: { type: 'string' } }, required: ['a'] }, { properties: { b: { type: 'boolean' } }, required: ['b'] }] },
      },
      required: ['steps', 'maybe', 'both'],
    };
    assert.deepEqual(schemaInstance(schema, hints), { steps: [{ n: 1 }], maybe: 'list the files', both: { a: 'list the files', b: false } });
  });

  it('gives a shell tool a harmless command in the shape its schema asks for', () => {
    assert.deepEqual(toolArguments({ type: 'object', properties: { command: { type: 'array', items: { type: 'string' } }, workdir: { type: 'string' } }, required: ['command'] }, hints), { command: ['bash', '-lc', 'ls'] });
    assert.deepEqual(toolArguments({ type: 'object', properties: { cmd: { type: 'string' } }, required: ['cmd'] }, hints), { cmd: 'ls' });
    // A tool that declares no property gets the sandbox's long-standing {"query"}.
    assert.deepEqual(toolArguments({ type: 'object' }, hints), { query: 'list the files' });
    assert.deepEqual(toolArguments(undefined, hints), { query: 'list the files' });
  });

  it('plans JSON answers for response_format, and ends the agent loop after a tool result', () => {
    const messages = [{ role: 'user', content: 'give me json' }];
    const object = planReply({ messages, responseFormat: { type: 'json_object' } }, 10).reply;
    assert.equal(object.kind, 'text');
    if (object.kind === 'text') assert.deepEqual(JSON.parse(object.pieces.join('')), { answer: '[sandbox] give me json' });
    const schema = { type: 'object', properties: { score: { type: 'number' } }, required: ['score'] };
    const typed = planReply({ messages, responseFormat: { type: 'json_schema', json_schema: { name: 's', schema } } }, 10).reply;
    if (typed.kind === 'text') assert.deepEqual(JSON.parse(typed.pieces.join('')), { score: 1 });
    else assert.fail('a JSON text');
    const tools = [{ type: 'function', function: { name: 'update_plan', parameters: { type: 'object', properties: { plan: { type: 'string' } } } } }, { type: 'function', function: { name: 'shell', parameters: { type: 'object', properties: { command: { type: 'string' } } } } }];
    const call = planReply({ messages, tools }, 10).reply;
    assert.deepEqual(call.kind === 'tool_call' ? [call.name, JSON.parse(call.arguments)] : [], ['shell', { command: 'ls' }], 'a shell-like tool first');
    // A tool result after the user's message, even with a note after it: text, not another call.
    const after = planReply({ messages: [...messages, { role: 'assistant', tool_calls: [] }, { role: 'tool', content: 'a.txt b.txt' }, { role: 'system', content: 'note' }], tools, toolChoice: 'required' }, 10).reply;
    assert.deepEqual(after, { kind: 'text', pieces: ['[sandbox]', ' Done.', ' The', ' tool', ' said:', ' a.txt', ' b.txt'], finishReason: 'stop' });
    // A new user message starts a new round: tools again.
    assert.equal(planReply({ messages: [...messages, { role: 'tool', content: 'x' }, { role: 'user', content: 'again' }], tools }, 10).reply.kind, 'tool_call');
  });
});
