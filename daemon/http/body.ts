// Reads a request body within a size limit and parses it as JSON, with errors a client can act on.
import type { IncomingMessage } from 'node:http';
import { HttpError } from '../core/http-error';

export async function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) throw tooLarge(limitBytes);
  const raw = await readLimited(req, limitBytes);
  if (raw.length === 0) throw new HttpError(400, 'request body is empty; expected a JSON object', 'invalid_request_error', 'empty_body');
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    const detail = err instanceof SyntaxError ? err.message : 'invalid JSON';
    throw new HttpError(400, `request body is not valid JSON: ${detail}`, 'invalid_request_error', 'invalid_json');
  }
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
