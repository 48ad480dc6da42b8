// OpenAI chat-completions request -> Gemini generateContent request: turns become `contents` with
// roles user/model, system messages become systemInstruction, tool calls and results become
// functionCall / functionResponse parts (Gemini matches results by function name, not by id).
import { isRecord } from '../../../shared/is-record';
import { untranslatable } from '../http-status';
import type { ChatBody } from '../../core/chat';
import { UpstreamError } from '../../core/failure';
import { thinkingConfigFor } from './thinking';

type Part = Record<string, unknown>;
interface Content {
  role: 'user' | 'model';
  parts: Part[];
}

function reject(message: string): never {
  throw new UpstreamError(untranslatable(`the Gemini adapter cannot translate ${message}`));
}

/** `model` (the upstream's) decides the form of thinkingConfig; without it, a token budget. */
export function toGeminiRequest(body: ChatBody, model = ''): Record<string, unknown> {
  const system: Part[] = [];
  const contents: Content[] = [];
  const callNames = new Map<string, string>(); // tool_call_id -> function name, for the results
  const push = (role: Content['role'], parts: Part[]) => {
    if (parts.length === 0) return;
    const last = contents.at(-1);
    // Turns alternate; the results of parallel calls go back together in one turn.
    if (last && last.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };
  body.messages.forEach((m, i) => {
    if (!isRecord(m)) return reject(`messages[${i}]: not an object`);
    const where = `messages[${i}]`;
    switch (m.role) {
      case 'system':
      case 'developer':
        system.push(...textParts(m.content, `${where}.content`));
        return;
      case 'user':
        return push('user', userParts(m.content, `${where}.content`));
      case 'assistant':
        return push('model', modelParts(m, where, callNames));
      case 'tool':
        return push('user', [functionResponse(m, where, callNames)]);
      default:
        return reject(`${where}.role "${String(m.role)}"`);
    }
  });

  const out: Record<string, unknown> = { contents };
  if (system.length > 0) out.systemInstruction = { parts: system };
  const config = generationConfig(body);
  const thinking = thinkingConfigFor(body.reasoning_effort, model);
  if (thinking) config.thinkingConfig = thinking;
  if (Object.keys(config).length > 0) out.generationConfig = config;
  const declarations = Array.isArray(body.tools) ? body.tools.map(toDeclaration) : [];
  if (declarations.length > 0) {
    out.tools = [{ functionDeclarations: declarations }];
    const mode = toolConfig(body.tool_choice);
    if (mode) out.toolConfig = { functionCallingConfig: mode };
  }
  return out;
}

function generationConfig(body: ChatBody): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  const max = body.max_completion_tokens ?? body.max_tokens;
  if (typeof max === 'number' && max > 0) config.maxOutputTokens = max;
  if (typeof body.temperature === 'number') config.temperature = body.temperature;
  if (typeof body.top_p === 'number') config.topP = body.top_p;
  const stop = typeof body.stop === 'string' ? [body.stop] : Array.isArray(body.stop) ? body.stop.filter((s) => typeof s === 'string') : [];
  if (stop.length > 0) config.stopSequences = stop;
  if (typeof body.n === 'number' && body.n > 1) config.candidateCount = body.n;
  if (typeof body.seed === 'number') config.seed = body.seed;
  if (typeof body.presence_penalty === 'number') config.presencePenalty = body.presence_penalty;
  if (typeof body.frequency_penalty === 'number') config.frequencyPenalty = body.frequency_penalty;
  const format = isRecord(body.response_format) ? body.response_format : undefined;
  if (format?.type === 'json_object') config.responseMimeType = 'application/json';
  if (format?.type === 'json_schema' && isRecord(format.json_schema) && isRecord(format.json_schema.schema)) {
    config.responseMimeType = 'application/json';
    config.responseJsonSchema = format.json_schema.schema;
  }
  return config;
}

function textParts(content: unknown, where: string): Part[] {
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  if (!Array.isArray(content)) return content == null ? [] : reject(`${where}: expected a string or an array of parts`);
  return content.map((part, j) =>
    isRecord(part) && part.type === 'text' && typeof part.text === 'string' ? { text: part.text } : reject(`${where}[${j}]: only text parts are allowed here`),
  );
}

function userParts(content: unknown, where: string): Part[] {
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  if (!Array.isArray(content)) return reject(`${where}: expected a string or an array of parts`);
  return content.map((part, j) => {
    if (!isRecord(part)) return reject(`${where}[${j}]: not an object`);
    if (part.type === 'text' && typeof part.text === 'string') return { text: part.text };
    if (part.type === 'image_url') {
      const url = isRecord(part.image_url) ? part.image_url.url : undefined;
      const data = typeof url === 'string' ? /^data:([^;,]+);base64,(.*)$/s.exec(url) : null;
      if (!data) return reject(`${where}[${j}].image_url.url: Gemini takes images inline, as a data: URL`);
      return { inlineData: { mimeType: data[1], data: data[2] } };
    }
    return reject(`${where}[${j}]: content part type "${String(part.type)}" (text and image_url are supported)`);
  });
}

function modelParts(m: Record<string, unknown>, where: string, callNames: Map<string, string>): Part[] {
  const parts = typeof m.content === 'string' || Array.isArray(m.content) ? textParts(m.content, `${where}.content`) : [];
  const calls = Array.isArray(m.tool_calls) ? m.tool_calls : [];
  calls.forEach((call, j) => {
    const fn = isRecord(call) ? call.function : undefined;
    if (!isRecord(call) || !isRecord(fn) || typeof fn.name !== 'string') return reject(`${where}.tool_calls[${j}]: needs function.name`);
    if (typeof call.id === 'string') callNames.set(call.id, fn.name);
    parts.push({ functionCall: { name: fn.name, args: parseArgs(fn.arguments, `${where}.tool_calls[${j}]`) } });
  });
  return parts;
}

function parseArgs(args: unknown, where: string): Record<string, unknown> {
  if (args === undefined || args === null || args === '') return {};
  if (isRecord(args)) return args;
  try {
    const parsed: unknown = typeof args === 'string' ? JSON.parse(args) : undefined;
    if (isRecord(parsed)) return parsed;
  } catch {
    // named below
  }
  return reject(`${where}.function.arguments: not a JSON object`);
}

function functionResponse(m: Record<string, unknown>, where: string, callNames: Map<string, string>): Part {
  const id = typeof m.tool_call_id === 'string' ? m.tool_call_id : undefined;
  const name = (id && callNames.get(id)) || (typeof m.name === 'string' ? m.name : undefined);
  if (!name) return reject(`${where}.tool_call_id: no earlier assistant tool call has this id (Gemini needs the function name)`);
  const text = typeof m.content === 'string' ? m.content : textParts(m.content, `${where}.content`).map((p) => String(p.text)).join('');
  // Gemini wants an object; a result that is a JSON object goes as is, anything else is wrapped.
  let response: Record<string, unknown> = { content: text };
  try {
    const parsed: unknown = JSON.parse(text);
    if (isRecord(parsed)) response = parsed;
  } catch {
    // plain text result
  }
  return { functionResponse: { name, response } };
}

function toDeclaration(tool: unknown, i: number): Part {
  const fn = isRecord(tool) ? tool.function : undefined;
  if (!isRecord(fn) || typeof fn.name !== 'string') return reject(`tools[${i}]: only function tools with a name are supported`);
  return {
    name: fn.name,
    ...(typeof fn.description === 'string' ? { description: fn.description } : {}),
    // parametersJsonSchema takes standard JSON Schema; `parameters` would reject keywords such as additionalProperties.
    ...(isRecord(fn.parameters) ? { parametersJsonSchema: fn.parameters } : {}),
  };
}

function toolConfig(choice: unknown): Record<string, unknown> | undefined {
  if (choice === 'auto') return { mode: 'AUTO' };
  if (choice === 'none') return { mode: 'NONE' };
  if (choice === 'required') return { mode: 'ANY' };
  if (isRecord(choice) && isRecord(choice.function) && typeof choice.function.name === 'string') {
    return { mode: 'ANY', allowedFunctionNames: [choice.function.name] };
  }
  return undefined;
}
