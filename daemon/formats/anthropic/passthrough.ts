// Anthropic -> Anthropic: the client's Messages body goes upstream unchanged apart from `model`, with
// its anthropic-beta (merged with the provider's) and anthropic-version headers, and the answer comes
// back byte for byte: thinking blocks and their signatures, server-tool blocks, cache usage and
// whatever Anthropic adds next. Shepherd only reads what it needs: usage, errors, the stream's end.
import { isRecord } from '../../../shared/is-record';
import type { NativeRequest } from '../../core/native';
import type { UpstreamTarget } from '../../core/target';
import type { Usage } from '../../core/usage';
import { UpstreamError } from '../../core/failure';
import { decodeSpan, trailingObject } from '../json-scan';
import { nativeBody } from '../native-body';
import { streamErrorFailure } from './errors';
import { mergeCounts, NO_COUNTS, toUsage, type AnthropicCounts } from './upstream-response';
import type { NativeStreamReader, Passthrough, UpstreamHttpRequest } from '../types';

const VERSION = '2023-06-01';

export const anthropicPassthrough: Passthrough = {
  format: 'anthropic',

  request(target: UpstreamTarget, native: NativeRequest, path = '/messages'): UpstreamHttpRequest<string | Uint8Array> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: native.body.stream === true ? 'text/event-stream' : 'application/json',
      'anthropic-version': native.headers['anthropic-version'] ?? target.provider.anthropicVersion ?? VERSION,
    };
    if (target.provider.headers) Object.assign(headers, target.provider.headers);
    const beta = mergeBeta(headerValue(target.provider.headers, 'anthropic-beta'), native.headers['anthropic-beta']);
    if (beta) headers['anthropic-beta'] = beta;
    // The client's version wins over a provider default, but a provider that pins one keeps it.
    const pinned = headerValue(target.provider.headers, 'anthropic-version');
    if (pinned) headers['anthropic-version'] = pinned;
    if (target.apiKey) headers['x-api-key'] = target.apiKey;
    return { method: 'POST', path, headers, body: nativeBody(native, target.upstreamModel) };
  },

  wholeUsage(bytes: Uint8Array): Usage | undefined {
    // Anthropic writes `usage` last: read it there, and parse the whole message only when it is not.
    // A message with usage is not an error object (those carry none).
    const at = trailingObject(bytes, 'usage');
    if (!at) return usageOfParsed(JSON.parse(new TextDecoder().decode(bytes)));
    const usage: unknown = JSON.parse(decodeSpan(bytes, at));
    return isRecord(usage) ? toUsage(mergeCounts(NO_COUNTS, usage)) : undefined;
  },

  streamReader(): NativeStreamReader {
    return new AnthropicStreamReader();
  },
};

// The events that carry usage, the end or an error; deltas pass unread.
const READ = new Set(['message_start', 'message_delta', 'message_stop', 'error']);

/** Reads usage and the end from Anthropic SSE events without producing anything. */
class AnthropicStreamReader implements NativeStreamReader {
  private counts: AnthropicCounts = NO_COUNTS;
  private sawUsage = false;
  private finished = false;

  wants(name: string | undefined): boolean {
    return name !== undefined && READ.has(name);
  }

  push(event: { event?: string; data: string }): void {
    const type = event.event;
    if (type === 'message_start' || type === 'message_delta') {
      const data = parse(event.data);
      const usage = type === 'message_start' ? (isRecord(data?.message) ? data.message.usage : undefined) : data?.usage;
      if (isRecord(usage)) {
        this.counts = mergeCounts(this.counts, usage);
        this.sawUsage = true;
      }
    } else if (type === 'message_stop') this.finished = true;
    else if (type === 'error') throw new UpstreamError(streamErrorFailure(event.data));
  }

  usage(): Usage | undefined {
    return this.sawUsage ? toUsage(this.counts) : undefined;
  }

  done(): boolean {
    return this.finished;
  }
}

/** The slow path, for what the byte scan declines (not one object, a member named twice). */
function usageOfParsed(message: unknown): Usage | undefined {
  if (!isRecord(message) || message.type === 'error') throw new SyntaxError('not an Anthropic message');
  return isRecord(message.usage) ? toUsage(mergeCounts(NO_COUNTS, message.usage)) : undefined;
}

function parse(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return isRecord(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function headerValue(headers: Record<string, string> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}

/** Both lists of beta flags, each flag once, the provider's first. */
export function mergeBeta(provider: string | undefined, client: string | undefined): string | undefined {
  if (provider === undefined && client === undefined) return undefined; // the common case: nothing to split
  const flags = [...(provider ?? '').split(','), ...(client ?? '').split(',')].map((f) => f.trim()).filter(Boolean);
  return flags.length ? [...new Set(flags)].join(',') : undefined;
}
