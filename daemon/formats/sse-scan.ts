// Finds the SSE events of a passthrough stream in its bytes, as they arrive, for a reader that needs
// only a few of them (usage, the end, errors). The bytes themselves go to the client untouched, so
// nothing is decoded to text unless the reader wants the event: a content delta costs a few indexOf
// calls and its name. Streams with CR line endings (allowed by SSE, rare in practice) are handed to
// eventsource-parser from the first CR on, so every line ending the spec allows is still read right.
import { createParser, type EventSourceParser } from 'eventsource-parser';
import type { NativeStreamReader } from './types';

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
const EVENT = [0x65, 0x76, 0x65, 0x6e, 0x74];
const DATA = [0x64, 0x61, 0x74, 0x61];

const decoder = new TextDecoder();

export class SseScanner {
  /** Events seen so far (blocks with at least one data line, as SSE dispatches them). */
  events = 0;
  private pending: Uint8Array | undefined; // an event not complete yet
  private atStart = true;
  private parser: EventSourceParser | undefined;
  private text: TextDecoder | undefined;
  private readonly data: number[] = []; // data line spans of the current block: start, end, ...

  constructor(private readonly reader: NativeStreamReader) {}

  /** One chunk of the stream; throws what the reader throws (an UpstreamError for an error event). */
  feed(chunk: Uint8Array): void {
    if (this.parser) return this.parser.feed(this.text!.decode(chunk, { stream: true }));
    let bytes = chunk;
    let from = 0;
    if (this.pending) {
      bytes = new Uint8Array(this.pending.length + chunk.length);
      bytes.set(this.pending);
      bytes.set(chunk, this.pending.length);
      from = this.pending.length - 1; // a blank line may straddle the two
    }
    if (chunk.indexOf(CR) >= 0) return this.toParser(bytes);
    this.pending = undefined;
    let start = 0;
    if (this.atStart) {
      this.atStart = false;
      if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3; // a byte order mark
    }
    for (let end = blankLine(bytes, Math.max(start, from)); end >= 0; end = blankLine(bytes, start)) {
      this.block(bytes, start, end);
      start = end + 2;
    }
    if (start < bytes.length) this.pending = bytes.slice(start);
  }

  /** The block [start, end): its lines, split at LF; fields as SSE defines them. */
  private block(bytes: Uint8Array, start: number, end: number): void {
    let name: string | undefined;
    this.data.length = 0;
    for (let line = start; line < end; ) {
      let lineEnd = bytes.indexOf(LF, line);
      if (lineEnd < 0 || lineEnd > end) lineEnd = end;
      if (bytes[line] !== COLON) {
        // a line starting with a colon is a comment
        let colon = bytes.indexOf(COLON, line);
        if (colon < 0 || colon > lineEnd) colon = lineEnd;
        let value = colon < lineEnd ? colon + 1 : lineEnd;
        if (bytes[value] === SPACE && value < lineEnd) value++;
        if (is(bytes, line, colon, EVENT)) name = value < lineEnd ? decoder.decode(bytes.subarray(value, lineEnd)) : undefined;
        else if (is(bytes, line, colon, DATA)) this.data.push(value, lineEnd);
      }
      line = lineEnd + 1;
    }
    if (this.data.length === 0) return;
    this.events++;
    if (!this.reader.wants(name)) return;
    const parts: string[] = [];
    for (let i = 0; i < this.data.length; i += 2) parts.push(decoder.decode(bytes.subarray(this.data[i], this.data[i + 1])));
    this.reader.push({ event: name, data: parts.join('\n') });
  }

  private toParser(bytes: Uint8Array): void {
    this.pending = undefined;
    this.text = new TextDecoder();
    this.parser = createParser({
      onEvent: (event) => {
        this.events++;
        if (this.reader.wants(event.event)) this.reader.push({ event: event.event, data: event.data });
      },
    });
    this.parser.feed(this.text.decode(bytes, { stream: true }));
  }
}

/** Index of the first LF of the next "\n\n" at or after `from`, or -1. */
function blankLine(bytes: Uint8Array, from: number): number {
  for (let i = bytes.indexOf(LF, from); i >= 0; i = bytes.indexOf(LF, i + 1)) if (bytes[i + 1] === LF) return i;
  return -1;
}

function is(bytes: Uint8Array, start: number, end: number, name: number[]): boolean {
  if (end - start !== name.length) return false;
  for (let i = 0; i < name.length; i++) if (bytes[start + i] !== name[i]) return false;
  return true;
}
