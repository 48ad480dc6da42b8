// The chat request as the router works on it inside: the client's OpenAI chat-completions body.

/** The client's OpenAI chat-completions body, parsed once; fields Shepherd does not read pass through. */
export interface ChatBody {
  model: string;
  messages: unknown[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean } & Record<string, unknown>;
  [field: string]: unknown;
}
