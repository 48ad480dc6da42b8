// Every HTTP route the daemon serves, in one table. A feature adds its routes by adding lines here
// that point at its own module; gateway.ts does the guards, method checks and error handling.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Cancel } from '../core/cancel';
import { messages } from '../formats/anthropic/client-answer';
import { chatCompletions } from '../formats/openai/client-answer';
import { explainPlan, listIncidents } from './admin-routes';
import { chatRoute } from './chat-route';
import type { HttpError } from '../core/http-error';
import type { ConfigSnapshot } from '../config/snapshot';
import type { GatewayDeps } from './server';
import { serveMetrics } from './metrics-route';
import { listModels } from './models-route';
import { serveBudgets, serveSpend } from './spend-routes';
import { statusReport } from '../health/status-report';

export interface RouteContext {
  deps: GatewayDeps;
  /** The config, catalog and keys as they were when this request arrived. */
  state: ConfigSnapshot;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Label of the local API key presented, when keys are in use. */
  clientKeyId: string | undefined;
  /** Registers a long-running request so shutdown can wait for it or cancel it; call the result when done. */
  track(cancel: Cancel): () => void;
  /** The id sent as x-request-id on every answer. */
  requestId: string;
}

export interface Route {
  method: 'GET' | 'POST';
  handle(ctx: RouteContext): Promise<void> | void;
  /** Error body in this route's wire format (e.g. Anthropic's); OpenAI's shape by default. */
  errorBody?: (err: HttpError) => string;
}

export const routes: Record<string, Route> = {
  '/v1/chat/completions': chatRoute(chatCompletions),
  '/chat/completions': chatRoute(chatCompletions),
  '/v1/messages': chatRoute(messages),
  '/v1/models': { method: 'GET', handle: listModels },
  '/models': { method: 'GET', handle: listModels },
  '/v1/shepherd/status': { method: 'GET', handle: (ctx) => sendJson(ctx.res, 200, statusReport(ctx.deps.health, ctx.state, ctx.deps)) },
  '/v1/shepherd/plan': { method: 'POST', handle: explainPlan },
  '/v1/shepherd/incidents': { method: 'GET', handle: listIncidents },
  '/v1/shepherd/spend': { method: 'GET', handle: serveSpend },
  '/v1/shepherd/budgets': { method: 'GET', handle: serveBudgets },
  '/metrics': { method: 'GET', handle: serveMetrics },
};

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
