// Reads a request body within a size limit and parses it as JSON, with errors a client can act on.
import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors';

export async function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) throw tooLarge(limitBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) throw tooLarge(limitBytes);
    chunks.push(chunk);
  }
  if (size === 0) throw new HttpError(400, 'request body is empty; expected a JSON object', 'invalid_request_error', 'empty_body');
  const text = Buffer.concat(chunks, size).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    const detail = err instanceof SyntaxError ? err.message : 'invalid JSON';
    throw new HttpError(400, `request body is not valid JSON: ${detail}`, 'invalid_request_error', 'invalid_json');
  }
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
