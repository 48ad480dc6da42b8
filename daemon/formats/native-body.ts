// The upstream body of a passthrough: the client's own bytes with the top-level `model` value
// replaced. Re-serialising the parsed body costs a full JSON.stringify per request (tens of
// microseconds for an agent's prompt); splicing costs a look at its first member and one copy.
import type { NativeRequest } from '../core/native';
import { leadingString } from './json-scan';

/** The body to send upstream: the client's bytes spliced when they are still the body, else a fresh serialisation. */
export function nativeBody(native: NativeRequest, model: string): string | Uint8Array {
  const raw = native.raw;
  // A body replaced after arrival (count_tokens drops `stream`) no longer matches its bytes.
  const at = raw && raw.body === native.body ? leadingString(raw.bytes, 'model') : undefined;
  if (!raw || !at) return JSON.stringify({ ...native.body, model });
  const { bytes } = raw;
  return Buffer.concat([bytes.subarray(0, at.start), Buffer.from(JSON.stringify(model)), bytes.subarray(at.end)]);
}
