// Token counts of one answer, as every wire format reports them once normalised.

/** Token counts as the upstream reported them. */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
  cachedTokens?: number;
  /** The part of completionTokens spent on reasoning, when the upstream says. */
  reasoningTokens?: number;
}
