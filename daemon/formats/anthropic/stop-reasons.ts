// Anthropic's stop_reason and OpenAI's finish_reason, both directions, side by side: the upstream
// adapter reads one way, the /v1/messages client side and the sandbox write the other.

/** Anthropic stop_reason -> OpenAI finish_reason. */
const TO_FINISH: Record<string, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

/** OpenAI finish_reason -> Anthropic stop_reason. */
const TO_STOP: Record<string, string> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  content_filter: 'refusal',
};

export function finishReason(stopReason: unknown): string {
  return typeof stopReason === 'string' ? (TO_FINISH[stopReason] ?? 'stop') : 'stop';
}

export function stopReason(finish: unknown): string {
  return typeof finish === 'string' ? (TO_STOP[finish] ?? 'end_turn') : 'end_turn';
}
