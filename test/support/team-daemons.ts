// Real built daemons (node dist/daemon.js start) for the team suite, each with its own temp data dir and
// a config naming the team's servers; with no provider keys they serve the embedded sandbox. Plus the
// client load the tests drive through them, recording what each client saw complete.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LedgerEntry } from '../../shared/ledger';
import type { TeamConfig } from '../../shared/team-config';
import { presetConfig } from '../../daemon/config/presets';
import { cleanEnv, freePort, spawnCaptured, type Spawned } from './processes';

const DAEMON = join(__dirname, '..', '..', 'dist', 'daemon.js');

export interface TeamDaemon {
  url: string;
  dir: string;
  member: string;
  proc: Spawned;
  /** Starts it again on the same data dir and port (after kill or stop). */
  restart(): Promise<void>;
  /** SIGKILL: no shutdown, no last shipment. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
  /** The lines of its local ledger (every month file), parsed. */
  ledger(): LedgerEntry[];
  status(): Promise<{ teamLedger?: { state: string; waiting: number; shipped: number; lastError?: string } }>;
}

export type TeamSection = Omit<Partial<TeamConfig>, 'postgres'> & { postgres?: Partial<NonNullable<TeamConfig['postgres']>> };

export async function startTeamDaemon(member: string, team: TeamSection, options: { dir?: string } = {}): Promise<TeamDaemon> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), `shepherd-team-${member}-`));
  const config = { ...presetConfig(), team: { name: 'test-team', member, ...team } };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  const port = await freePort();
  const daemon: TeamDaemon = {
    url: `http://127.0.0.1:${port}`,
    dir,
    member,
    proc: undefined as unknown as Spawned,
    async restart() {
      const proc = spawnCaptured(process.execPath, [DAEMON, 'start', '--config', join(dir, 'config.json'), '--data-dir', dir, '--port', String(port)], {
        env: { ...cleanEnv(), SHEPHERD_LOG_LEVEL: 'info' },
      });
      daemon.proc = proc;
      const deadline = Date.now() + 20_000;
      while (!proc.stdout().includes('listening on')) {
        if (proc.child.exitCode !== null || Date.now() > deadline) throw new Error(`daemon ${member} did not start:\n${proc.stdout()}\n${proc.stderr()}`);
        await sleep(50);
      }
    },
    async kill() {
      daemon.proc.child.kill('SIGKILL');
      await daemon.proc.exit(5_000);
    },
    async stop() {
      daemon.proc.child.kill('SIGTERM');
      if ((await daemon.proc.exit(15_000)) === undefined) throw new Error(`daemon ${member} did not stop`);
    },
    ledger: () => ledgerLines(dir),
    async status() {
      return (await (await fetch(`${daemon.url}/v1/shepherd/status`)).json()) as Awaited<ReturnType<TeamDaemon['status']>>;
    },
  };
  await daemon.restart();
  return daemon;
}

export function ledgerLines(dir: string): LedgerEntry[] {
  const ledgerDir = join(dir, 'ledger');
  const out: LedgerEntry[] = [];
  for (const name of readdirSync(ledgerDir).filter((n) => /^\d{4}-\d{2}\.jsonl$/.test(n)).sort()) {
    for (const line of readFileSync(join(ledgerDir, name), 'utf8').split('\n')) if (line.trim()) out.push(JSON.parse(line) as LedgerEntry);
  }
  return out;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** One chat request; its x-request-id when it completed with 200, else the status (or the error) it got. */
export async function chat(url: string): Promise<{ id?: string; status: number | string }> {
  try {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'Say hi' }], max_tokens: 8 }),
    });
    await res.arrayBuffer();
    return res.status === 200 ? { id: res.headers.get('x-request-id') ?? undefined, status: 200 } : { status: res.status };
  } catch (err) {
    return { status: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * `concurrency` clients per daemon send requests until `until()` says stop (checked before each);
 * returns every request's outcome, by daemon.
 */
export async function load(daemons: TeamDaemon[], concurrency: number, until: () => boolean): Promise<Map<TeamDaemon, { id?: string; status: number | string }[]>> {
  const out = new Map(daemons.map((d) => [d, [] as { id?: string; status: number | string }[]]));
  await Promise.all(
    daemons.flatMap((d) =>
      Array.from({ length: concurrency }, async () => {
        while (!until()) out.get(d)!.push(await chat(d.url));
      }),
    ),
  );
  return out;
}

export async function waitFor<T>(what: string, ms: number, check: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (${String(last)})` : ''}`);
    await sleep(100);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
