// The seam between the router and one upstream wire format. The router speaks OpenAI chat
// completions internally; an adapter turns that into its provider's request and turns the
// provider's answers, stream events and errors back into OpenAI shapes. Adding a provider means
// adding one module that implements ProviderAdapter (see openai-compatible.ts).
import type { ProviderConfig } from '../../shared/config';
import type { ChatBody, Operation } from '../core/chat';
import type { NativeRequest } from '../core/native';
import type { UpstreamFailure } from '../core/failure';
import type { UpstreamTarget } from '../core/target';
import type { Usage } from '../core/usage';

/** `B` widens to bytes for a passthrough (the client's body, spliced); adapters build JSON text. */
export interface UpstreamHttpRequest<B extends string | Uint8Array = string> {
  method: 'GET' | 'POST';
  /** Path appended to the provider's baseUrl path, e.g. "/chat/completions". */
  path: string;
  headers: Record<string, string>;
  body?: B;
}

export interface StreamOptions {
  /** The client asked for stream_options.include_usage and must receive the usage chunk. */
  clientWantsUsage: boolean;
  /** What is streamed: chat chunks (the default) or text-completion chunks. */
  operation?: Operation;
}

/** Turns upstream stream events into the SSE frames the client receives. */
export interface StreamTranslator {
  /** One upstream SSE event in; zero or more complete SSE frames ("data: ...\n\n") out. */
  push(event: { event?: string; data: string }): string[];
  /** Frames to send when the upstream stream ended normally (e.g. "data: [DONE]\n\n"). */
  end(): string[];
  /** Usage seen so far, if the upstream reported any. */
  usage(): Usage | undefined;
  /** True once the upstream has sent its terminal event. */
  done(): boolean;
}

export interface ProviderAdapter {
  readonly type: ProviderConfig['type'];
  /** The upstream request for a chat completion; streaming requests ask the upstream for usage. */
  chatRequest(target: UpstreamTarget, body: ChatBody): UpstreamHttpRequest;
  /** A non-streaming upstream answer (status 2xx) as the OpenAI JSON text to return, plus usage. */
  parseChatResponse(text: string): { body: string; usage: Usage | undefined };
  streamTranslator(options: StreamOptions): StreamTranslator;
  /** Verdict on a non-2xx upstream answer. */
  classifyStatus(status: number, headers: Record<string, string | string[] | undefined>, bodyText: string): UpstreamFailure;
  /** A request that costs no tokens and tells whether the upstream is reachable (model list). */
  probeRequest(target: UpstreamTarget): UpstreamHttpRequest;
  // Operations beyond chat: an adapter without them cannot serve them (routing/catalog.ts keeps its
  // deployments out of such plans). `payload` is the client's OpenAI request body, as sent.
  /** POST /v1/embeddings as this provider's request. */
  embeddingsRequest?(target: UpstreamTarget, payload: Record<string, unknown>): UpstreamHttpRequest;
  /** A 2xx embeddings answer as OpenAI's embeddings JSON text, plus usage (prompt tokens). */
  parseEmbeddings?(text: string, payload: Record<string, unknown>): { body: string; usage: Usage | undefined };
  /** POST /v1/completions (with `suffix` for fill-in-the-middle) as this provider's request; streams are relayed by streamTranslator (with operation "completions"). */
  completionsRequest?(target: UpstreamTarget, payload: Record<string, unknown>): UpstreamHttpRequest;
  /** A 2xx completions answer as OpenAI's text_completion JSON text; parseChatResponse when absent. */
  parseCompletions?(text: string): { body: string; usage: Usage | undefined };
  /** Set when this upstream speaks a client format natively: such requests pass through unchanged. */
  passthrough?: Passthrough;
}

/** Reads a native stream's usage, end and errors while its bytes go to the client unchanged. */
export interface NativeStreamReader {
  /** Whether push needs the event of this name (SSE `event:` line, undefined without one): others are never decoded. */
  wants(name: string | undefined): boolean;
  /** One upstream SSE event it wants; throws an UpstreamError for an error event. */
  push(event: { event?: string; data: string }): void;
  usage(): Usage | undefined;
  /** True once the upstream sent its terminal event. */
  done(): boolean;
}

/** Same format on both sides: the client's body goes upstream unchanged but for `model`. */
export interface Passthrough {
  readonly format: NativeRequest['format'];
  /** Whether this deployment's provider speaks the format (e.g. `responsesApi`); always when absent. */
  serves?(target: UpstreamTarget): boolean;
  /** `path` defaults to the format's chat path (e.g. /messages); count_tokens uses its own. */
  request(target: UpstreamTarget, native: NativeRequest, path?: string): UpstreamHttpRequest<string | Uint8Array>;
  /** Usage of a whole 2xx answer, read from its bytes; throws SyntaxError when it is not one. */
  wholeUsage(bytes: Uint8Array): Usage | undefined;
  streamReader(): NativeStreamReader;
}
