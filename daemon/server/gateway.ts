// The HTTP front door: OpenAI-compatible routes plus liveness and status, behind the Host, Origin
// and local-key checks. No handler may throw past here: every failure becomes an error response.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ShepherdConfig } from '../../shared/config';
import type { LedgerEntry } from '../../shared/ledger';
import type { StatusBoard } from '../health/status';
import type { Logger } from '../log';
import type { Upstreams } from '../providers/upstream';
import { listModelNames, type Catalog } from '../routing/catalog';
import { planRoute } from '../routing/plan';
import { readJsonBody } from './body';
import { HttpError, sendError } from './errors';
import { checkApiKey, checkHost, checkOrigin } from './guard';
import { recordRefusal, relayChat, ShutdownAbort } from './relay';
import { parseChatRequest } from './validate';

/** Everything a request needs that can change on config reload, swapped as one object. */
export interface GatewayState {
  config: ShepherdConfig;
  catalog: Catalog;
  sandbox: boolean;
  /** Local API keys clients must present; empty = none required. */
  clientKeys: string[];
}

export interface GatewayDeps {
  current(): GatewayState;
  upstreams: Upstreams;
  ledger: { append(entry: LedgerEntry): Promise<void> };
  status: StatusBoard;
  log: Logger;
  version: string;
  startedAt: Date;
}

export interface Gateway {
  server: Server;
  /** Stops accepting, lets in-flight requests finish for up to graceMs, then ends the rest with an error. */
  shutdown(graceMs: number): Promise<void>;
  inflight(): number;
}

export function createGateway(deps: GatewayDeps): Gateway {
  const active = new Set<AbortController>();
  const sockets = new Set<Socket>();
  let idleWaiters: (() => void)[] = [];

  const server = createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
    handle(deps, req, res, active)
      .catch((err: unknown) => {
        deps.log.error('request handler failed', { error: err instanceof Error ? err.stack ?? err.message : String(err) });
        sendError(res, new HttpError(500, 'internal error in Shepherd; see its log', 'api_error', 'internal_error'));
      })
      .finally(() => {
        if (active.size === 0) {
          for (const wake of idleWaiters) wake();
          idleWaiters = [];
        }
      });
  });
  // Malformed HTTP never reaches a handler; answer it and drop the socket instead of crashing.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (socket.writable && err.code !== 'ECONNRESET') {
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    }
    socket.destroy();
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  return {
    server,
    inflight: () => active.size,
    async shutdown(graceMs: number) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (active.size > 0) {
        await Promise.race([
          new Promise<void>((resolve) => idleWaiters.push(resolve)),
          new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref()),
        ]);
      }
      for (const controller of active) controller.abort(new ShutdownAbort('shutting down'));
      if (active.size > 0) await new Promise<void>((resolve) => idleWaiters.push(resolve));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

async function handle(
  deps: GatewayDeps,
  req: IncomingMessage,
  res: ServerResponse,
  active: Set<AbortController>,
): Promise<void> {
  const state = deps.current();
  const path = (req.url ?? '/').split('?', 1)[0];
  let corsOrigin: string | null = null;
  try {
    checkHost(req, state.config.server);
    corsOrigin = checkOrigin(req, state.config.server);
    if (corsOrigin) {
      res.setHeader('access-control-allow-origin', corsOrigin);
      res.setHeader('vary', 'Origin');
    }
    if (req.method === 'OPTIONS' && corsOrigin) return preflight(res);
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    checkApiKey(req, state.clientKeys);

    if (path === '/v1/chat/completions' || path === '/chat/completions') {
      requireMethod(req, 'POST');
      return await handleChat(deps, state, req, res, active);
    }
    if (path === '/v1/models' || path === '/models') {
      requireMethod(req, 'GET');
      return sendJson(res, 200, modelList(state, deps.startedAt));
    }
    if (path === '/v1/shepherd/status') {
      requireMethod(req, 'GET');
      return sendJson(res, 200, statusReport(deps, state));
    }
    throw new HttpError(404, `no route for ${req.method} ${path}`, 'not_found_error', 'unknown_route');
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    // Drain what is left of an unread body so the connection stays usable (unless told to close).
    if (!req.complete && err.headers.connection !== 'close') req.resume();
    sendError(res, err);
  }
}

async function handleChat(
  deps: GatewayDeps,
  state: GatewayState,
  req: IncomingMessage,
  res: ServerResponse,
  active: Set<AbortController>,
): Promise<void> {
  const receivedAt = performance.now();
  const body = parseChatRequest(await readJsonBody(req, state.config.server.bodyLimitBytes));
  const id = `shep-${randomUUID()}`;
  const planned = planRoute(state.catalog, body.model);
  if (!planned.ok) {
    const headers = { 'x-request-id': id };
    const error =
      planned.reason === 'unknown_model'
        ? new HttpError(404, planned.message, 'invalid_request_error', 'model_not_found', 'model', headers)
        : new HttpError(503, planned.message, 'api_error', 'no_deployment', null, headers);
    await recordRefusal(deps, { id, receivedAt, body }, planned.reason === 'no_deployment' ? planned.group : null, error);
    throw error;
  }
  const controller = new AbortController();
  active.add(controller);
  // A client that goes away cancels the upstream call at once: no orphaned generation keeps billing.
  const onClose = () => {
    if (!res.writableFinished) controller.abort(new Error('client closed the request'));
  };
  res.on('close', onClose);
  try {
    await relayChat(deps, req, res, { id, receivedAt, body, plan: planned.plan }, controller.signal);
  } finally {
    res.off('close', onClose);
    active.delete(controller);
  }
}

function modelList(state: GatewayState, startedAt: Date) {
  const created = Math.floor(startedAt.getTime() / 1000);
  return {
    object: 'list',
    data: listModelNames(state.catalog).map((m) => ({
      id: m.id,
      object: 'model',
      created,
      owned_by: state.sandbox ? 'shepherd-sandbox' : 'shepherd',
      ...(m.alias ? { alias_of: m.group } : {}),
    })),
  };
}

function statusReport(deps: GatewayDeps, state: GatewayState) {
  const deployments = [];
  for (const group of state.catalog.groups.values()) {
    for (const d of group.deployments) {
      const s = deps.status.get(d.id);
      deployments.push({
        id: d.id,
        group: group.name,
        provider: d.providerName,
        model: d.upstreamModel,
        region: d.region ?? null,
        sandbox: d.sandbox,
        available: d.unavailable === undefined,
        ...(d.unavailable ? { unavailableReason: d.unavailable } : {}),
        state: s.state,
        requests: s.requests,
        failures: s.failures,
        consecutiveFailures: s.consecutiveFailures,
        lastLatencyMs: s.lastLatencyMs ?? null,
        lastSuccessAt: s.lastSuccessAt ?? null,
        lastFailureAt: s.lastFailureAt ?? null,
        lastError: s.lastError ?? null,
      });
    }
  }
  return {
    name: 'shepherd',
    version: deps.version,
    sandbox: state.sandbox,
    startedAt: deps.startedAt.toISOString(),
    uptimeSeconds: Math.round((Date.now() - deps.startedAt.getTime()) / 1000),
    groups: [...state.catalog.groups.keys()],
    deployments,
  };
}

function requireMethod(req: IncomingMessage, method: string): void {
  if (req.method !== method) {
    throw new HttpError(405, `${req.url} accepts ${method}, not ${req.method}`, 'invalid_request_error', 'method_not_allowed', null, { allow: method });
  }
}

function preflight(res: ServerResponse): void {
  res.writeHead(204, {
    'access-control-allow-methods': 'GET, POST, OPTIONS',
    'access-control-allow-headers': 'authorization, content-type, x-api-key, openai-organization, openai-project',
    'access-control-max-age': '600',
  });
  res.end();
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
