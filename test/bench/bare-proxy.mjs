// The bare Node reverse proxy of the benchmark: the least any Node gateway must do. It parses the
// request JSON, picks the upstream by model, forwards it over an undici Pool (the same undici Shepherd
// uses), parses the response JSON, serialises it again and replies. Streams are piped chunk by chunk.
// No routing policy, health, retries, ledger, metrics or logging.
//   node test/bench/bare-proxy.mjs PORT '{"bench":"http://127.0.0.1:1234", ...}'
import { createServer } from 'node:http';
import { once } from 'node:events';
import { Pool } from 'undici';

const port = Number(process.argv[2] ?? 0);
const routes = new Map(
  Object.entries(JSON.parse(process.argv[3] ?? '{}')).map(([model, origin]) => [
    model,
    new Pool(origin, { keepAliveTimeout: 30_000, pipelining: 1 }),
  ]),
);

function reply(res, status, obj) {
  const json = JSON.stringify(obj);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

async function handle(req, res) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  let body;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return reply(res, 400, { error: { message: 'invalid JSON', type: 'invalid_request_error', code: null } });
  }
  const pool = routes.get(body?.model);
  if (!pool) return reply(res, 404, { error: { message: `unknown model ${body?.model}`, type: 'invalid_request_error', code: null } });
  const abort = new AbortController();
  res.once('close', () => abort.abort());
  const up = await pool.request({
    path: req.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: req.headers.authorization ?? 'Bearer bench' },
    body: JSON.stringify(body),
    signal: abort.signal,
  });
  if (body.stream === true && up.statusCode === 200) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
    for await (const chunk of up.body) {
      if (!res.write(chunk)) await once(res, 'drain');
    }
    return res.end();
  }
  const text = await up.body.text();
  let answer;
  try {
    answer = JSON.parse(text);
  } catch {
    return reply(res, 502, { error: { message: 'upstream sent invalid JSON', type: 'server_error', code: null } });
  }
  reply(res, up.statusCode, answer);
}

const server = createServer((req, res) => {
  handle(req, res).catch((err) => {
    if (!res.headersSent) reply(res, 502, { error: { message: String(err?.message ?? err), type: 'server_error', code: null } });
    else res.destroy();
  });
});
server.keepAliveTimeout = 30_000;
server.listen(port, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
const stop = () => server.close(() => process.exit(0)) && setTimeout(() => process.exit(0), 500).unref();
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
