// Starts a real daemon in-process against sandboxes the test controls, with its own temp data dir,
// and gives back an official `openai` client pointed at it.
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import type { ShepherdConfigInput } from '../../shared/config';
import type { LedgerEntry } from '../../shared/ledger';
import { createLogger, type Logger } from '../../daemon/core/log';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../daemon/sandbox/server';
import { startDaemon, type RunningDaemon, type StartOptions } from '../../daemon/start';

export interface Harness {
  daemon: RunningDaemon;
  client: OpenAI;
  dir: string;
  configPath: string;
  logs: string[];
  sandboxes: Sandbox[];
  ledgerEntries(): Promise<LedgerEntry[]>;
  writeConfig(config: ShepherdConfigInput | string): Promise<void>;
  close(): Promise<void>;
}

/** Log lines are kept for assertions instead of cluttering the test output. */
export function captureLogger(lines: string[]): Logger {
  return createLogger({ level: 'debug', write: (line) => lines.push(line) });
}

export async function startSandboxes(count: number, options: SandboxOptions = {}): Promise<Sandbox[]> {
  const out: Sandbox[] = [];
  for (let i = 0; i < count; i++) out.push(await startSandbox({ name: `test-${i}`, ...options }));
  return out;
}

/**
 * A config whose group "chat" (alias "chat-alias") has one deployment per sandbox, in order. No
 * background probes (tests count upstream requests) and no second pass over a failed plan (tests
 * count attempts); tests of those set their own `routing`.
 */
export function configFor(sandboxes: Sandbox[], extra: Partial<ShepherdConfigInput> = {}): ShepherdConfigInput {
  const providers: NonNullable<ShepherdConfigInput['providers']> = {};
  sandboxes.forEach((s, i) => {
    providers[`up${i}`] = { baseUrl: s.url, apiKey: `sk-test-${i}-secret` };
  });
  return {
    sandbox: false,
    providers,
    models: {
      chat: {
        aliases: ['chat-alias'],
        price: { input: 2, output: 8 },
        deployments: sandboxes.map((_, i) => ({ provider: `up${i}`, model: `upstream-model-${i}` })),
      },
    },
    upstream: { connectMs: 2_000, firstByteMs: 5_000, idleMs: 5_000 },
    routing: { health: { probes: { enabled: false } }, retry: { rounds: 0 } },
    ...extra,
  };
}

export async function startHarness(
  config: ShepherdConfigInput | string,
  options: { sandboxes?: Sandbox[]; start?: Partial<StartOptions>; clientOptions?: Partial<ConstructorParameters<typeof OpenAI>[0]> } = {},
): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'shepherd-test-'));
  const configPath = join(dir, 'config.json');
  const writeConfig = (c: ShepherdConfigInput | string) =>
    writeFile(configPath, typeof c === 'string' ? c : JSON.stringify(c, null, 2));
  await writeConfig(config);
  const logs: string[] = [];
  const daemon = await startDaemon({
    configPath,
    dataDir: dir,
    port: 0,
    env: {},
    log: captureLogger(logs),
    graceMs: 2_000,
    ...options.start,
  });
  const client = new OpenAI({ baseURL: `${daemon.url}/v1`, apiKey: 'unused-by-shepherd', maxRetries: 0, timeout: 15_000, ...options.clientOptions });
  const sandboxes = options.sandboxes ?? [];
  return {
    daemon,
    client,
    dir,
    configPath,
    logs,
    sandboxes,
    writeConfig,
    ledgerEntries: () => readLedger(dir),
    async close() {
      await daemon.stop();
      await Promise.all(sandboxes.map((s) => s.close()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Every ledger line on disk, parsed; a test fails loudly if a line is not JSON. */
export async function readLedger(dataDir: string): Promise<LedgerEntry[]> {
  const ledgerDir = join(dataDir, 'ledger');
  let files: string[];
  try {
    files = (await readdir(ledgerDir)).filter((f) => /^\d{4}-\d{2}\.jsonl$/.test(f)).sort(); // month files, not a fallback file
  } catch {
    return [];
  }
  const entries: LedgerEntry[] = [];
  for (const f of files) {
    const text = await readFile(join(ledgerDir, f), 'utf8');
    for (const line of text.split('\n')) if (line.trim()) entries.push(JSON.parse(line) as LedgerEntry);
  }
  return entries;
}

/** Polls until `check` returns a value, or fails after `ms`. */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, ms = 5_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
