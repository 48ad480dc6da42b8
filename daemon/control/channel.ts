// The control channel: a WebSocket on the daemon's HTTP port that the VS Code extension uses to watch
// health and spend live and to act (chat, keys, budgets, strategy, reload). Security: browsers are
// refused (any Origin header, a non-loopback Host), and a client must present the token from the
// owner-only state file in its first message, within a few seconds, or it is disconnected. Every frame
// is validated against shared/protocol.ts; anything else ends the connection.
import { timingSafeEqual, createHash } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { BudgetStatus } from '../../shared/budget-status';
import type { ServerConfig } from '../../shared/config';
import {
  AUTH_TIMEOUT_MS,
  CLOSE_AUTH,
  CLOSE_INVALID,
  CLOSE_VERSION,
  CONTROL_PATH,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  parseClientMessage,
  type ClientMessage,
  type ServerMessage,
  type Snapshot,
} from '../../shared/protocol';
import { budgetLimitEdit, editConfigFile, strategyEdit, type EditResult } from '../config/edit';
import type { EventBus } from '../core/events';
import type { Logger } from '../core/log';
import { runChat, runLm } from './chat';
import type { SpendHistory } from '../spend/history';
import { HttpError } from '../core/http-error';
import { checkHost } from '../http/guard';

/** What the snapshot needs from the daemon besides spend: see controlSnapshotBase in start.ts. */
export type SnapshotBase = Pick<Snapshot, 'version' | 'url' | 'sandbox' | 'startedAt' | 'providers' | 'groups' | 'deployments' | 'auto' | 'ledger' | 'teamLedger' | 'teamSpend' | 'team'>;

export interface ControlOptions {
  server: Server;
  token: string;
  version: string;
  url: string;
  configPath: string;
  events: EventBus;
  history: SpendHistory;
  log: Logger;
  serverConfig(): ServerConfig;
  base(): SnapshotBase;
  /** Budgets for the snapshot; none until the budgets module provides them. */
  budgets?: () => BudgetStatus[];
  /** Keeps a provider key in memory (null forgets it) and recomposes the daemon; an error message or undefined. */
  setKey(provider: string, key: string | null): Promise<string | undefined>;
  reload(): Promise<EditResult>;
  /** A local API key for the chat relay's loopback request, when the daemon requires one. */
  clientKey(): string | undefined;
  authTimeoutMs?: number;
}

export interface ControlChannel {
  clients(): number;
  close(): void;
}

/** Sends nothing more to a client whose socket has this much unsent: it is not reading. */
const MAX_BUFFERED = 16 * 1024 * 1024;

export function attachControlChannel(options: ControlOptions): ControlChannel {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const authed = new Set<WebSocket>();
  const tokenDigest = digest(options.token);

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://shepherd.local').pathname;
    const refuse = (status: number, message: string) => {
      options.log.warn('control channel connection refused', { reason: message });
      socket.end(`HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : 'Forbidden'}\r\nconnection: close\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(message)}\r\n\r\n${message}`);
    };
    if (path !== CONTROL_PATH) return refuse(404, `no WebSocket endpoint at ${path}`);
    // A web page can open a WebSocket to loopback; it always sends an Origin, the extension never does.
    if (req.headers.origin !== undefined) return refuse(403, 'browser origins may not use the control channel');
    try {
      checkHost(req, options.serverConfig());
    } catch (err) {
      return refuse(403, err instanceof HttpError ? err.message : 'host not allowed');
    }
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws));
  };
  options.server.on('upgrade', onUpgrade);

  const send = (ws: WebSocket, message: ServerMessage) => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED) {
      ws.terminate();
      return;
    }
    ws.send(JSON.stringify(message));
  };
  const broadcast = (message: ServerMessage) => {
    for (const ws of authed) send(ws, message);
  };
  const snapshot = (): Snapshot => ({
    ...options.base(),
    budgets: options.budgets?.() ?? [],
    spend: options.history.snapshot(),
    recent: options.history.recent(),
  });

  const unsubscribe = [
    options.events.on('request.finished', (entry) => {
      if (authed.size === 0) return;
      // With the serving deployment's fresh health, so the spend view's latency and state keep up.
      const deployments = entry.deployment === null ? [] : options.base().deployments.filter((d) => d.id === entry.deployment);
      // With what caching saved on it, so the spend view's "caching saved" moves with each request.
      const saved = options.history.savedOn(entry);
      broadcast({ type: 'request.finished', entry, ...(deployments.length ? { deployments } : {}), ...(saved !== undefined ? { cacheSavedUsd: saved } : {}) });
    }),
    options.events.on('deployment.state', (change) => broadcast({ type: 'deployment.state', change })),
    options.events.on('budget.alert', (alert) => broadcast({ type: 'budget.alert', alert })),
    // A fresh snapshot (it carries the ledger's state) rather than a new message type, which extensions
    // built before it would take for a broken connection; the ledger changes state rarely.
    options.events.on('ledger.state', () => {
      if (authed.size > 0) broadcast({ type: 'snapshot', snapshot: snapshot() });
    }),
    // Team mode's state travels the same way: a fresh snapshot, rarely.
    options.events.on('team.state', () => {
      if (authed.size > 0) broadcast({ type: 'snapshot', snapshot: snapshot() });
    }),
    // Team mode: the same for the team ledger (its state, and the team's month spend read anew).
    options.events.on('team.ledger', () => {
      if (authed.size > 0) broadcast({ type: 'snapshot', snapshot: snapshot() });
    }),
    options.events.on('config.reloaded', (info) => {
      broadcast({ type: 'config.reloaded', groups: info.groups, sandbox: info.sandbox });
      if (authed.size > 0) broadcast({ type: 'snapshot', snapshot: snapshot() });
    }),
  ];

  function accept(ws: WebSocket): void {
    const chats = new Map<string, AbortController>();
    let authenticated = false;
    const closeWith = (code: number, message: string) => {
      send(ws, { type: 'error', message });
      ws.close(code, message.slice(0, 120));
    };
    const timer = setTimeout(() => closeWith(CLOSE_AUTH, 'no hello with a valid token in time'), options.authTimeoutMs ?? AUTH_TIMEOUT_MS);
    timer.unref();
    ws.on('close', () => {
      clearTimeout(timer);
      authed.delete(ws);
      for (const c of chats.values()) c.abort();
    });
    ws.on('error', () => ws.terminate());
    ws.on('message', (data, isBinary) => {
      if (isBinary) return closeWith(CLOSE_INVALID, 'binary frames are not part of the protocol');
      const parsed = parseClientMessage(data.toString());
      if (!parsed.ok) {
        options.log.warn('control channel: invalid message, disconnecting', { error: parsed.error });
        return closeWith(authenticated ? CLOSE_INVALID : CLOSE_AUTH, parsed.error);
      }
      const message = parsed.message;
      if (!authenticated) {
        if (message.type !== 'hello') return closeWith(CLOSE_AUTH, 'the first message must be hello');
        if (!sameDigest(tokenDigest, digest(message.token))) return closeWith(CLOSE_AUTH, 'wrong control token');
        if (message.protocol !== PROTOCOL_VERSION) {
          return closeWith(CLOSE_VERSION, `protocol ${message.protocol} is not supported; this daemon speaks ${PROTOCOL_VERSION}`);
        }
        clearTimeout(timer);
        authenticated = true;
        authed.add(ws);
        options.log.info('control channel: client connected', { client: message.client, version: message.version });
        send(ws, { type: 'welcome', protocol: PROTOCOL_VERSION, version: options.version, pid: process.pid });
        send(ws, { type: 'snapshot', snapshot: snapshot() });
        return;
      }
      handle(ws, message, chats).catch((err: unknown) => {
        options.log.error('control channel: handler failed', { type: message.type, error: err instanceof Error ? err.message : String(err) });
      });
    });
  }

  async function handle(ws: WebSocket, message: ClientMessage, chats: Map<string, AbortController>): Promise<void> {
    const result = (id: string, r: EditResult | string | undefined) => {
      const error = typeof r === 'string' ? r : r !== undefined && !r.ok ? r.message : undefined;
      send(ws, { type: 'result', id, ok: error === undefined, ...(error !== undefined ? { message: error } : {}) });
    };
    switch (message.type) {
      case 'hello':
        return send(ws, { type: 'error', message: 'already authenticated' });
      case 'snapshot.get':
        return send(ws, { type: 'snapshot', snapshot: snapshot() });
      case 'chat.start':
      case 'lm.start': {
        if (chats.has(message.id)) return send(ws, { type: 'chat.error', id: message.id, message: 'a chat with this id is running', cancelled: false });
        const controller = new AbortController();
        chats.set(message.id, controller);
        const deps = { url: options.url, clientKey: options.clientKey, finished: (id: string) => options.history.find(id), send: (m: ServerMessage) => send(ws, m) };
        const run = message.type === 'chat.start' ? runChat(deps, message, controller.signal) : runLm(deps, message, controller.signal);
        await run.finally(() => chats.delete(message.id));
        return;
      }
      case 'chat.cancel':
        chats.get(message.id)?.abort();
        return;
      case 'key.set':
        // Never log the key; the provider name is enough to follow what happened.
        options.log.info(message.key === null ? 'provider key forgotten' : 'provider key set over the control channel', { provider: message.provider });
        return result(message.id, await options.setKey(message.provider, message.key));
      case 'budget.set':
        return result(message.id, await editConfigFile(options.configPath, [budgetLimitEdit(message.budget, message.limitUsd)]));
      case 'strategy.set':
        return result(message.id, await editConfigFile(options.configPath, [strategyEdit(message.strategy, message.group)]));
      case 'config.reload':
        return result(message.id, await options.reload());
    }
  }

  return {
    clients: () => authed.size,
    close() {
      options.server.off('upgrade', onUpgrade);
      for (const off of unsubscribe) off();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}

// Comparing fixed-length digests keeps the comparison constant-time whatever length was presented.
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function sameDigest(a: Buffer, b: Buffer): boolean {
  return timingSafeEqual(a, b);
}
