// Anthropic Messages SSE events -> OpenAI chat.completion.chunk frames. Text deltas become content
// deltas, tool_use blocks become tool_calls (one OpenAI index per tool block, arguments streamed as
// the input JSON arrives), message_delta carries the finish reason, and usage is taken from
// message_start and message_delta together. An `error` event is thrown as an UpstreamError so the
// router fails over (nothing sent yet) or ends the client's stream with an error event.
import { isRecord } from '../../../shared/is-record';
import { streamErrorFailure } from './errors';
import { finishReason } from './stop-reasons';
import { mergeCounts, NO_COUNTS, openaiUsage, toUsage, type AnthropicCounts } from './upstream-response';
import type { StreamTranslator } from '../types';
import type { Usage } from '../../core/usage';
import { UpstreamError } from '../../core/failure';

export class AnthropicStreamTranslator implements StreamTranslator {
  private id = 'msg';
  private model = '';
  private readonly created = Math.floor(Date.now() / 1000);
  private counts: AnthropicCounts = NO_COUNTS;
  private sawUsage = false;
  private finished = false;
  /** Anthropic content block index -> OpenAI tool_calls index. */
  private readonly toolIndex = new Map<number, number>();

  constructor(private readonly clientWantsUsage: boolean) {}

  push(event: { event?: string; data: string }): string[] {
    let data: unknown;
    try {
      data = JSON.parse(event.data);
    } catch {
      return []; // not an Anthropic event; nothing a client could use
    }
    if (!isRecord(data)) return [];
    switch (data.type ?? event.event) {
      case 'message_start': {
        const message = isRecord(data.message) ? data.message : {};
        if (typeof message.id === 'string') this.id = message.id;
        if (typeof message.model === 'string') this.model = message.model;
        this.addUsage(message.usage);
        return [this.chunk({ role: 'assistant', content: '' })];
      }
      case 'content_block_start':
        return this.blockStart(data);
      case 'content_block_delta':
        return this.blockDelta(data);
      case 'message_delta': {
        this.addUsage(data.usage);
        const delta = isRecord(data.delta) ? data.delta : {};
        return [this.chunk({}, finishReason(delta.stop_reason))];
      }
      case 'message_stop':
        this.finished = true;
        return this.clientWantsUsage && this.sawUsage ? [this.frame([], openaiUsage(this.counts))] : [];
      case 'error':
        throw new UpstreamError(streamErrorFailure(event.data));
      default: // ping, content_block_stop, and event types added later
        return [];
    }
  }

  end(): string[] {
    this.finished = true;
    return ['data: [DONE]\n\n'];
  }

  usage(): Usage | undefined {
    return this.sawUsage ? toUsage(this.counts) : undefined;
  }

  done(): boolean {
    return this.finished;
  }

  private blockStart(data: Record<string, unknown>): string[] {
    const block = isRecord(data.content_block) ? data.content_block : {};
    if (block.type === 'text' && typeof block.text === 'string' && block.text !== '') return [this.chunk({ content: block.text })];
    if (block.type !== 'tool_use' || typeof data.index !== 'number') return [];
    const index = this.toolIndex.size;
    this.toolIndex.set(data.index, index);
    return [this.chunk({ tool_calls: [{ index, id: block.id, type: 'function', function: { name: block.name, arguments: '' } }] })];
  }

  private blockDelta(data: Record<string, unknown>): string[] {
    const delta = isRecord(data.delta) ? data.delta : {};
    if (delta.type === 'text_delta' && typeof delta.text === 'string') return [this.chunk({ content: delta.text })];
    if (delta.type === 'input_json_delta' && typeof delta.partial_json === 'string' && typeof data.index === 'number') {
      const index = this.toolIndex.get(data.index);
      if (index === undefined || delta.partial_json === '') return [];
      return [this.chunk({ tool_calls: [{ index, function: { arguments: delta.partial_json } }] })];
    }
    if (delta.type === 'thinking_delta' && typeof delta.thinking === 'string') return [this.chunk({ reasoning_content: delta.thinking })];
    return []; // signature deltas have no OpenAI counterpart
  }

  private addUsage(usage: unknown): void {
    if (!isRecord(usage)) return;
    this.counts = mergeCounts(this.counts, usage);
    this.sawUsage = true;
  }

  private chunk(delta: Record<string, unknown>, finish: string | null = null): string {
    return this.frame([{ index: 0, delta, logprobs: null, finish_reason: finish }]);
  }

  private frame(choices: unknown[], usage?: unknown): string {
    const chunk = { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices, ...(usage ? { usage } : {}) };
    return `data: ${JSON.stringify(chunk)}\n\n`;
  }
}
