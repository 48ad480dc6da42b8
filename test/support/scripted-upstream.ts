// A scripted OpenAI-compatible upstream for tests: answers each chat request from a table keyed by
// the last user message (whole or streamed, with usage), and records what it was asked.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedReply {
  content?: string;
  toolCalls?: { name: string; arguments: string }[];
  finishReason?: string;
  completionTokens?: number;
}

export interface ScriptedUpstream {
  url: string;
  /** The last user message of each chat request, in order. */
  asked: string[];
  close(): Promise<void>;
}

export async function startScriptedUpstream(name: string, table: (prompt: string) => ScriptedReply): Promise<ScriptedUpstream> {
  const asked: string[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      if (!req.url?.endsWith('/chat/completions')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [] }));
        return;
      }
      const body = JSON.parse(raw) as { model: string; stream?: boolean; messages: { role: string; content: string }[] };
      const prompt = [...body.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
      asked.push(prompt);
      const reply = table(prompt);
      const content = reply.content ?? null;
      const toolCalls = reply.toolCalls?.map((c, i) => ({ id: `call_${i}`, type: 'function', function: c }));
      const finish = reply.finishReason ?? (toolCalls ? 'tool_calls' : 'stop');
      const usage = { prompt_tokens: 20, completion_tokens: reply.completionTokens ?? 40, total_tokens: 20 + (reply.completionTokens ?? 40) };
      const base = { id: `chatcmpl-${name}`, created: 1, model: body.model };
      if (body.stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const frame = (delta: object, finishReason: string | null, extra: object = {}) =>
          `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finishReason }], ...extra })}\n\n`;
        res.write(frame({ role: 'assistant', content: '' }, null));
        for (const piece of (content ?? '').match(/[\s\S]{1,12}/g) ?? []) res.write(frame({ content: piece }, null));
        if (toolCalls) res.write(frame({ tool_calls: toolCalls.map((c, index) => ({ index, ...c })) }, null));
        res.write(frame({}, finish));
        res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [], usage })}\n\n`);
        res.end('data: [DONE]\n\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content, ...(toolCalls ? { tool_calls: toolCalls } : {}) }, finish_reason: finish }], usage }));
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    asked,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
