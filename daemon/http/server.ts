// The HTTP front door: the routes of routes.ts behind the Host, Origin and local-key checks, plus
// graceful shutdown. No handler may throw past here: every failure becomes an error response.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { TeamStatus } from '../health/status-report';
import type { Socket } from 'node:net';
import type { Cancel } from '../core/cancel';
import type { Metrics } from '../metrics/metrics';
import type { PipelineDeps } from '../pipeline/deps';
import type { Budgets } from '../spend/budgets';
import type { SandboxUpstream } from './sandbox-routes';
import type { TeamLedger } from '../spend/team-ledger';
import { HttpError, sendError } from '../core/http-error';
import { answerClientError } from './client-error';
import { checkApiKey, checkHost, checkOrigin } from './guard';
import { ShutdownAbort } from '../core/abort';
import { routeFor } from './routes';
import { sendJson } from './send-json';

/** The pipeline's dependencies plus what the front door's own routes read. */
export interface GatewayDeps extends PipelineDeps {
  /** Budget states and spend by day, for /v1/shepherd/budgets and /v1/shepherd/spend. */
  budgets?: Budgets;
  /** Prometheus metrics, for /metrics. */
  metrics?: Metrics;
  version: string;
  startedAt: Date;
  /** The embedded sandbox upstreams while the daemon serves them (status, fault scripting). */
  sandboxUpstreams?: () => readonly SandboxUpstream[];
  /** Team mode: the team state for the status report ("degraded" while Redis is unreachable). */
  team?: () => TeamStatus;
  /** Team mode: the PostgreSQL ledger (its state in the status, the team's spend for ?scope=team). */
  teamLedger?: TeamLedger;
}

export interface Gateway {
  server: Server;
  /** Stops accepting, lets in-flight requests finish for up to graceMs, then ends the rest with an error. */
  shutdown(graceMs: number): Promise<void>;
  inflight(): number;
}

export function createGateway(deps: GatewayDeps): Gateway {
  const active = new Set<Cancel>();
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
  // Malformed HTTP never reaches a handler; answer it (client-error.ts) and drop the socket instead of crashing.
  server.on('clientError', answerClientError);
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
  active: Set<Cancel>,
): Promise<void> {
  const state = deps.current();
  // Every answer carries the request's id, refusals included (SDKs show it as request_id); a chat
  // request keeps it as its ledger line's id.
  const requestId = `shep-${randomUUID()}`;
  res.setHeader('x-request-id', requestId);
  const url = new URL(req.url ?? '/', 'http://shepherd.local');
  const path = url.pathname;
  let corsOrigin: string | null = null;
  let errorBody: ((err: HttpError) => string) | undefined;
  try {
    checkHost(req, state.config.server);
    corsOrigin = checkOrigin(req, state.config.server);
    if (corsOrigin) {
      res.setHeader('access-control-allow-origin', corsOrigin);
      res.setHeader('vary', 'Origin');
    }
    if (req.method === 'OPTIONS' && corsOrigin) return preflight(res);
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    const route = routeFor(path);
    errorBody = route?.errorBody;
    const clientKeyId = checkApiKey(req, state.clientKeys);
    if (!route) throw new HttpError(404, `no route for ${req.method} ${path}`, 'not_found_error', 'unknown_route');
    requireMethod(req, route.method);
    const track = (cancel: Cancel) => {
      active.add(cancel);
      return () => active.delete(cancel);
    };
    const member = (clientKeyId !== undefined ? state.memberKeys.get(clientKeyId) : undefined) ?? state.member;
    await route.handle({ deps, state, req, res, url, clientKeyId, member, track, requestId });
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    // Drain what is left of an unread body so the connection stays usable (unless told to close).
    if (!req.complete && err.headers.connection !== 'close') req.resume();
    sendError(res, err, {}, errorBody?.(err));
  }
}

function requireMethod(req: IncomingMessage, method: string): void {
  if (req.method !== method) {
    throw new HttpError(405, `${req.url} accepts ${method}, not ${req.method}`, 'invalid_request_error', 'method_not_allowed', null, { allow: method });
  }
}

function preflight(res: ServerResponse): void {
  res.writeHead(204, {
    'access-control-allow-methods': 'GET, POST, OPTIONS',
    'access-control-allow-headers':
      'authorization, content-type, x-api-key, openai-organization, openai-project, anthropic-version, anthropic-beta',
    'access-control-max-age': '600',
  });
  res.end();
}
