// Token counts of one answer, as every wire format reports them once normalised.

/** Token counts as the upstream reported them. */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
  /** The part of promptTokens read from a prompt cache. */
  cachedTokens?: number;
  /** The part of promptTokens written to a prompt cache (Anthropic bills these above the input price). */
  cacheWriteTokens?: number;
  /** The part of cacheWriteTokens written for an hour rather than 5 minutes (Anthropic bills these at 2x input). */
  cacheWrite1hTokens?: number;
  /** The part of completionTokens spent on reasoning, when the upstream says. */
  reasoningTokens?: number;
}
