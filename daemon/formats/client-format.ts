// The wire format the *client* speaks. The router works in OpenAI chat completions inside; a client
// format turns the finished answer, its stream frames and errors into what this client expects.
// OpenAI clients get the upstream's frames untouched; the Anthropic endpoint plugs in its own.
import type { ChatBody } from '../core/chat';
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
  readonly name: 'openai' | 'anthropic';
  /** A whole OpenAI chat completion (JSON text) as the client's response body. */
  wholeBody(openaiJson: string): string;
  streamEncoder(): ClientStreamEncoder;
  /** An error response body in the client's shape (always JSON). */
  errorBody(err: HttpError): string;
}

/** An inbound chat endpoint: how its body becomes the router's chat body, and how it is answered. */
export interface ChatEndpoint {
  /** Checks the parsed JSON body (throwing an HttpError 400 that names the field) and translates it. */
  parse(json: unknown): ChatBody;
  client: ClientFormat;
  /** The body as the client sent it, for deployments that speak this format (passthrough). */
  native?(json: unknown, headers: Record<string, string | string[] | undefined>): NativeRequest | undefined;
}
