// A bare WebSocket client for the control channel, for integration tests: connects, validates every
// message the daemon sends against shared/protocol.ts, and lets a test wait for the next one it wants.
import { WebSocket } from 'ws';
import { CONTROL_PATH, PROTOCOL_VERSION, parseServerMessage, type ClientMessage, type ServerMessage } from '../../shared/protocol';

export interface TestControlClient {
  ws: WebSocket;
  received: ServerMessage[];
  send(message: ClientMessage | Record<string, unknown>): void;
  next<T extends ServerMessage['type']>(type: T, match?: (m: Extract<ServerMessage, { type: T }>) => boolean, ms?: number): Promise<Extract<ServerMessage, { type: T }>>;
  closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

export async function connectControl(baseUrl: string, headers: Record<string, string> = {}): Promise<TestControlClient> {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}${CONTROL_PATH}`, { headers });
  const received: ServerMessage[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data) => {
    const parsed = parseServerMessage(data.toString());
    if (!parsed.ok) throw new Error(`the daemon sent an invalid message: ${parsed.error}`);
    received.push(parsed.message);
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  let cursor = 0;
  return {
    ws,
    received,
    closed,
    send: (message) => ws.send(JSON.stringify(message)),
    close: () => ws.close(),
    // Consumes messages in order, so two waits for the same type see two different messages.
    async next(type, match = () => true, ms = 10_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        while (cursor < received.length) {
          const m = received[cursor++];
          if (m.type === type && match(m as never)) return m as never;
        }
        if (Date.now() > deadline) throw new Error(`no "${type}" message within ${ms} ms; got ${received.map((m) => m.type).join(', ')}`);
        await Promise.race([new Promise<void>((r) => waiters.push(r)), closed, new Promise((r) => setTimeout(r, 200))]);
      }
    },
  };
}

export function hello(token: string): ClientMessage {
  return { type: 'hello', protocol: PROTOCOL_VERSION, token, client: 'test', version: '0.0.0' };
}
