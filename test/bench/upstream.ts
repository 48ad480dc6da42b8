// The benchmark's upstream: Shepherd's own sandbox (daemon/sandbox/server.ts), one instance per timing,
// all in this one process. `instant` has no latency configured, so it answers without a timer and only
// gateway cost is measured; `paced` and `slow` stream their chunks at a fixed gap.
// Prints one JSON line with the ports, then runs until SIGTERM/SIGINT.
//   node --import tsx test/bench/upstream.ts '{"instant":0,"paced":{"gapMs":20,"chunks":20},"slow":{"gapMs":100,"chunks":100}}'
import { startSandbox, type Sandbox } from '../../daemon/sandbox/server';

interface Paced {
  gapMs: number;
  chunks: number;
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as Record<string, Paced | 0>;
  const started: Record<string, Sandbox> = {};
  for (const [name, timing] of Object.entries(spec)) {
    started[name] = await startSandbox({
      name: `bench-${name}`,
      models: ['bench'],
      // Each content chunk is one word: `chunks` words, one every `gapMs`.
      ...(timing === 0 ? {} : { tokensPerSecond: 1000 / timing.gapMs, replyTokens: timing.chunks }),
    });
  }
  const ports = Object.fromEntries(Object.entries(started).map(([name, s]) => [name, s.port]));
  process.stdout.write(`${JSON.stringify({ ports })}\n`);
  const stop = async () => {
    await Promise.all(Object.values(started).map((s) => s.close()));
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

void main();
