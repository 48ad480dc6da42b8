// The extension's end of the control channel: connects with the token from the state file, validates
// every message, reconnects with backoff, and offers request/response and chat on top. No vscode import.
import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import {
  CONTROL_PATH,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  parseServerMessage,
  type ChatDone,
  type ChatMessage,
  type ClientMessage,
  type DaemonState,
  type ServerMessage,
} from '../shared/protocol';
import type { LmDelta, LmRequestBody } from '../shared/lm-protocol';
import { backoffMs } from './backoff';

export interface ClientEvents {
  /** Every valid message from the daemon. */
  message(message: ServerMessage): void;
  /** Authenticated (welcome received). */
  connected(daemon: DaemonState): void;
  /** The connection closed or could not be made; `daemon` is what discovery found (undefined: none runs). */
  disconnected(reason: string, daemon: DaemonState | undefined): void;
}

export interface ControlClientOptions {
  /** Finds the daemon to connect to (reads the state file); undefined when none runs. */
  discover(): Promise<DaemonState | undefined>;
  clientVersion: string;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  events: ClientEvents;
}

type Result = Extract<ServerMessage, { type: 'result' }>;

export interface ChatHandlers {
  onDelta(text: string): void;
}

export interface LmHandlers {
  onDelta(delta: LmDelta): void;
}

export class ControlClient {
  private ws: WebSocket | undefined;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private authed = false;
  private readonly pending = new Map<string, (m: Result) => void>();
  private readonly chats = new Map<string, { handlers: Partial<ChatHandlers>; lm?: LmHandlers; resolve: (d: ChatDone) => void; reject: (e: ChatError) => void }>();

  constructor(private readonly options: ControlClientOptions) {}

  get connected(): boolean {
    return this.authed;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempt = 0;
    void this.connect();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.ws?.close();
    this.ws = undefined;
  }

  /** Connects again now (after the daemon was (re)started), resetting the backoff. */
  reconnectNow(): void {
    this.attempt = 0;
    clearTimeout(this.timer);
    this.running = true;
    if (this.ws) this.ws.terminate(); // its close handler reconnects at once
    else void this.connect();
  }

  send(message: ClientMessage): boolean {
    if (!this.authed || !this.ws) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  /** Sends a message that the daemon answers with a `result`; rejects with the daemon's reason. */
  request(build: (id: string) => Extract<ClientMessage, { id: string }>): Promise<void> {
    const id = randomUUID();
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, (r) => (r.ok ? resolve() : reject(new Error(r.message ?? 'the daemon refused'))));
      if (!this.send(build(id))) {
        this.pending.delete(id);
        reject(new Error('not connected to the Shepherd daemon'));
      }
    });
  }

  /** Streams a chat through the daemon. Aborting the signal cancels the upstream request. */
  chat(model: string, messages: ChatMessage[], handlers: ChatHandlers, signal?: AbortSignal): Promise<ChatDone> {
    const id = randomUUID();
    return new Promise<ChatDone>((resolve, reject) => {
      this.chats.set(id, { handlers, resolve, reject });
      if (!this.send({ type: 'chat.start', id, model, messages })) {
        this.chats.delete(id);
        reject(new ChatError('not connected to the Shepherd daemon', false));
        return;
      }
      signal?.addEventListener('abort', () => this.send({ type: 'chat.cancel', id }), { once: true });
    });
  }

  /**
   * Streams a language model request through the daemon (see shared/lm-protocol.ts); `client` names
   * the calling extension for the ledger. Aborting the signal cancels the upstream request.
   */
  lm(body: LmRequestBody, client: string | undefined, handlers: LmHandlers, signal?: AbortSignal): Promise<ChatDone> {
    const id = randomUUID();
    return new Promise<ChatDone>((resolve, reject) => {
      if (signal?.aborted) return reject(new ChatError('cancelled', true));
      const message: ClientMessage = { type: 'lm.start', id, body, ...(client ? { client } : {}) };
      const frame = JSON.stringify(message);
      // The daemon drops a connection that sends a larger frame: refuse here, with a reason.
      if (Buffer.byteLength(frame) > MAX_FRAME_BYTES) {
        return reject(new ChatError(`the request is ${Math.ceil(Buffer.byteLength(frame) / 1048576)} MB; Shepherd takes at most ${MAX_FRAME_BYTES / 1048576} MB from VS Code`, false, 413));
      }
      this.chats.set(id, { handlers: {}, lm: handlers, resolve, reject });
      if (!this.authed || !this.ws) {
        this.chats.delete(id);
        return reject(new ChatError('not connected to the Shepherd daemon', false));
      }
      this.ws.send(frame);
      signal?.addEventListener('abort', () => this.send({ type: 'chat.cancel', id }), { once: true });
    });
  }

  private async connect(): Promise<void> {
    if (!this.running) return;
    let daemon: DaemonState | undefined;
    try {
      daemon = await this.options.discover();
    } catch (err) {
      this.options.log('warn', `could not read the daemon state: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!this.running) return;
    if (!daemon) return this.retry('no daemon is running', undefined);
    const found = daemon;
    const ws = new WebSocket(`${found.url.replace(/^http/, 'ws')}${CONTROL_PATH}`, { maxPayload: MAX_FRAME_BYTES, handshakeTimeout: 5_000 });
    this.ws = ws;
    let reason = 'the connection closed';
    ws.on('open', () => {
      ws.send(JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION, token: found.controlToken, client: 'vscode', version: this.options.clientVersion } satisfies ClientMessage));
    });
    ws.on('message', (data) => {
      const parsed = parseServerMessage(data.toString());
      if (!parsed.ok) {
        // Both sides validate: a daemon we do not understand is treated as a broken connection.
        this.options.log('error', `the daemon sent an invalid message (${parsed.error}); reconnecting`);
        reason = 'invalid message from the daemon';
        ws.terminate();
        return;
      }
      this.dispatch(parsed.message, found);
    });
    ws.on('error', (err) => {
      reason = err.message;
    });
    ws.on('close', (code, why) => {
      if (why.length > 0) reason = `${why.toString()} (${code})`;
      const wasAuthed = this.authed;
      this.authed = false;
      if (this.ws === ws) this.ws = undefined;
      this.failPending(reason);
      if (wasAuthed) this.attempt = 0;
      this.retry(reason, found);
    });
  }

  private dispatch(message: ServerMessage, daemon: DaemonState): void {
    switch (message.type) {
      case 'welcome':
        this.authed = true;
        this.attempt = 0;
        this.options.events.connected(daemon);
        break;
      case 'result':
        this.pending.get(message.id)?.(message);
        this.pending.delete(message.id);
        break;
      case 'chat.delta':
        this.chats.get(message.id)?.handlers.onDelta?.(message.text);
        break;
      case 'lm.delta':
        this.chats.get(message.id)?.lm?.onDelta(message.delta);
        break;
      case 'chat.done':
        this.chats.get(message.id)?.resolve(message);
        this.chats.delete(message.id);
        break;
      case 'chat.error':
        this.chats.get(message.id)?.reject(new ChatError(message.message, message.cancelled, message.status, message.code ?? undefined));
        this.chats.delete(message.id);
        break;
      case 'error':
        this.options.log('warn', `daemon: ${message.message}`);
        break;
      default:
        break;
    }
    this.options.events.message(message);
  }

  private failPending(reason: string): void {
    for (const reject of this.pending.values()) reject({ type: 'result', id: '', ok: false, message: `disconnected: ${reason}` });
    this.pending.clear();
    for (const chat of this.chats.values()) chat.reject(new ChatError(`disconnected from the daemon: ${reason}`, false));
    this.chats.clear();
  }

  private retry(reason: string, daemon: DaemonState | undefined): void {
    this.options.events.disconnected(reason, daemon);
    if (!this.running) return;
    const delay = backoffMs(this.attempt++, Math.random());
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.connect(), delay);
  }
}

export class ChatError extends Error {
  constructor(
    message: string,
    readonly cancelled: boolean,
    /** The HTTP status the daemon's port answered with, when the request got that far. */
    readonly status?: number,
    readonly code?: string,
  ) {
    super(message);
  }
}
