import assert from 'node:assert/strict';
import { joinPath } from '../../daemon/upstream/pool';

describe('upstream: request paths under a base URL', () => {
  it('appends the path to the base path, with or without a trailing slash', () => {
    assert.equal(joinPath(new URL('https://api.example.com/v1'), '/chat/completions'), '/v1/chat/completions');
    assert.equal(joinPath(new URL('https://api.example.com/v1/'), '/chat/completions'), '/v1/chat/completions');
  });

  it("keeps the base URL's query, joined with & when the path has one (Gemini's ?alt=sse)", () => {
    assert.equal(joinPath(new URL('https://g.example.com/v1beta?x=1'), '/models'), '/v1beta/models?x=1');
    assert.equal(
      joinPath(new URL('https://g.example.com/v1beta?x=1'), '/models/m:streamGenerateContent?alt=sse'),
      '/v1beta/models/m:streamGenerateContent?alt=sse&x=1',
    );
  });
});
