// HTTP that Node's parser refuses (or a client too slow to send its request) never reaches a handler:
// it is answered here, straight on the socket, in the OpenAI error shape with a status that says what
// was wrong, then the connection closes (after a framing error nothing later on it can be trusted).
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { errorJson } from '../core/http-error';

interface Verdict {
  status: number;
  reason: string;
  message: string;
  code: string;
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/** What to answer for a parser or timeout error code (Node's `HPE_*` and `ERR_HTTP_REQUEST_TIMEOUT`). */
export function clientErrorVerdict(code: string | undefined, detail: string): Verdict {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return verdict(431, 'the request line and headers are larger than the server accepts (16 KiB in all)', 'headers_too_large');
    case 'HPE_INVALID_CONTENT_LENGTH':
      return verdict(400, 'the Content-Length header is not a valid number', 'invalid_content_length');
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return verdict(400, 'the request has more than one Content-Length header', 'invalid_content_length');
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return /content-length/i.test(detail)
        ? verdict(400, 'the request has both Content-Length and Transfer-Encoding; send only one', 'conflicting_length')
        : verdict(400, 'the Transfer-Encoding header is not valid (only "chunked" is accepted)', 'invalid_transfer_encoding');
    case 'HPE_INVALID_CHUNK_SIZE':
      return verdict(400, 'the chunked request body has an invalid chunk size', 'invalid_chunked_body');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'HPE_HEADER_TIMEOUT':
      return verdict(408, 'the request was not received in time (headers or body too slow)', 'request_timeout');
    default: {
      const what = detail.replace(/^Parse Error:\s*/, '').replace(/\.$/, '');
      return verdict(400, `the request is not valid HTTP/1.1${what ? `: ${what.charAt(0).toLowerCase()}${what.slice(1)}` : ''}`, 'malformed_http');
    }
  }
}

function verdict(status: number, message: string, code: string): Verdict {
  return { status, reason: STATUS_TEXT[status] ?? 'Bad Request', message, code };
}

/** The whole response text for a verdict, with a request id like every other answer. */
export function clientErrorResponse(v: Verdict, requestId: string = `shep-${randomUUID()}`): string {
  const body = errorJson(v.message, 'invalid_request_error', v.code);
  return (
    `HTTP/1.1 ${v.status} ${v.reason}\r\n` +
    'content-type: application/json\r\n' +
    `content-length: ${Buffer.byteLength(body)}\r\n` +
    `x-request-id: ${requestId}\r\n` +
    'connection: close\r\n\r\n' +
    body
  );
}

/** The server's 'clientError' handler. */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection cannot be answered; nor can one whose response has already begun.
  const responding = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (err.code !== 'ECONNRESET' && socket.writable && !responding) {
    socket.end(clientErrorResponse(clientErrorVerdict(err.code, err.message)));
    // Give the answer a moment to leave, then make sure the socket goes.
    setTimeout(() => socket.destroy(), 1_000).unref();
    return;
  }
  socket.destroy();
}
