// Reads a request body within a size limit and parses it as JSON, with errors a client can act on.
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { HttpError } from '../core/http-error';

export interface BodyLimits {
  /** Largest body accepted (server.bodyLimitBytes). */
  bodyLimitBytes: number;
  /** Deepest nesting of arrays and objects accepted (server.maxJsonDepth). */
  maxJsonDepth: number;
}

export async function readJsonBody(req: IncomingMessage, limits: BodyLimits): Promise<unknown> {
  return (await readJsonBytes(req, limits)).json;
}

/** The parsed body and the bytes it was parsed from (a passthrough sends those on). */
export async function readJsonBytes(req: IncomingMessage, limits: BodyLimits): Promise<{ json: unknown; bytes: Buffer }> {
  const limitBytes = limits.bodyLimitBytes;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) throw tooLarge(limitBytes);
  const raw = await readLimited(req, limitBytes);
  if (raw.length === 0) throw new HttpError(400, 'request body is empty; expected a JSON object', 'invalid_request_error', 'empty_body');
  // Decoding would turn invalid bytes into U+FFFD silently, even inside `model`: refuse them instead.
  if (!isUtf8(raw)) {
    const at = invalidUtf8At(raw);
    throw new HttpError(
      400,
      `request body is not valid UTF-8: byte ${at} (0x${raw[at].toString(16).padStart(2, '0')}) does not start or continue a character`,
      'invalid_request_error',
      'invalid_utf8',
    );
  }
  checkDepth(raw, limits.maxJsonDepth);
  try {
    return { json: JSON.parse(raw.toString('utf8')), bytes: raw };
  } catch (err) {
    const detail = err instanceof SyntaxError ? err.message : 'invalid JSON';
    throw new HttpError(400, `request body is not valid JSON: ${detail}`, 'invalid_request_error', 'invalid_json');
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;

/**
 * Refuses arrays and objects nested deeper than `max`. Everything after parsing (validation, token
 * counts, each adapter's serialiser) may recurse over the body, and a few kilobytes of `[[[[...` are
 * enough to overflow the stack there. One pass over the bytes, no recursion; brackets inside strings
 * do not count. Malformed JSON is left for the parser to name.
 */
export function checkDepth(raw: Uint8Array, max: number): void {
  let depth = 0;
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i];
    if (b === QUOTE) {
      // A string is skipped whole with native indexOf: an agent's prompt is mostly text, and walking it
      // byte by byte cost more than parsing it (75 us against 5 for a 37 KB request).
      i = closingQuote(raw, i);
      if (i < 0) return; // never closed: the parser names it
    } else if (b === OPEN_BRACKET || b === OPEN_BRACE) {
      if (++depth > max) {
        throw new HttpError(
          400,
          `request body nests arrays and objects more than ${max} levels deep (at byte ${i}); the limit is server.maxJsonDepth`,
          'invalid_request_error',
          'json_too_deep',
        );
      }
    } else if (b === CLOSE_BRACKET || b === CLOSE_BRACE) {
      depth--;
    }
  }
}

/** The index of the quote closing the string opened at `open` (one not escaped by an odd run of backslashes), or -1. */
function closingQuote(raw: Uint8Array, open: number): number {
  for (let at = raw.indexOf(QUOTE, open + 1); at >= 0; at = raw.indexOf(QUOTE, at + 1)) {
    let slashes = 0;
    while (raw[at - 1 - slashes] === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return at;
  }
  return -1;
}

/** Offset of the first byte that is not part of a well-formed UTF-8 character (RFC 3629), or -1. */
export function invalidUtf8At(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    const n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
    if (n === 0 || i + n >= b.length) return i; // not a lead byte, or the body ends mid-character
    for (let k = 1; k <= n; k++) if ((b[i + k] & 0xc0) !== 0x80) return i + k;
    const next = b[i + 1];
    // Overlong forms, UTF-16 surrogates and code points above U+10FFFF.
    if ((c === 0xe0 && next < 0xa0) || (c === 0xed && next > 0x9f) || (c === 0xf0 && next < 0x90) || (c === 0xf4 && next > 0x8f)) return i;
    i += n + 1;
  }
  return -1;
}

// Events rather than `for await`: leaving an async iterator early destroys the request, and with it
// the socket the 413 answer has to go out on.
function readLimited(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const fail = (err: HttpError) => {
      if (settled) return;
      settled = true;
      chunks.length = 0;
      reject(err);
    };
    req.on('data', (chunk: Buffer) => {
      if (settled) return; // past the limit: let the rest drain unread until the socket closes
      size += chunk.length;
      if (size > limitBytes) fail(tooLarge(limitBytes));
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (settled) return;
      settled = true;
      // Copied even when one chunk: a chunk is a slice of the socket's read buffer (64 KB), which the
      // passthrough would otherwise keep alive for the whole request.
      resolve(Buffer.concat(chunks, size));
    });
    req.on('error', () => fail(new HttpError(400, 'the request body could not be read (connection closed early)', 'invalid_request_error', 'body_incomplete')));
    req.on('close', () => {
      if (!req.complete) fail(new HttpError(400, 'the client closed the connection before sending the whole body', 'invalid_request_error', 'body_incomplete'));
    });
  });
}

function tooLarge(limit: number): HttpError {
  return new HttpError(
    413,
    `request body is larger than the limit of ${limit} bytes (server.bodyLimitBytes)`,
    'invalid_request_error',
    'request_too_large',
    null,
    { connection: 'close' },
  );
}
