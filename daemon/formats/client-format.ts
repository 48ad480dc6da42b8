// The wire format the *client* speaks. The router works in OpenAI chat completions inside; a client
// format turns the finished answer, its stream frames and errors into what this client expects.
// OpenAI clients get the upstream's frames untouched; the Anthropic endpoint plugs in its own.
import type { ChatBody, Operation } from '../core/chat';
import type { HttpError } from '../core/http-error';
import type { NativeRequest } from '../core/native';

export interface ClientStreamEncoder {
  /** Complete OpenAI SSE frames ("data: {...}\n\n", possibly several) in; the client's frames out. */
  push(openaiFrames: string): string;
  /** The last OpenAI frames of a stream that ended normally (they include "data: [DONE]"). */
  end(openaiFrames: string): string;
  /** Frames that close a stream which broke after its first byte. */
  error(message: string, type: string, code: string | null): string;
}

export interface ClientFormat {
  readonly name: 'openai' | 'anthropic' | 'responses';
  /** A whole OpenAI chat completion (JSON text) as the client's response body. */
  wholeBody(openaiJson: string): string;
  streamEncoder(): ClientStreamEncoder;
  /** An error response body in the client's shape (always JSON). */
  errorBody(err: HttpError): string;
}

/** Which inbound endpoint a request came through (the ledger's `endpoint`). */
export type EndpointName = 'chat' | 'responses' | 'messages';

/** A request an endpoint accepted: its chat body, and how this one request is answered. */
export interface AcceptedRequest {
  body: ChatBody;
  /** The client format for this request (a Responses answer echoes its request). */
  client: ClientFormat;
  /** Extra headers on every answer to it, e.g. which tools were left out. */
  headers: Record<string, string>;
  /** What of the request was left out (tool types), for the log. */
  dropped: string[];
}

/** An inbound chat endpoint: how its body becomes the router's chat body, and how it is answered. */
export interface ChatEndpoint {
  endpoint?: EndpointName;
  /** Checks the parsed JSON body (throwing an HttpError 400 that names the field) and translates it. */
  parse(json: unknown): ChatBody;
  /** Errors before a request is accepted, and answers when the endpoint has no `accept`. */
  client: ClientFormat;
  /** Endpoints whose answers depend on the request: parse plus a client format of its own. */
  accept?(json: unknown): AcceptedRequest;
  /** The body as the client sent it, for deployments that speak this format (passthrough). */
  native?(json: unknown, headers: Record<string, string | string[] | undefined>): NativeRequest | undefined;
}

/**
 * An inbound endpoint for an operation other than chat (embeddings, completions): its body is kept
 * as the client sent it (`payload`, passed through or translated by the upstream adapter), and a
 * chat-shaped `view` of it is what routing, budgets and estimates read.
 */
export interface OperationEndpoint {
  operation: Exclude<Operation, 'chat'>;
  /** Checks the parsed JSON body (throwing an HttpError 400 that names the field). */
  parse(json: unknown): { view: ChatBody; payload: Record<string, unknown> };
  client: ClientFormat;
}
