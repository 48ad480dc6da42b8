// The sandbox: a simulated upstream on loopback speaking the OpenAI, Anthropic Messages and Gemini wire
// formats, with deterministic text, scripted timing and faults (the same rules for every format). Tests, the no-keys default and the benchmarks all talk to it, so the normal path
// must cost nothing beyond the HTTP itself: with no latency configured it answers without a timer.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { isRecord } from '../../shared/is-record';
import { FaultBook, parseFaultsBody, parseRules, type Fault, type FaultRule } from './faults';
import { planReply } from './text';
import { checkChat, completionJson, RequestError, streamFrames, type Frames, type Meta } from './wire';
import { anthropicErrorJson, anthropicModelList, checkMessages, countTokensJson, messageFrames, messageJson } from './anthropic-wire';
import { checkGenerate, generateFrames, generateJson, geminiErrorJson, geminiModelList, geminiTarget } from './gemini-wire';
import { checkCompletions, embeddingsJson, geminiEmbedJson, geminiEmbedTarget, planCompletions, textCompletionFrames, textCompletionJson } from './operations-wire';

export type { Fault, FaultRule } from './faults';

export interface SandboxOptions {
  host?: string; // default '127.0.0.1'
  port?: number; // default 0 = ephemeral
  name?: string; // default 'sandbox'; sent as header `x-sandbox: <name>` on every response
  latencyMs?: number; // delay before response headers (default 0)
  ttftMs?: number; // streaming: delay after headers before the first content chunk (default 0)
  tokensPerSecond?: number; // streaming: pacing between chunks; 0/undefined = as fast as possible
  replyTokens?: number; // default words in a reply when the request sets no max tokens (default 24)
  models?: string[]; // ids listed by GET /v1/models (default ['sandbox-model']); any model is accepted anyway
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  time: number;
}

export interface Sandbox {
  readonly name: string;
  readonly port: number;
  readonly url: string; // base URL for a provider config: `http://127.0.0.1:${port}/v1`
  /** Base URLs per wire format: openai and anthropic are `url`; gemini is `.../v1beta`. */
  readonly urls: { readonly openai: string; readonly anthropic: string; readonly gemini: string };
  readonly requests: RecordedRequest[]; // most recent last, capped at 1000 (control requests are not recorded)
  setFaults(rules: FaultRule[]): Promise<void>; // replaces the rules; resolves once a 'refuse' rule has closed the listener
  clearFaults(): Promise<void>; // resolves once listening again if it was refusing
  setTiming(t: Pick<SandboxOptions, 'latencyMs' | 'ttftMs' | 'tokensPerSecond' | 'replyTokens'>): void;
  close(): Promise<void>; // stops listening and destroys open sockets and timers
}

type Timing = Required<Pick<SandboxOptions, 'latencyMs' | 'ttftMs' | 'tokensPerSecond' | 'replyTokens'>>;

const MAX_RECORDED = 1000;
const BODY_LIMIT_BYTES = 16 * 1024 * 1024;
const CLOSE = { connection: 'close' };

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const host = options.host ?? '127.0.0.1';
  const name = options.name ?? 'sandbox';
  let timing: Timing = { latencyMs: 0, ttftMs: 0, tokensPerSecond: 0, replyTokens: 24 };
  const setTiming = (t: Partial<Timing>) => {
    for (const key of ['latencyMs', 'ttftMs', 'tokensPerSecond', 'replyTokens'] as const) {
      const v = t[key];
      if (v === undefined) continue;
      if (!Number.isFinite(v) || v < 0 || (key === 'replyTokens' && (!Number.isInteger(v) || v < 1))) {
        throw new RangeError(`sandbox ${key} must be a finite number >= 0 (replyTokens: an integer >= 1), got ${v}`);
      }
      timing = { ...timing, [key]: v }; // a new object: requests in flight keep theirs
    }
  };
  setTiming(options);

  const faults = new FaultBook();
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const controlSockets = new Set<Socket>(); // carrying a control request: kept open to answer it
  const inflight = new Set<Exchange>();
  const modelIds = options.models ?? ['sandbox-model'];
  const modelsJson = modelList(modelIds);
  let seq = 0;
  let closed = false;
  let refuseTimer: NodeJS.Timeout | undefined;

  const server = createServer((req, res) => {
    res.setHeader('x-sandbox', name);
    if (closed) return void req.socket.destroy();
    const ex = new Exchange(res);
    inflight.add(ex);
    res.once('close', () => {
      ex.cancel();
      inflight.delete(ex);
    });
    const format = formatOf(req);
    serve(req, res, ex, format).catch((err: unknown) => {
      if (err instanceof RequestError) sendError(res, err.status, err.message, err.type, err.code, err.param, err.headers, format);
      else if (!res.headersSent && !res.destroyed) sendError(res, 500, `sandbox error: ${String(err)}`, 'server_error', null, null, {}, format);
      else res.destroy();
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  await listen(server, options.port ?? 0, host);
  const port = (server.address() as AddressInfo).port;

  async function serve(req: IncomingMessage, res: ServerResponse, ex: Exchange, format: WireFormat): Promise<void> {
    const url = req.url ?? '/';
    const path = url.split('?', 1)[0];
    if (path.startsWith('/_sandbox/')) return control(req, res, path);

    const raw = await readBody(req);
    const parsed = parseJson(raw);
    record(req, url, parsed.ok ? parsed.value : raw.length > 0 ? raw : undefined);
    // Gemini names the model and streaming in the path, the other formats in the body.
    const gemini = format === 'gemini' ? geminiTarget(path) : undefined;
    const geminiEmbed = format === 'gemini' ? geminiEmbedTarget(path) : undefined;
    const fault = faults.take(gemini ? gemini.model : geminiEmbed ? geminiEmbed.model : parsed.ok ? modelOf(parsed.value) : undefined);
    if (fault?.type === 'hang') return; // never answer; the 'close' handler cleans up
    const t = timing;
    if (t.latencyMs > 0 && !(await ex.sleep(t.latencyMs))) return;
    const streaming = gemini ? gemini.stream : parsed.ok && isRecord(parsed.value) && parsed.value.stream === true;
    if (fault !== undefined && applyFault(fault, req, res, streaming, format)) return;
    const cut = fault?.type === 'reset-mid-stream' ? fault.afterChunks : undefined;

    if (path === '/v1/chat/completions' && req.method === 'POST') {
      if (!parsed.ok) throw new RequestError(400, `We could not parse the JSON body of your request: ${parsed.message}`, 'invalid_json');
      const chat = checkChat(parsed.value);
      const n = ++seq;
      const plan = planReply(chat, t.replyTokens);
      const meta: Meta = { id: `chatcmpl-sbx-${n}`, callId: `call_sbx_${n}`, created: Math.floor(Date.now() / 1000), model: chat.model };
      if (chat.stream) return streamChat(req, res, ex, t, streamFrames(meta, plan, chat.includeUsage), cut);
      return sendJson(res, 200, completionJson(meta, plan));
    }
    if (path === '/v1/messages' && req.method === 'POST') {
      if (!parsed.ok) throw new RequestError(400, `invalid JSON body: ${parsed.message}`, 'invalid_json');
      const chat = checkMessages(parsed.value, t.replyTokens);
      const n = ++seq;
      const meta = { id: `msg_sbx_${n}`, toolId: `toolu_sbx_${n}`, model: chat.model };
      if (chat.stream) return streamChat(req, res, ex, t, messageFrames(meta, chat), cut);
      return sendJson(res, 200, messageJson(meta, chat));
    }
    if (path === '/v1/messages/count_tokens' && req.method === 'POST') {
      if (!parsed.ok) throw new RequestError(400, `invalid JSON body: ${parsed.message}`, 'invalid_json');
      return sendJson(res, 200, countTokensJson(parsed.value));
    }
    if (gemini && req.method === 'POST') {
      if (!parsed.ok) throw new RequestError(400, `Invalid JSON payload received. ${parsed.message}`, 'invalid_json');
      if (gemini.stream && !/[?&]alt=sse(&|$)/.test(url)) throw new RequestError(400, 'the sandbox streams Gemini answers only as SSE: add ?alt=sse', null);
      const chat = checkGenerate(parsed.value, t.replyTokens);
      const meta = { responseId: `sbx-${++seq}`, model: gemini.model };
      if (gemini.stream) return streamChat(req, res, ex, t, generateFrames(meta, chat), cut);
      return sendJson(res, 200, generateJson(meta, chat));
    }
    if (path === '/v1/embeddings' && req.method === 'POST') {
      if (!parsed.ok) throw new RequestError(400, `We could not parse the JSON body of your request: ${parsed.message}`, 'invalid_json');
      return sendJson(res, 200, embeddingsJson(parsed.value));
    }
    if (path === '/v1/completions' && req.method === 'POST') {
      if (!parsed.ok) throw new RequestError(400, `We could not parse the JSON body of your request: ${parsed.message}`, 'invalid_json');
      const completion = checkCompletions(parsed.value);
      const meta = { id: `cmpl-sbx-${++seq}`, created: Math.floor(Date.now() / 1000), model: completion.model };
      const plans = planCompletions(completion, t.replyTokens);
      if (completion.stream) return streamChat(req, res, ex, t, textCompletionFrames(meta, plans, completion.includeUsage), cut);
      return sendJson(res, 200, textCompletionJson(meta, plans));
    }
    if (geminiEmbed && req.method === 'POST') {
      if (!parsed.ok) throw new RequestError(400, `Invalid JSON payload received. ${parsed.message}`, 'invalid_json');
      return sendJson(res, 200, geminiEmbedJson(geminiEmbed, parsed.value));
    }
    if (path === '/v1/models' && req.method === 'GET') return sendJson(res, 200, format === 'anthropic' ? anthropicModelList(modelIds) : modelsJson);
    if (path === '/v1beta/models' && req.method === 'GET') return sendJson(res, 200, geminiModelList(modelIds));
    if (path === '/v1/chat/completions' || path === '/v1/models' || path === '/v1/messages' || gemini) {
      throw new RequestError(405, `Method ${req.method} not allowed for ${path}`, 'method_not_allowed');
    }
    throw new RequestError(404, `Invalid URL (${req.method} ${path})`, 'unknown_url');
  }

  /** Answers for a fault; false when the normal answer should go on (reset-mid-stream while streaming). */
  function applyFault(fault: Fault, req: IncomingMessage, res: ServerResponse, streaming: boolean, format: WireFormat): boolean {
    switch (fault.type) {
      case 'status': {
        const headers: Record<string, string> = {};
        if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
        if (fault.retryAfterMs !== undefined) headers['retry-after-ms'] = String(fault.retryAfterMs);
        const type = fault.status === 429 ? 'rate_limit_error' : fault.status >= 500 ? 'server_error' : 'invalid_request_error';
        const message = fault.message ?? `[sandbox] scripted fault: HTTP ${fault.status}`;
        sendError(res, fault.status, message, type, fault.status === 429 ? 'rate_limit_exceeded' : 'sandbox_fault', null, headers, format);
        return true;
      }
      case 'reset-mid-stream':
        if (streaming) return false;
        resetSocket(req.socket);
        return true;
      case 'reset':
        resetSocket(req.socket);
        return true;
      default: // hang is handled before the latency; refuse never reaches a request
        return false;
    }
  }

  // A refusal spares the socket a control request arrives on, so that request can be answered; the
  // connection closes after the answer, so no pooled client can reuse it past the refusal.
  async function control(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    controlSockets.add(req.socket);
    res.once('close', () => controlSockets.delete(req.socket));
    if (path === '/_sandbox/requests' && req.method === 'GET') return sendJson(res, 200, JSON.stringify(requests), CLOSE);
    if (path === '/_sandbox/faults' && req.method === 'DELETE') {
      await sandbox.clearFaults();
      return sendJson(res, 200, '{"rules":[]}', CLOSE);
    }
    if (path === '/_sandbox/faults' && req.method === 'PUT') {
      const parsed = parseJson(await readBody(req));
      if (!parsed.ok) throw new RequestError(400, `body is not valid JSON: ${parsed.message}`, 'invalid_json', null, 'invalid_request_error', CLOSE);
      const rules = parseFaultsBody(parsed.value);
      if (!rules.ok) throw new RequestError(400, rules.message, 'invalid_fault_rules', 'rules', 'invalid_request_error', CLOSE);
      await applyRules(rules.rules);
      return sendJson(res, 200, JSON.stringify({ rules: rules.rules }), CLOSE);
    }
    throw new RequestError(404, `Invalid URL (${req.method} ${path})`, 'unknown_url', null, 'invalid_request_error', CLOSE);
  }

  function record(req: IncomingMessage, path: string, body: unknown): void {
    requests.push({ method: req.method ?? 'GET', path, headers: req.headers, body, time: Date.now() });
    if (requests.length > MAX_RECORDED) requests.splice(0, requests.length - MAX_RECORDED);
  }

  // --- refusing connections: the listener follows the fault rules, one change at a time ---

  let listenerQueue: Promise<void> = Promise.resolve();
  function syncListener(): Promise<void> {
    const step = listenerQueue.then(async () => {
      if (closed) return;
      const refusing = faults.refusingUntil() !== undefined;
      if (refusing && server.listening) {
        server.close(); // the listening socket closes at once: new connections are refused
        // Pooled keep-alive connections must fail too, as they would against a dead upstream.
        for (const s of sockets) if (!controlSockets.has(s)) s.destroy();
        // One turn of the loop lets an in-process client (tests, the daemon) see those closes before
        // its next request, so it dials anew and is refused instead of writing to a dead socket.
        await new Promise((resolve) => setImmediate(resolve));
      } else if (!refusing && !server.listening) {
        await listen(server, port, host);
      }
    });
    listenerQueue = step.catch(() => undefined);
    return step;
  }

  function scheduleRefusalEnd(): void {
    clearTimeout(refuseTimer);
    refuseTimer = undefined;
    const until = faults.refusingUntil();
    if (until === undefined || until === Infinity || closed) return;
    refuseTimer = setTimeout(() => {
      refuseTimer = undefined;
      // A failed re-listen (port taken meanwhile) surfaces on the next setFaults/clearFaults.
      syncListener().then(scheduleRefusalEnd, () => undefined);
    }, Math.max(1, until - Date.now()));
  }

  async function applyRules(rules: FaultRule[]): Promise<void> {
    faults.set(rules);
    scheduleRefusalEnd();
    await syncListener();
  }

  const sandbox: Sandbox = {
    name,
    port,
    url: `http://${urlHost(host)}:${port}/v1`,
    urls: {
      openai: `http://${urlHost(host)}:${port}/v1`,
      anthropic: `http://${urlHost(host)}:${port}/v1`,
      gemini: `http://${urlHost(host)}:${port}/v1beta`,
    },
    requests,
    async setFaults(rules) {
      const parsed = parseRules(rules);
      if (!parsed.ok) throw new Error(parsed.message);
      await applyRules(parsed.rules);
    },
    async clearFaults() {
      await applyRules([]);
    },
    setTiming,
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(refuseTimer);
      await listenerQueue;
      const stopped = new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
      for (const ex of inflight) ex.cancel();
      for (const s of sockets) s.destroy();
      await stopped;
    },
  };
  return sandbox;
}

/** One request's pending wait (a timer or a drain), cancelled when the client goes or the sandbox closes. */
class Exchange {
  private alive = true;
  private timer: NodeJS.Timeout | undefined;
  private wake: ((alive: boolean) => void) | undefined;
  private readonly onDrain = () => this.settle(true);

  constructor(private readonly res: ServerResponse) {}

  /** Resolves true after `ms`, or false as soon as the exchange is cancelled. */
  sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      if (!this.alive) return resolve(false);
      this.wake = resolve;
      this.timer = setTimeout(() => this.settle(true), ms);
    });
  }

  /** Resolves true when the response can take more data, false if the exchange is cancelled first. */
  drain(): Promise<boolean> {
    return new Promise((resolve) => {
      if (!this.alive) return resolve(false);
      this.wake = resolve;
      this.res.once('drain', this.onDrain);
    });
  }

  cancel(): void {
    this.alive = false;
    this.settle(false);
  }

  private settle(alive: boolean): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.res.off('drain', this.onDrain);
    const wake = this.wake;
    this.wake = undefined;
    wake?.(alive);
  }
}

/**
 * Writes a stream one frame per write (so a relay's chunking is observable), paced by the timing.
 * `cut`: reset the connection after that many content frames (the reset-mid-stream fault).
 */
async function streamChat(req: IncomingMessage, res: ServerResponse, ex: Exchange, t: Timing, frames: Frames, cut: number | undefined): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
  if (t.ttftMs > 0 && !(await ex.sleep(t.ttftMs))) return;
  const all = [frames.head, ...frames.content, ...frames.tail];
  const stopAt = cut === undefined ? all.length : 1 + Math.min(cut, frames.content.length);
  const interval = t.tokensPerSecond > 0 ? 1000 / t.tokensPerSecond : 0;
  const start = performance.now();
  for (let i = 0; i < stopAt; i++) {
    // Content frame k goes out k-1 intervals after the first (scheduled from the start: no drift).
    if (interval > 0 && i >= 2 && i <= frames.content.length) {
      const wait = start + (i - 1) * interval - performance.now();
      if (wait > 0 && !(await ex.sleep(wait))) return;
    }
    const last = i === stopAt - 1;
    if (last && cut !== undefined) {
      // Reset only once the frames are on the wire: http corks the socket within a tick.
      res.write(all[i], () => resetSocket(req.socket));
      return;
    }
    if (last) return void res.end(all[i]);
    if (!res.write(all[i]) && !(await ex.drain())) return;
  }
}

/** An abortive close (RST), so the client sees ECONNRESET rather than a clean end. */
function resetSocket(socket: Socket): void {
  if (!socket.destroyed) socket.resetAndDestroy();
}

function sendJson(res: ServerResponse, status: number, json: string, headers: OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  type: string,
  code: string | null,
  param: string | null = null,
  headers: Record<string, string> = {},
  format: WireFormat = 'openai',
): void {
  if (res.headersSent || res.destroyed) return void res.destroy();
  const body =
    format === 'anthropic'
      ? anthropicErrorJson(status, message)
      : format === 'gemini'
        ? geminiErrorJson(status, message)
        : JSON.stringify({ error: { message, type, param, code } });
  sendJson(res, status, body, headers);
}

type WireFormat = 'openai' | 'anthropic' | 'gemini';

/** Which wire format a request speaks, from its path (and, for the shared model list, its headers). */
function formatOf(req: IncomingMessage): WireFormat {
  const url = req.url ?? '/';
  if (url.startsWith('/v1/chat/')) return 'openai'; // first: the benchmarks' hot path
  if (url.startsWith('/v1/messages')) return 'anthropic';
  if (url.startsWith('/v1beta/') || url.includes(':generateContent') || url.includes(':streamGenerateContent')) return 'gemini';
  return req.headers['anthropic-version'] !== undefined ? 'anthropic' : 'openai';
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= BODY_LIMIT_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > BODY_LIMIT_BYTES) {
        reject(new RequestError(413, `request body is larger than ${BODY_LIMIT_BYTES} bytes`, 'body_too_large', null, 'invalid_request_error', { connection: 'close' }));
      } else {
        resolve(chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks, size).toString('utf8'));
      }
    });
    req.on('error', reject);
  });
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  if (text.length === 0) return { ok: false, message: 'the body is empty' };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : 'invalid JSON' };
  }
}

function modelOf(body: unknown): string | undefined {
  return isRecord(body) && typeof body.model === 'string' ? body.model : undefined;
}

function modelList(ids: string[]): string {
  const created = Math.floor(Date.now() / 1000);
  return JSON.stringify({ object: 'list', data: ids.map((id) => ({ id, object: 'model', created, owned_by: 'shepherd-sandbox' })) });
}

/** Listens, rejecting on a bind error rather than leaving it to an 'error' event. */
async function listen(server: Server, port: number, host: string): Promise<void> {
  server.listen(port, host);
  await once(server, 'listening');
}

// A wildcard bind is reached through loopback; IPv6 literals need brackets in a URL.
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

