// What of an Anthropic client's request is kept for passthrough: the parsed body as sent, and the
// protocol headers an Anthropic upstream needs (beta flags, API version). Never the client's key.
import { isRecord } from '../../../shared/is-record';
import type { NativeRequest } from '../../core/native';

const FORWARDED = ['anthropic-beta', 'anthropic-version'] as const;

export function nativeMessages(json: unknown, headers: Record<string, string | string[] | undefined>): NativeRequest | undefined {
  if (!isRecord(json)) return undefined;
  const kept: Record<string, string> = {};
  for (const name of FORWARDED) {
    const v = headers[name];
    const value = Array.isArray(v) ? v.join(',') : v;
    if (value) kept[name] = value;
  }
  return { format: 'anthropic', body: json, headers: kept };
}
