// The passthrough reads its bytes without parsing them (formats/json-scan.ts, sse-scan.ts,
// native-body.ts): what the upstream receives and what the ledger counts must be exactly what a full
// parse would give, however the bytes are laid out or split.
import assert from 'node:assert/strict';
import { UpstreamError } from '../../daemon/core/failure';
import type { NativeRequest } from '../../daemon/core/native';
import type { UpstreamTarget } from '../../daemon/core/target';
import { anthropicPassthrough } from '../../daemon/formats/anthropic/passthrough';
import { SseScanner } from '../../daemon/formats/sse-scan';

const target: UpstreamTarget = {
  deploymentId: 'anth/claude',
  providerName: 'anth',
  provider: { type: 'anthropic', baseUrl: 'https://api.anthropic.com/v1' },
  upstreamModel: 'claude-sonnet-4-5-20250929',
  apiKey: 'sk-ant',
};
const enc = (text: string) => new TextEncoder().encode(text);
const dec = (bytes: string | Uint8Array | undefined) => (typeof bytes === 'string' ? bytes : new TextDecoder().decode(bytes));

/** A native request as the endpoint makes it: the parse of `text`, with the bytes beside it. */
function arrived(text: string): NativeRequest {
  const body = JSON.parse(text) as Record<string, unknown>;
  return { format: 'anthropic', body, headers: {}, raw: { body, bytes: enc(text) } };
}

describe('anthropic passthrough: reading bytes without parsing them', () => {
  it('sends the client\'s bytes with only the model replaced: spacing, key order, escapes and unicode kept', () => {
    const text = '{ "model" : "sonnet",\n  "messages":[{"role":"user","content":"caf\\u00e9 \\"quoted\\" ☕"}], "max_tokens":5 }';
    const sent = dec(anthropicPassthrough.request(target, arrived(text)).body);
    assert.equal(sent, text.replace('"sonnet"', '"claude-sonnet-4-5-20250929"'));
  });

  it('serialises afresh when the bytes cannot be spliced safely, and the upstream still gets the right model', () => {
    const cases = [
      '{"messages":[{"role":"user","content":"hi"}],"model":"sonnet","max_tokens":5}', // model not first
      '{"model":"sonnet","messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"x"}]}],"metadata":{"model":"mine"}}', // "model" again, nested
      '{"model":"sonnet","max_tokens":5,"model":"opus"}', // named twice
    ];
    for (const text of cases) {
      const sent = JSON.parse(dec(anthropicPassthrough.request(target, arrived(text)).body)) as Record<string, unknown>;
      assert.equal(sent.model, target.upstreamModel, text);
      assert.equal(dec(anthropicPassthrough.request(target, arrived(text)).body).split('"model"').length - 1, text.includes('"metadata"') ? 2 : 1, text);
    }
    // A body changed after arrival (count_tokens drops `stream`) is sent as changed, not as its old bytes.
    const native = arrived('{"model":"sonnet","stream":true,"max_tokens":5}');
    const { stream: _dropped, ...rest } = native.body;
    const sent = JSON.parse(dec(anthropicPassthrough.request(target, { ...native, body: rest }).body)) as Record<string, unknown>;
    assert.deepEqual(sent, { model: target.upstreamModel, max_tokens: 5 });
  });

  it('reads a whole message\'s usage from its end, and never a "usage" inside the content', () => {
    const usage = { input_tokens: 10, cache_read_input_tokens: 90, cache_creation_input_tokens: 4, output_tokens: 7 };
    const decoy = { type: 'tool_use', id: 't', name: 'report', input: { usage: { input_tokens: 999999, output_tokens: 999999 } } };
    const expected = { promptTokens: 104, completionTokens: 7, cachedTokens: 90, cacheWriteTokens: 4 };
    const last = JSON.stringify({ id: 'm', type: 'message', content: [decoy], usage });
    assert.deepEqual(anthropicPassthrough.wholeUsage(enc(last)), expected);
    // usage not last (another producer's key order): the whole message is parsed instead, same answer.
    const first = JSON.stringify({ usage, id: 'm', type: 'message', content: [decoy] });
    assert.deepEqual(anthropicPassthrough.wholeUsage(enc(first)), expected);
    // Pretty-printed, as some proxies answer.
    assert.deepEqual(anthropicPassthrough.wholeUsage(enc(JSON.stringify(JSON.parse(last), null, 2))), expected);
    // The decoy last and the real usage earlier: the decoy is nested, so it is not taken.
    const nestedLast = JSON.stringify({ id: 'm', type: 'message', usage, content: [decoy] });
    assert.deepEqual(anthropicPassthrough.wholeUsage(enc(nestedLast)), expected);
  });

  it('refuses a truncated answer or an error object, so the attempt fails over', () => {
    const whole = JSON.stringify({ id: 'm', type: 'message', content: [], usage: { input_tokens: 1, output_tokens: 1 } });
    assert.throws(() => anthropicPassthrough.wholeUsage(enc(whole.slice(0, -1))), SyntaxError);
    assert.throws(() => anthropicPassthrough.wholeUsage(enc(whole.slice(0, -3))), SyntaxError);
    assert.throws(() => anthropicPassthrough.wholeUsage(enc('{"type":"error","error":{"type":"overloaded_error","message":"busy"}}')), SyntaxError);
  });
});

// A stream as Anthropic sends it: usage in message_start and message_delta, a ping, many deltas.
const STREAM = [
  'event: message_start\ndata: {"type":"message_start","message":{"id":"m","type":"message","usage":{"input_tokens":12,"cache_read_input_tokens":30,"output_tokens":1}}}\n\n',
  'event: ping\ndata: {"type": "ping"}\n\n',
  ': a comment line\n\n',
  'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n',
  ...Array.from({ length: 5 }, (_, i) => `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"wörd ${i} \\"usage\\""}}\n\n`),
  'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n',
  'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":42}}\n\n',
  'event: message_stop\ndata: {"type":"message_stop"}\n\n',
].join('');

function scan(chunks: Uint8Array[]) {
  const reader = anthropicPassthrough.streamReader();
  const scanner = new SseScanner(reader);
  for (const c of chunks) scanner.feed(c);
  return { usage: reader.usage(), done: reader.done(), events: scanner.events };
}

describe('anthropic passthrough: reading a stream from its bytes', () => {
  const whole = scan([enc(STREAM)]);

  it('reads usage and the end, and counts the events (not the comment)', () => {
    assert.deepEqual(whole.usage, { promptTokens: 42, completionTokens: 42, cachedTokens: 30 });
    assert.equal(whole.done, true);
    assert.equal(whole.events, 11);
  });

  it('gives the same reading however the bytes are split, a multi-byte character or a blank line included', () => {
    const bytes = enc(STREAM);
    for (let cut = 1; cut < bytes.length; cut++) {
      assert.deepEqual(scan([bytes.subarray(0, cut), bytes.subarray(cut)]), whole, `split at byte ${cut}`);
    }
    assert.deepEqual(scan(Array.from(bytes, (b) => Uint8Array.of(b))), whole, 'one byte at a time');
  });

  it('reads streams with CRLF or CR line endings and a byte order mark the same way', () => {
    const bytes = enc(STREAM.replace(/\n/g, '\r\n'));
    const mid = Math.floor(bytes.length / 2);
    assert.deepEqual(scan([bytes]), whole);
    assert.deepEqual(scan([bytes.subarray(0, mid), bytes.subarray(mid)]), whole, 'split');
    // With bare CRs the last event stays open until a byte after it shows it was not CRLF: usage is read all the same.
    assert.deepEqual(scan([enc(STREAM.replace(/\n/g, '\r'))]).usage, whole.usage);
    assert.deepEqual(scan([Uint8Array.of(0xef, 0xbb, 0xbf), enc(STREAM)]), whole);
  });

  it('turns an error event into a failure with its class, even split across chunks', () => {
    const error = 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n';
    const bytes = enc(STREAM.split('\n\n').slice(0, 5).join('\n\n') + '\n\n' + error);
    const scanner = new SseScanner(anthropicPassthrough.streamReader());
    assert.throws(
      () => {
        for (let i = 0; i < bytes.length; i += 7) scanner.feed(bytes.subarray(i, i + 7));
      },
      (err: unknown) => err instanceof UpstreamError && err.failure.retryable && /Overloaded/.test(err.failure.message),
    );
  });

  it('decodes only the events the reader wants: deltas are never handed over', () => {
    const seen: (string | undefined)[] = [];
    const reader = anthropicPassthrough.streamReader();
    const spy = { ...reader, wants: (n: string | undefined) => reader.wants(n), push: (e: { event?: string; data: string }) => (seen.push(e.event), reader.push(e)), usage: () => reader.usage(), done: () => reader.done() };
    new SseScanner(spy).feed(enc(STREAM));
    assert.deepEqual(seen, ['message_start', 'message_delta', 'message_stop']);
  });
});
