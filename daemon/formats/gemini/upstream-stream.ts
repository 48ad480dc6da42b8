// Gemini streamGenerateContent (alt=sse) -> OpenAI chat.completion.chunk frames. Each Gemini event is
// a whole GenerateContentResponse carrying the next piece of text, complete function calls (Gemini
// does not stream arguments), and on the last one the finish reason; usageMetadata grows as it goes,
// so the last one seen is the answer's usage. Gemini sends no terminal event: the stream just ends.
import { isRecord } from '../../../shared/is-record';
import { geminiFailure } from './errors';
import { blockedReason, candidateParts, candidatesOf, finishReason, openaiUsage, readUsage } from './upstream-response';
import type { StreamTranslator } from '../types';
import type { Usage } from '../../core/usage';
import { UpstreamError } from '../../core/failure';

export class GeminiStreamTranslator implements StreamTranslator {
  private id = '';
  private model = '';
  private readonly created = Math.floor(Date.now() / 1000);
  private seenUsage: Usage | undefined;
  private readonly started = new Set<number>();
  private readonly toolCount = new Map<number, number>(); // candidate index -> tool calls so far
  private finished = false;

  constructor(private readonly clientWantsUsage: boolean) {}

  push(event: { event?: string; data: string }): string[] {
    let data: unknown;
    try {
      data = JSON.parse(event.data);
    } catch {
      return [];
    }
    if (!isRecord(data)) return [];
    if (isRecord(data.error)) throw new UpstreamError(geminiFailure(0, {}, event.data));
    if (typeof data.responseId === 'string' && this.id === '') this.id = data.responseId;
    if (typeof data.modelVersion === 'string') this.model = data.modelVersion;
    this.seenUsage = readUsage(data) ?? this.seenUsage;
    const frames: string[] = [];
    const candidates = candidatesOf(data);
    if (candidates.length === 0 && blockedReason(data, undefined)) {
      // The prompt itself was blocked: one closing chunk that says so.
      frames.push(...this.opening(0), this.chunk(0, { refusal: blockedReason(data, undefined) }, 'content_filter'));
      this.finished = true;
    }
    candidates.forEach((candidate, i) => {
      const index = typeof candidate.index === 'number' ? candidate.index : i;
      frames.push(...this.opening(index));
      const { text, calls } = candidateParts(candidate);
      if (text !== '') frames.push(this.chunk(index, { content: text }));
      if (calls.length > 0) {
        const before = this.toolCount.get(index) ?? 0;
        this.toolCount.set(index, before + calls.length);
        const toolCalls = calls.map((c, k) => ({ index: before + k, id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } }));
        frames.push(this.chunk(index, { tool_calls: toolCalls }));
      }
      const finish = finishReason(candidate.finishReason, (this.toolCount.get(index) ?? 0) > 0);
      if (finish) {
        const blocked = blockedReason(data, candidate);
        frames.push(this.chunk(index, blocked ? { refusal: blocked } : {}, finish));
        this.finished = true;
      }
    });
    return frames;
  }

  end(): string[] {
    this.finished = true;
    const usage = this.clientWantsUsage && this.seenUsage ? [this.frame([], openaiUsage(this.seenUsage))] : [];
    return [...usage, 'data: [DONE]\n\n'];
  }

  usage(): Usage | undefined {
    return this.seenUsage;
  }

  done(): boolean {
    return this.finished;
  }

  private opening(index: number): string[] {
    if (this.started.has(index)) return [];
    this.started.add(index);
    return [this.chunk(index, { role: 'assistant', content: '' })];
  }

  private chunk(index: number, delta: Record<string, unknown>, finish: string | null = null): string {
    return this.frame([{ index, delta, logprobs: null, finish_reason: finish }]);
  }

  private frame(choices: unknown[], usage?: unknown): string {
    const chunk = { id: this.id || 'gemini', object: 'chat.completion.chunk', created: this.created, model: this.model, choices, ...(usage ? { usage } : {}) };
    return `data: ${JSON.stringify(chunk)}\n\n`;
  }
}
