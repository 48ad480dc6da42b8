// What a route is: a method, a handler that gets the request with the snapshot it arrived under, and
// the error shape of its wire format.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Cancel } from '../core/cancel';
import type { HttpError } from '../core/http-error';
import type { ConfigSnapshot } from '../config/snapshot';
import type { GatewayDeps } from './server';

export interface RouteContext {
  deps: GatewayDeps;
  /** The config, catalog and keys as they were when this request arrived. */
  state: ConfigSnapshot;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Label of the local API key presented, when keys are in use. */
  clientKeyId: string | undefined;
  /** Team mode: the member the request belongs to (by its key, else the daemon's own member). */
  member: string | undefined;
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
