// The chat request as the router works on it inside: the client's OpenAI chat-completions body.

/** The client's OpenAI chat-completions body, parsed once; fields Shepherd does not read pass through. */
export interface ChatBody {
  model: string;
  messages: unknown[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean } & Record<string, unknown>;
  [field: string]: unknown;
}

/**
 * What a request asks of the upstream. Chat is the router's own shape; embeddings and completions
 * carry the client's body as it came (Arrival.payload) with a chat-shaped view of it for routing,
 * budgets and estimates.
 */
export type Operation = 'chat' | 'embeddings' | 'completions';
