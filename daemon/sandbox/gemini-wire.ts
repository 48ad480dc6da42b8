// The sandbox's Gemini wire shapes: the generateContent request it checks, the response objects it
// answers with (whole, or one per piece over SSE), its error body and model list. Pure.
import { isRecord } from '../../shared/is-record';
import { planReply, type PlannedReply } from './text';
import { RequestError, type Frames } from './wire';

/** `/v1beta/models/{model}:generateContent` (or :streamGenerateContent); also under /v1. */
const CONTENT_PATH = /^\/v1(?:beta)?\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;

export function geminiTarget(path: string): { model: string; stream: boolean } | undefined {
  const m = CONTENT_PATH.exec(path);
  return m ? { model: decodeURIComponent(m[1]), stream: m[2] === 'streamGenerateContent' } : undefined;
}

/** A request whose text contains this is answered as Gemini's safety filter would: blocked, HTTP 200. */
export const SAFETY_BLOCK_MARKER = '[sandbox:block]';

export interface GeminiChat {
  plan: PlannedReply;
  blocked: boolean;
}

export function checkGenerate(body: unknown, defaultWords: number): GeminiChat {
  if (!isRecord(body)) throw new RequestError(400, 'Invalid JSON payload received.', null);
  if (!Array.isArray(body.contents) || body.contents.length === 0) {
    throw new RequestError(400, '* GenerateContentRequest.contents: contents is not specified', null, 'contents');
  }
  body.contents.forEach((c, i) => {
    if (!isRecord(c) || !Array.isArray(c.parts) || c.parts.length === 0) {
      throw new RequestError(400, `* GenerateContentRequest.contents[${i}].parts: contents.parts must not be empty.`, null, `contents[${i}].parts`);
    }
    if (c.role !== undefined && c.role !== 'user' && c.role !== 'model') {
      throw new RequestError(400, `* GenerateContentRequest.contents[${i}].role: Please use a valid role: user, model.`, null, `contents[${i}].role`);
    }
  });
  const config = isRecord(body.generationConfig) ? body.generationConfig : {};
  const max = config.maxOutputTokens;
  if (max !== undefined && (typeof max !== 'number' || !Number.isInteger(max) || max < 1)) {
    throw new RequestError(400, '* GenerateContentRequest.generation_config.max_output_tokens: must be a positive integer', null);
  }
  const names: string[] = [];
  const declared: unknown[] = []; // the declarations as OpenAI tools, so arguments follow their schema
  for (const tool of Array.isArray(body.tools) ? body.tools : []) {
    for (const d of isRecord(tool) && Array.isArray(tool.functionDeclarations) ? tool.functionDeclarations : []) {
      if (!isRecord(d) || typeof d.name !== 'string' || d.name === '') {
        throw new RequestError(400, '* GenerateContentRequest.tools[0].function_declarations: name is required', null);
      }
      names.push(d.name);
      declared.push({ type: 'function', function: { name: d.name, parameters: d.parametersJsonSchema ?? d.parameters } });
    }
  }
  const calling = isRecord(body.toolConfig) && isRecord(body.toolConfig.functionCallingConfig) ? body.toolConfig.functionCallingConfig : {};
  const allowed = Array.isArray(calling.allowedFunctionNames) ? calling.allowedFunctionNames : [];
  const plan = planReply(
    {
      // The reply planner speaks OpenAI: a turn of function responses reads as a tool message.
      messages: [
        ...(body.systemInstruction !== undefined ? [{ role: 'system', content: body.systemInstruction }] : []),
        ...body.contents.map(asPlannerMessage),
      ],
      maxTokens: typeof max === 'number' ? max : undefined,
      tools: names.length > 0 ? declared : undefined,
      toolChoice: calling.mode === 'NONE' ? 'none' : typeof allowed[0] === 'string' ? { function: { name: allowed[0] } } : undefined,
    },
    defaultWords,
  );
  return { plan, blocked: JSON.stringify(body.contents).includes(SAFETY_BLOCK_MARKER) };
}

/** A prompt blocked by the safety filter: no candidates, the reason in promptFeedback. */
function blockedJson(meta: GeminiMeta, plan: PlannedReply): string {
  return JSON.stringify({
    promptFeedback: { blockReason: 'SAFETY' },
    usageMetadata: { promptTokenCount: plan.promptTokens, totalTokenCount: plan.promptTokens },
    modelVersion: meta.model,
    responseId: meta.responseId,
  });
}

function asPlannerMessage(c: unknown): unknown {
  if (!isRecord(c) || !Array.isArray(c.parts)) return c;
  if (c.parts.some((p) => isRecord(p) && p.functionResponse !== undefined)) return { role: 'tool', content: c.parts };
  return { role: c.role === 'model' ? 'assistant' : 'user', content: c.parts };
}

export interface GeminiMeta {
  responseId: string;
  model: string;
}

function usageOf(plan: PlannedReply, completion = plan.completionTokens) {
  return { promptTokenCount: plan.promptTokens, candidatesTokenCount: completion, totalTokenCount: plan.promptTokens + completion };
}

const finishOf = (plan: PlannedReply) => (plan.reply.finishReason === 'length' ? 'MAX_TOKENS' : 'STOP');

function response(meta: GeminiMeta, parts: unknown[], plan: PlannedReply, finish?: string, completion?: number): string {
  const candidate = { content: { role: 'model', parts }, index: 0, ...(finish ? { finishReason: finish } : {}) };
  return JSON.stringify({ candidates: [candidate], usageMetadata: usageOf(plan, completion), modelVersion: meta.model, responseId: meta.responseId });
}

export function generateJson(meta: GeminiMeta, chat: GeminiChat): string {
  const { plan } = chat;
  if (chat.blocked) return blockedJson(meta, plan);
  const { reply } = plan;
  const parts =
    reply.kind === 'text' ? [{ text: reply.pieces.join('') }] : [{ functionCall: { name: reply.name, args: JSON.parse(reply.arguments) as unknown } }];
  return response(meta, parts, plan, finishOf(plan));
}

/** One event per piece (Gemini sends text in chunks and a function call whole); the last carries the finish. */
export function generateFrames(meta: GeminiMeta, chat: GeminiChat): Frames {
  const frame = (json: string) => `data: ${json}\r\n\r\n`;
  const { plan } = chat;
  if (chat.blocked) return { head: frame(blockedJson(meta, plan)), content: [], tail: [] };
  const { reply } = plan;
  if (reply.kind === 'tool_call') {
    const call = [{ functionCall: { name: reply.name, args: JSON.parse(reply.arguments) as unknown } }];
    return { head: frame(response(meta, call, plan, undefined, 0)), content: [], tail: [frame(response(meta, [{ text: '' }], plan, 'STOP'))] };
  }
  const [first, ...rest] = reply.pieces;
  return {
    head: frame(response(meta, [{ text: first ?? '' }], plan, undefined, 1)),
    content: rest.map((text, i) => frame(response(meta, [{ text }], plan, undefined, i + 2))),
    tail: [frame(response(meta, [{ text: '' }], plan, finishOf(plan)))],
  };
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

export function geminiErrorJson(status: number, message: string): string {
  return JSON.stringify({ error: { code: status, message, status: STATUS_NAMES[status] ?? (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION') } });
}

export function geminiModelList(ids: string[]): string {
  return JSON.stringify({
    models: ids.map((id) => ({ name: `models/${id}`, displayName: id, supportedGenerationMethods: ['generateContent', 'streamGenerateContent'] })),
  });
}
