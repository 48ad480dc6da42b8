// Every HTTP route the daemon serves, in one table. A feature adds its routes by adding lines here
// that point at its own module; gateway.ts does the guards, method checks and error handling.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Cancel } from '../core/cancel';
import { explainPlan, listIncidents } from './admin-routes';
import { anthropicClient } from '../formats/anthropic/client-answer';
import { handleAnthropicMessages } from './messages-endpoint';
import { handleChatCompletions } from './chat-endpoint';
import type { HttpError } from '../core/http-error';
import type { ConfigSnapshot } from '../config/snapshot';
import type { GatewayDeps } from './server';
import { serveMetrics } from './metrics-route';
import { listModels } from './models-route';
import { sendJson } from './send-json';
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
}

export interface Route {
  method: 'GET' | 'POST';
  handle(ctx: RouteContext): Promise<void> | void;
  /** Error body in this route's wire format (e.g. Anthropic's); OpenAI's shape by default. */
  errorBody?: (err: HttpError) => string;
}

export const routes: Record<string, Route> = {
  '/v1/chat/completions': { method: 'POST', handle: handleChatCompletions },
  '/v1/messages': { method: 'POST', handle: handleAnthropicMessages, errorBody: anthropicClient.errorBody },
  '/chat/completions': { method: 'POST', handle: handleChatCompletions },
  '/v1/models': { method: 'GET', handle: listModels },
  '/models': { method: 'GET', handle: listModels },
  '/v1/shepherd/status': { method: 'GET', handle: (ctx) => sendJson(ctx.res, 200, statusReport(ctx.deps.health, ctx.state, ctx.deps)) },
  '/v1/shepherd/plan': { method: 'POST', handle: explainPlan },
  '/v1/shepherd/incidents': { method: 'GET', handle: listIncidents },
  '/v1/shepherd/spend': { method: 'GET', handle: serveSpend },
  '/v1/shepherd/budgets': { method: 'GET', handle: serveBudgets },
  '/metrics': { method: 'GET', handle: serveMetrics },
};
