// Every HTTP route the daemon serves, in one table. A feature adds its routes by adding lines here
// that point at its own module; server.ts does the guards, method checks and error handling.
import { messages } from '../formats/anthropic/client-answer';
import { chatCompletions } from '../formats/openai/client-answer';
import { explainPlan, listIncidents } from './admin-routes';
import { chatRoute } from './chat-route';
import { countTokensRoute } from './count-tokens-route';
import type { Route } from './route';
import { serveMetrics } from './metrics-route';
import { listModels } from './models-route';
import { sendJson } from './send-json';
import { serveBudgets, serveSpend } from './spend-routes';
import { statusReport } from '../health/status-report';

export const routes: Record<string, Route> = {
  '/v1/chat/completions': chatRoute(chatCompletions),
  '/chat/completions': chatRoute(chatCompletions),
  '/v1/messages': chatRoute(messages),
  '/v1/messages/count_tokens': countTokensRoute,
  '/v1/models': { method: 'GET', handle: listModels },
  '/models': { method: 'GET', handle: listModels },
  '/v1/shepherd/status': { method: 'GET', handle: (ctx) => sendJson(ctx.res, 200, statusReport(ctx.deps.health, ctx.state, ctx.deps)) },
  '/v1/shepherd/plan': { method: 'POST', handle: explainPlan },
  '/v1/shepherd/incidents': { method: 'GET', handle: listIncidents },
  '/v1/shepherd/spend': { method: 'GET', handle: serveSpend },
  '/v1/shepherd/budgets': { method: 'GET', handle: serveBudgets },
  '/metrics': { method: 'GET', handle: serveMetrics },
};
