// The spend view's page: nothing runs in it but the bundled script with this page's nonce.
import assert from 'node:assert/strict';
import { spendPage } from '../../../extension/spend-html';

describe('spend view page', () => {
  const html = spendPage({ cspSource: 'vscode-webview://abc', nonce: 'N0nce123', scriptUri: 'vscode-webview://abc/dist/webview.js' });
  const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';

  it('has a strict CSP: nothing by default, scripts only with the nonce, no CDN', () => {
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'nonce-N0nce123'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https:/);
    assert.doesNotMatch(html, /https?:\/\//, 'no remote resource at all');
  });

  it('loads only the bundled script, with the nonce, and labels every chart for screen readers', () => {
    const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1]);
    assert.deepEqual(scripts, [' nonce="N0nce123" src="vscode-webview://abc/dist/webview.js"']);
    for (const id of ['daily', 'cumulative', 'groups', 'requests']) assert.match(html, new RegExp(`<canvas id="${id}" role="img" aria-labelledby="cap-${id}" tabindex="0">`));
  });
});
