// OpenAI embeddings <-> Gemini's native batchEmbedContents: every input string becomes one request
// (`dimensions` -> outputDimensionality), and the vectors come back in OpenAI's list shape, as floats
// or as base64 (little-endian float32) when the client asked for encoding_format "base64". Gemini
// reports no token usage for embeddings: the ledger counts the input locally ("estimated").
import { isRecord } from '../../../shared/is-record';
import { UpstreamError } from '../../core/failure';
import type { Usage } from '../../core/usage';
import { untranslatable } from '../http-status';
import { float32Base64 } from '../openai/operation-request';

export function geminiModelPath(upstreamModel: string): string {
  return upstreamModel.startsWith('models/') ? upstreamModel : `models/${upstreamModel}`;
}

export function toGeminiEmbedRequest(upstreamModel: string, payload: Record<string, unknown>): Record<string, unknown> {
  const input = payload.input;
  const texts = typeof input === 'string' ? [input] : Array.isArray(input) && input.every((s) => typeof s === 'string') ? (input as string[]) : undefined;
  if (!texts) throw new UpstreamError(untranslatable('the Gemini adapter cannot translate input: token arrays (send text)'));
  const model = geminiModelPath(upstreamModel);
  const dims = typeof payload.dimensions === 'number' ? payload.dimensions : undefined;
  return { requests: texts.map((text) => ({ model, content: { parts: [{ text }] }, ...(dims ? { outputDimensionality: dims } : {}) })) };
}

export function fromGeminiEmbedResponse(parsed: unknown, payload: Record<string, unknown>): { body: string; usage: Usage | undefined } {
  const list = isRecord(parsed) && Array.isArray(parsed.embeddings) ? parsed.embeddings : [];
  const base64 = payload.encoding_format === 'base64';
  const data = list.map((e, index) => {
    const values = isRecord(e) && Array.isArray(e.values) ? e.values.filter((v): v is number => typeof v === 'number') : [];
    return { object: 'embedding', index, embedding: base64 ? float32Base64(values) : values };
  });
  // OpenAI's shape has usage; Gemini reports none, so the body carries the usual 4-characters estimate.
  const input = payload.input;
  const chars = typeof input === 'string' ? input.length : Array.isArray(input) ? input.reduce((n: number, s) => n + (typeof s === 'string' ? s.length : 0), 0) : 0;
  const estimate = Math.ceil(chars / 4);
  const body = { object: 'list', data, model: typeof payload.model === 'string' ? payload.model : '', usage: { prompt_tokens: estimate, total_tokens: estimate } };
  return { body: JSON.stringify(body), usage: undefined };
}
