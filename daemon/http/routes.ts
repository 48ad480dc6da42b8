// Every HTTP route the daemon serves, in one table. A feature adds its routes by adding lines here
// that point at its own module; server.ts does the guards, method checks and error handling.
import { messages } from '../formats/anthropic/client-answer';
import { chatCompletions } from '../formats/openai/client-answer';
import { responses } from '../formats/openai/responses-answer';
import { explainPlan, listIncidents } from './admin-routes';
import { chatRoute, operationRoute } from './chat-route';
import { completions, embeddings } from '../formats/openai/operation-request';
import { MODEL_PATH_PREFIXES, retrieveModel } from './model-route';
import { countTokensRoute } from './count-tokens-route';
import type { Route } from './route';
import { serveMetrics } from './metrics-route';
import { listModels } from './models-route';
import { sendJson } from './send-json';
import { serveBudgets, serveSpend } from './spend-routes';
import { scriptSandboxFaults } from './sandbox-routes';
import { statusReport } from '../health/status-report';

export const routes: Record<string, Route> = {
  '/v1/chat/completions': chatRoute(chatCompletions),
  '/chat/completions': chatRoute(chatCompletions),
  '/v1/messages': chatRoute(messages),
  '/v1/responses': chatRoute(responses),
  '/responses': chatRoute(responses),
  '/v1/messages/count_tokens': countTokensRoute,
  '/v1/models': { method: 'GET', handle: listModels },
  '/models': { method: 'GET', handle: listModels },
  '/v1/shepherd/status': { method: 'GET', handle: (ctx) => sendJson(ctx.res, 200, statusReport(ctx.deps.health, ctx.state, ctx.deps)) },
  '/v1/shepherd/plan': { method: 'POST', handle: explainPlan },
  '/v1/shepherd/incidents': { method: 'GET', handle: listIncidents },
  '/v1/shepherd/spend': { method: 'GET', handle: serveSpend },
  '/v1/shepherd/budgets': { method: 'GET', handle: serveBudgets },
  '/v1/shepherd/sandbox/faults': { method: 'POST', handle: scriptSandboxFaults },
  '/metrics': { method: 'GET', handle: serveMetrics },
  '/v1/embeddings': operationRoute(embeddings),
  '/embeddings': operationRoute(embeddings),
  '/v1/completions': operationRoute(completions),
  '/completions': operationRoute(completions),
};

const modelRoute: Route = { method: 'GET', handle: retrieveModel };

/** The route for a path: an exact entry of `routes`, or GET /v1/models/{id}. */
export function routeFor(path: string): Route | undefined {
  if (Object.hasOwn(routes, path)) return routes[path];
  return MODEL_PATH_PREFIXES.some((p) => path.startsWith(p) && path.length > p.length) ? modelRoute : undefined;
}
