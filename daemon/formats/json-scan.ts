// Reads one member of a JSON object straight from its bytes, without parsing the rest, where the
// wire format puts it at a known end: `model` first in a client's request (as the SDKs and Claude
// Code write it), `usage` last in an Anthropic message. A passthrough needs nothing else, and
// parsing or re-serialising a whole body to touch those was most of what it cost. Anything else
// (the member elsewhere, named twice, odd spacing) returns undefined and the caller parses as before.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** Where a member's value lies in the bytes: [start, end). */
export interface Span {
  start: number;
  end: number;
}

const isSpace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

function skipSpace(bytes: Uint8Array, i: number): number {
  while (i < bytes.length && isSpace(bytes[i])) i++;
  return i;
}

function escaped(bytes: Uint8Array, at: number): boolean {
  let slashes = 0;
  while (at - 1 - slashes >= 0 && bytes[at - 1 - slashes] === BACKSLASH) slashes++;
  return slashes % 2 === 1; // an even run of backslashes escapes itself, not what follows
}

/** Index of the quote that closes the string opened at `open`, or -1. */
function stringEnd(bytes: Uint8Array, open: number): number {
  for (let at = bytes.indexOf(QUOTE, open + 1); at >= 0; at = bytes.indexOf(QUOTE, at + 1)) if (!escaped(bytes, at)) return at;
  return -1;
}

function matches(bytes: Uint8Array, at: number, text: Uint8Array): boolean {
  if (at < 0 || at + text.length > bytes.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[at + i] !== text[i]) return false;
  return true;
}

const names = new Map<string, Buffer>();
/** `"key"` as bytes, made once per key. */
function quoted(key: string): Buffer {
  let name = names.get(key);
  if (!name) names.set(key, (name = Buffer.from(JSON.stringify(key))));
  return name;
}

/**
 * The span of the string value of `key` when it is the object's first member and its name appears
 * nowhere else in the bytes (a second `"key"`, nested or duplicated, declines: which one an upstream's
 * parser would take is not ours to guess).
 */
export function leadingString(bytes: Uint8Array, key: string): Span | undefined {
  const name = quoted(key);
  let i = skipSpace(bytes, 0);
  if (bytes[i] !== OPEN_BRACE) return undefined;
  i = skipSpace(bytes, i + 1);
  if (!matches(bytes, i, name)) return undefined;
  i = skipSpace(bytes, i + name.length);
  if (bytes[i] !== COLON) return undefined;
  const start = skipSpace(bytes, i + 1);
  if (bytes[start] !== QUOTE) return undefined;
  const close = stringEnd(bytes, start);
  if (close < 0) return undefined;
  if (indexOfBytes(bytes, name, close + 1) >= 0) return undefined;
  return { start, end: close + 1 };
}

/**
 * The span of the object value of `key` when it is the last member of the top-level object: the
 * bytes end with `"key": {...}` and the closing brace. `"key"` found by its last occurrence is a
 * member name there, not text: inside a JSON string both its quotes would have to be escaped.
 */
export function trailingObject(bytes: Uint8Array, key: string): Span | undefined {
  const name = quoted(key);
  const at = lastIndexOfBytes(bytes, name);
  if (at < 0 || escaped(bytes, at)) return undefined;
  const start = skipSpace(bytes, at + name.length);
  if (bytes[start] !== COLON) return undefined;
  const open = skipSpace(bytes, start + 1);
  if (bytes[open] !== OPEN_BRACE) return undefined;
  const end = objectEnd(bytes, open);
  if (end < 0) return undefined;
  // Only the top-level object's closing brace may follow (a nested `key` would be followed by more).
  const close = skipSpace(bytes, end);
  if (bytes[close] !== CLOSE_BRACE || skipSpace(bytes, close + 1) !== bytes.length) return undefined;
  return { start: open, end };
}

/** The index after the object opened at `open` closes, or -1. */
function objectEnd(bytes: Uint8Array, open: number): number {
  let depth = 0;
  for (let i = open; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === QUOTE) {
      i = stringEnd(bytes, i);
      if (i < 0) return -1;
    } else if (b === OPEN_BRACE || b === 0x5b) depth++;
    else if (b === CLOSE_BRACE || b === 0x5d) {
      if (--depth === 0) return i + 1;
    }
  }
  return -1;
}

// Buffer's indexOf searches for a byte sequence natively (a view: nothing is copied).
const view = (bytes: Uint8Array) => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));

function indexOfBytes(bytes: Uint8Array, text: Uint8Array, from: number): number {
  return view(bytes).indexOf(text, from);
}

function lastIndexOfBytes(bytes: Uint8Array, text: Uint8Array): number {
  return view(bytes).lastIndexOf(text);
}

const decoder = new TextDecoder();

/** The text of a span. */
export function decodeSpan(bytes: Uint8Array, span: Span): string {
  return decoder.decode(bytes.subarray(span.start, span.end));
}
