// Structured answers that do not hold: a JSON-mode answer that is not JSON, a json_schema answer that
// does not match the schema asked for, and tool calls that name a tool not offered or whose arguments
// do not match its parameter schema. The validator (ajv) is injected.
import type { CheckedAnswer, CheckFailure, CheckTools } from './answer';

export function checkJson(answer: CheckedAnswer, responseFormat: unknown, tools: Pick<CheckTools, 'validate'>): CheckFailure | undefined {
  if (!isObject(responseFormat)) return undefined;
  const type = responseFormat.type;
  if (type !== 'json_object' && type !== 'json_schema') return undefined;
  if (answer.toolCalls.length > 0 && answer.content.trim() === '') return undefined; // a tool round first
  let value: unknown;
  try {
    value = JSON.parse(answer.content);
  } catch {
    return { check: 'json', detail: `response_format ${type} asked for JSON; the answer is not valid JSON` };
  }
  if (type !== 'json_schema') return undefined;
  const spec = responseFormat.json_schema;
  const schema = isObject(spec) ? spec.schema : undefined;
  if (!isObject(schema)) return undefined;
  const problem = tools.validate(schema, value);
  return problem ? { check: 'json', detail: `the answer does not match the json_schema asked for: ${problem}` } : undefined;
}

export function checkToolArgs(answer: CheckedAnswer, offered: unknown, tools: Pick<CheckTools, 'validate'>): CheckFailure | undefined {
  if (answer.toolCalls.length === 0 || !Array.isArray(offered)) return undefined;
  const schemas = new Map<string, unknown>();
  for (const t of offered) {
    const fn = isObject(t) && isObject(t.function) ? t.function : undefined;
    if (fn && typeof fn.name === 'string') schemas.set(fn.name, fn.parameters);
  }
  if (schemas.size === 0) return undefined; // only non-function tools (custom, built-in): nothing to hold them to
  for (const call of answer.toolCalls) {
    if (!schemas.has(call.name)) return { check: 'toolArgs', detail: `calls tool "${call.name}", which was not offered` };
    let args: unknown;
    try {
      args = call.arguments.trim() === '' ? {} : JSON.parse(call.arguments);
    } catch {
      return { check: 'toolArgs', detail: `the arguments of tool "${call.name}" are not valid JSON` };
    }
    const schema = schemas.get(call.name);
    if (!isObject(schema)) continue;
    const problem = tools.validate(schema, args);
    if (problem) return { check: 'toolArgs', detail: `the arguments of tool "${call.name}" do not match its parameters: ${problem}` };
  }
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
