// A chat asked for over the control channel goes through the daemon's own OpenAI-compatible port on
// loopback, as a streaming request: the same routing, failover, budgets, ledger line and metrics as
// any other client, with no second code path to keep in step. The deltas are relayed as they arrive;
// aborting the signal (chat.cancel, or the extension going away) cancels the upstream request.
import { createParser } from 'eventsource-parser';
import { request } from 'undici';
import type { LedgerEntry } from '../../shared/ledger';
import type { ChatMessage, ServerMessage } from '../../shared/protocol';

export interface ChatRun {
  id: string;
  model: string;
  messages: ChatMessage[];
  maxTokens?: number;
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

export async function runChat(deps: ChatDeps, run: ChatRun, signal: AbortSignal): Promise<void> {
  const fail = (message: string) => deps.send({ type: 'chat.error', id: run.id, message, cancelled: signal.aborted });
  try {
    const key = deps.clientKey();
    const res = await request(`${deps.url}/v1/chat/completions`, {
      method: 'POST',
      signal,
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({
        model: run.model,
        messages: run.messages,
        stream: true,
        ...(run.maxTokens ? { max_tokens: run.maxTokens } : {}),
      }),
    });
    const header = (name: string) => {
      const v = res.headers[name];
      return typeof v === 'string' ? v : undefined;
    };
    if (res.statusCode !== 200) {
      const body = await res.body.text();
      return fail(errorMessage(body) ?? `the daemon answered HTTP ${res.statusCode}`);
    }
    let streamError: string | undefined;
    const parser = createParser({
      onEvent(event) {
        if (event.data === '[DONE]') return;
        const chunk = safeJson(event.data) as { choices?: { delta?: { content?: unknown } }[]; error?: { message?: unknown } } | undefined;
        if (chunk?.error) streamError = typeof chunk.error.message === 'string' ? chunk.error.message : 'the stream failed';
        const text = chunk?.choices?.[0]?.delta?.content;
        if (typeof text === 'string' && text.length > 0) deps.send({ type: 'chat.delta', id: run.id, text });
      },
    });
    const decoder = new TextDecoder();
    for await (const piece of res.body) parser.feed(decoder.decode(piece as Buffer, { stream: true }));
    if (streamError) return fail(streamError);
    const requestId = header('x-request-id');
    const entry = requestId ? deps.finished(requestId) : undefined;
    deps.send({
      type: 'chat.done',
      id: run.id,
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

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function errorMessage(body: string): string | undefined {
  const parsed = safeJson(body) as { error?: { message?: unknown } } | undefined;
  return typeof parsed?.error?.message === 'string' ? parsed.error.message : undefined;
}
