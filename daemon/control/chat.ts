// A chat asked for over the control channel goes through the daemon's own OpenAI-compatible port on
// loopback, as a streaming request: the same routing, failover, budgets, ledger line and metrics as
// any other client, with no second code path to keep in step. The deltas are relayed as they arrive;
// aborting the signal (chat.cancel, or the extension going away) cancels the upstream request.
// Two kinds: `chat.start` (the selection commands: plain text) and `lm.start` (VS Code's language
// model API: tools, tool calls and images too, and the calling extension named in the ledger).
import { createParser } from 'eventsource-parser';
import { request } from 'undici';
import { isRecord } from '../../shared/is-record';
import type { LedgerEntry } from '../../shared/ledger';
import type { LmDelta, LmRequestBody, LmToolCallDelta } from '../../shared/lm-protocol';
import type { ChatMessage, ServerMessage } from '../../shared/protocol';
import { CLIENT_HEADER } from '../core/caller';

export interface ChatRun {
  id: string;
  model: string;
  messages: ChatMessage[];
  maxTokens?: number;
}

export interface LmRun {
  id: string;
  client?: string;
  body: LmRequestBody;
}

export interface ChatDeps {
  /** The daemon's own base URL, e.g. http://127.0.0.1:4210. */
  url: string;
  /** A local API key when the daemon requires one (the control channel is already authenticated). */
  clientKey(): string | undefined;
  /** The ledger line of a finished request, by id (it is written before the response's last byte). */
  finished(id: string): LedgerEntry | undefined;
  send(message: ServerMessage): void;
}

export function runChat(deps: ChatDeps, run: ChatRun, signal: AbortSignal): Promise<void> {
  const body = { model: run.model, messages: run.messages, ...(run.maxTokens ? { max_tokens: run.maxTokens } : {}) };
  return stream(deps, run.id, body, undefined, signal, (chunk) => {
    const text = deltaOf(chunk)?.text;
    if (text) deps.send({ type: 'chat.delta', id: run.id, text });
  });
}

export function runLm(deps: ChatDeps, run: LmRun, signal: AbortSignal): Promise<void> {
  // Usage in the stream: the answer's last frame then carries the counts the ledger line has too.
  const body = { ...run.body, stream_options: { include_usage: true } };
  return stream(deps, run.id, body, run.client, signal, (chunk) => {
    const delta = deltaOf(chunk);
    if (delta) deps.send({ type: 'lm.delta', id: run.id, delta });
  });
}

async function stream(
  deps: ChatDeps,
  id: string,
  body: Record<string, unknown>,
  client: string | undefined,
  signal: AbortSignal,
  onChunk: (chunk: unknown) => void,
): Promise<void> {
  const fail = (message: string, status?: number, code?: string | null) =>
    deps.send({ type: 'chat.error', id, message, cancelled: signal.aborted, ...(status !== undefined ? { status, code: code ?? null } : {}) });
  try {
    const key = deps.clientKey();
    const res = await request(`${deps.url}/v1/chat/completions`, {
      method: 'POST',
      signal,
      headers: {
        'content-type': 'application/json',
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(client ? { [CLIENT_HEADER]: client } : {}),
      },
      body: JSON.stringify({ ...body, stream: true }),
    });
    const header = (name: string) => {
      const v = res.headers[name];
      return typeof v === 'string' ? v : undefined;
    };
    if (res.statusCode !== 200) {
      const error = errorOf(await res.body.text());
      return fail(error.message ?? `the daemon answered HTTP ${res.statusCode}`, res.statusCode, error.code);
    }
    let streamError: { message?: string; code?: string | null } | undefined;
    const parser = createParser({
      onEvent(event) {
        if (event.data === '[DONE]') return;
        const chunk = safeJson(event.data);
        if (isRecord(chunk) && chunk.error !== undefined) {
          const error = errorOf(event.data);
          streamError = { message: error.message ?? 'the stream failed', code: error.code };
          return;
        }
        onChunk(chunk);
      },
    });
    const decoder = new TextDecoder();
    for await (const piece of res.body) parser.feed(decoder.decode(piece as Buffer, { stream: true }));
    // A stream that broke after its first byte: the status was 200, the error frame says why.
    if (streamError) return fail(streamError.message ?? 'the stream failed', 502, streamError.code);
    const requestId = header('x-request-id');
    const entry = requestId ? deps.finished(requestId) : undefined;
    deps.send({
      type: 'chat.done',
      id,
      model: entry?.model ?? header('x-shepherd-model') ?? null,
      servedModel: entry?.servedModel ?? null,
      deployment: entry?.deployment ?? header('x-shepherd-deployment') ?? null,
      costUsd: entry?.costUsd ?? 0,
      promptTokens: entry?.promptTokens ?? 0,
      completionTokens: entry?.completionTokens ?? 0,
      latencyMs: entry?.latencyMs ?? 0,
      sandbox: header('x-shepherd-sandbox') === 'true',
    });
  } catch (err) {
    fail(signal.aborted ? 'cancelled' : `the request failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * What one OpenAI stream chunk adds: its text, tool-call fragments and finish reason, checked field by
 * field so an upstream's odd chunk can never put an invalid message on the control channel.
 */
export function deltaOf(chunk: unknown): LmDelta | undefined {
  if (!isRecord(chunk) || !Array.isArray(chunk.choices)) return undefined;
  const choice: unknown = chunk.choices[0];
  if (!isRecord(choice)) return undefined;
  const delta = isRecord(choice.delta) ? choice.delta : {};
  const out: LmDelta = {};
  if (typeof delta.content === 'string' && delta.content.length > 0) out.text = delta.content;
  if (Array.isArray(delta.tool_calls)) {
    const calls = delta.tool_calls.map(toolCallDelta).filter((c): c is LmToolCallDelta => c !== undefined);
    if (calls.length > 0) out.toolCalls = calls;
  }
  if (typeof choice.finish_reason === 'string') out.finishReason = choice.finish_reason;
  return Object.keys(out).length > 0 ? out : undefined;
}

function toolCallDelta(call: unknown, position: number): LmToolCallDelta | undefined {
  if (!isRecord(call)) return undefined;
  const fn = isRecord(call.function) ? call.function : {};
  const index = typeof call.index === 'number' && Number.isInteger(call.index) && call.index >= 0 ? call.index : position;
  return {
    index,
    ...(typeof call.id === 'string' && call.id.length > 0 ? { id: call.id } : {}),
    ...(typeof fn.name === 'string' && fn.name.length > 0 ? { name: fn.name } : {}),
    ...(typeof fn.arguments === 'string' ? { arguments: fn.arguments } : {}),
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorOf(body: string): { message?: string; code?: string | null } {
  const parsed = safeJson(body);
  const error = isRecord(parsed) && isRecord(parsed.error) ? parsed.error : undefined;
  return {
    ...(typeof error?.message === 'string' ? { message: error.message } : {}),
    ...(typeof error?.code === 'string' ? { code: error.code } : {}),
  };
}
