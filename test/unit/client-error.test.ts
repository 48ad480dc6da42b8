import assert from 'node:assert/strict';
import { clientErrorResponse, clientErrorVerdict } from '../../daemon/http/client-error';

describe('answers to HTTP the parser refuses', () => {
  it('a client too slow to send its request gets 408 in the OpenAI error shape', () => {
    for (const code of ['ERR_HTTP_REQUEST_TIMEOUT', 'HPE_HEADER_TIMEOUT']) {
      const text = clientErrorResponse(clientErrorVerdict(code, ''), 'shep-1');
      const [head, body] = text.split('\r\n\r\n');
      assert.match(head, /^HTTP\/1.1 408 Request Timeout\r\n/);
      assert.match(head, /\r\nx-request-id: shep-1\r\nconnection: close$/);
      assert.equal(Number(/content-length: (\d+)/.exec(head)?.[1]), Buffer.byteLength(body));
      assert.deepEqual(JSON.parse(body), {
        error: { message: 'the request was not received in time (headers or body too slow)', type: 'invalid_request_error', code: 'request_timeout', param: null },
      });
    }
  });

  it('maps each parser error to a status and a code', () => {
    const table: [string | undefined, string, number, string][] = [
      ['HPE_HEADER_OVERFLOW', 'Parse Error: Header overflow', 431, 'headers_too_large'],
      ['HPE_INVALID_CONTENT_LENGTH', '', 400, 'invalid_content_length'],
      ['HPE_UNEXPECTED_CONTENT_LENGTH', '', 400, 'invalid_content_length'],
      ['HPE_INVALID_TRANSFER_ENCODING', "Parse Error: Transfer-Encoding can't be present with Content-Length", 400, 'conflicting_length'],
      ['HPE_INVALID_TRANSFER_ENCODING', 'Parse Error: Invalid transfer-encoding', 400, 'invalid_transfer_encoding'],
      ['HPE_INVALID_METHOD', 'Parse Error: Invalid method encountered', 400, 'malformed_http'],
      [undefined, '', 400, 'malformed_http'],
    ];
    for (const [code, detail, status, errorCode] of table) {
      const v = clientErrorVerdict(code, detail);
      assert.deepEqual([v.status, v.code], [status, errorCode], `${code} ${detail}`);
    }
    assert.equal(clientErrorVerdict('HPE_INVALID_METHOD', 'Parse Error: Invalid method encountered').message, 'the request is not valid HTTP/1.1: invalid method encountered');
  });
});
