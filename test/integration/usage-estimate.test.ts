// An upstream that reports no usage (some relays and local servers): the ledger still gets token
// counts, from a real tokenizer, and says they are estimated.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { countTokens } from 'gpt-tokenizer';
import { configFor, startHarness, type Harness } from '../support/harness';

const ANSWER = 'Sheep are ruminants; they chew the cud.';

/** Answers every chat request with ANSWER and never any usage, whole or as two stream chunks. */
async function noUsageUpstream(): Promise<Server> {
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as { stream?: boolean };
      const base = { id: 'x', created: 1, model: 'm' };
      if (!body.stream) {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: ANSWER }, finish_reason: 'stop' }] }));
        return;
      }
      res.setHeader('content-type', 'text/event-stream');
      const half = ANSWER.length >> 1;
      for (const piece of [ANSWER.slice(0, half), ANSWER.slice(half)]) {
        res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] })}\n\n`);
      }
      res.end(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n`);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

describe('ledger: usage estimated when the upstream reports none', function () {
  let upstream: Server;
  let h: Harness;
  before(async () => {
    upstream = await noUsageUpstream();
    const config = configFor([]);
    config.providers = { plain: { baseUrl: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`, apiKey: 'k' } };
    config.models = { chat: { price: { input: 2, output: 8 }, deployments: [{ provider: 'plain', model: 'm' }] } };
    h = await startHarness(config);
  });
  after(async () => {
    await h.close();
    upstream.close();
  });

  for (const stream of [false, true]) {
    it(`counts the answer's tokens with a tokenizer and marks the entry estimated (${stream ? 'streaming' : 'whole'})`, async () => {
      const res = await fetch(`${h.daemon.url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({ model: 'chat', stream, messages: [{ role: 'user', content: 'Tell me about sheep.' }] }),
      });
      await res.text();
      const entry = (await h.ledgerEntries()).find((e) => e.id === res.headers.get('x-request-id'));
      assert.equal(entry?.usageSource, 'estimated');
      assert.equal(entry?.completionTokens, countTokens(ANSWER));
      assert.ok((entry?.promptTokens ?? 0) > countTokens('Tell me about sheep.'), 'the prompt plus chat framing');
      const expected = (entry!.promptTokens * 2 + entry!.completionTokens * 8) / 1e6;
      assert.ok(Math.abs(entry!.costUsd - expected) < 1e-9, `cost ${entry?.costUsd} vs ${expected}`);
    });
  }
});
