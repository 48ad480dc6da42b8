// A held answer as the checks read it (routing/cascade/answer.ts): from a whole OpenAI chat completion
// or from all the OpenAI stream frames of one. The first choice only: that is what clients show.
import type { CheckedAnswer, ToolCallSeen } from '../../routing/cascade/answer';

export function answerFromWhole(json: string): CheckedAnswer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return { content: '', finishReason: null, toolCalls: [] };
  }
  const root = record(parsed);
  const choice = record(Array.isArray(root.choices) ? root.choices[0] : undefined);
  const message = record(choice.message);
  const toolCalls: ToolCallSeen[] = [];
  if (Array.isArray(message.tool_calls)) {
    for (const call of message.tool_calls) {
      const fn = record(record(call).function);
      if (typeof fn.name === 'string') toolCalls.push({ name: fn.name, arguments: typeof fn.arguments === 'string' ? fn.arguments : '' });
    }
  }
  const usage = record(root.usage);
  return {
    content: typeof message.content === 'string' ? message.content : '',
    finishReason: typeof choice.finish_reason === 'string' ? choice.finish_reason : null,
    toolCalls,
    ...(typeof usage.completion_tokens === 'number' ? { completionTokens: usage.completion_tokens } : {}),
  };
}

export function answerFromFrames(frames: string): CheckedAnswer {
  let content = '';
  let finishReason: string | null = null;
  let completionTokens: number | undefined;
  const calls = new Map<number, ToolCallSeen>();
  for (const line of frames.split('\n')) {
    if (!line.startsWith('data:')) continue;
    const data = line.slice(5).trim();
    if (data === '' || data === '[DONE]') continue;
    let chunk: Record<string, unknown>;
    try {
      chunk = record(JSON.parse(data));
    } catch {
      continue;
    }
    const usage = record(chunk.usage);
    if (typeof usage.completion_tokens === 'number') completionTokens = usage.completion_tokens;
    const choice = record(Array.isArray(chunk.choices) ? chunk.choices[0] : undefined);
    if (typeof choice.finish_reason === 'string') finishReason = choice.finish_reason;
    const delta = record(choice.delta);
    if (typeof delta.content === 'string') content += delta.content;
    if (Array.isArray(delta.tool_calls)) {
      for (const raw of delta.tool_calls) {
        const part = record(raw);
        const index = typeof part.index === 'number' ? part.index : 0;
        const fn = record(part.function);
        const call = calls.get(index) ?? { name: '', arguments: '' };
        if (typeof fn.name === 'string') call.name += fn.name;
        if (typeof fn.arguments === 'string') call.arguments += fn.arguments;
        calls.set(index, call);
      }
    }
  }
  return { content, finishReason, toolCalls: [...calls.values()], ...(completionTokens !== undefined ? { completionTokens } : {}) };
}

function record(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
