// One Redis connection for the team, and whether it works. Commands never wait in a queue: while the
// connection is down they fail at once, and every command has team.redis.timeoutMs. A failure or a
// timeout makes the state "degraded" (the daemon goes on with local state); the next success, or the
// connection coming back, makes it "ok" again, and listeners reconcile then.
import Redis from 'ioredis';
import type { Logger } from '../../core/log';
import { HEARTBEAT, LEASE, RATE } from './scripts';

/** The scripts, defined on the client (EVALSHA, loaded again by ioredis after a Redis restart). */
export interface ScriptCommands {
  shepLease(numKeys: number, ...args: (string | number)[]): Promise<number[]>;
  shepRate(numKeys: number, ...args: (string | number)[]): Promise<number[]>;
  shepHeartbeat(numKeys: number, ...args: (string | number)[]): Promise<number>;
}
export type TeamClient = Redis & ScriptCommands;

export type RedisState = 'ok' | 'degraded';

export class TeamRedis {
  readonly client: TeamClient;
  state: RedisState = 'degraded';
  since = Date.now();
  reason = 'connecting';
  private readonly listeners: ((state: RedisState) => void)[] = [];

  constructor(
    readonly url: string,
    readonly timeoutMs: number,
    private readonly log: Logger,
  ) {
    const client = new Redis(url, {
      lazyConnect: true,
      // A command while disconnected fails now instead of waiting: the request goes on with local state.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: timeoutMs,
      connectTimeout: Math.max(1_000, timeoutMs * 4),
      // Keeps trying in the background for as long as the daemon runs.
      retryStrategy: (times) => Math.min(100 * times, 1_000),
      // Commands of concurrent requests share round trips.
      enableAutoPipelining: true,
    });
    client.defineCommand('shepLease', { lua: LEASE });
    client.defineCommand('shepRate', { lua: RATE });
    client.defineCommand('shepHeartbeat', { lua: HEARTBEAT });
    this.client = client as TeamClient;
    client.on('ready', () => this.set('ok', 'connected'));
    client.on('close', () => this.set('degraded', 'connection closed'));
    client.on('error', (err: Error) => this.set('degraded', err.message));
  }

  /** First connection: waits at most a few timeouts, then goes on degraded (retries run on). */
  async connect(): Promise<void> {
    const wait = new Promise<void>((resolve) => setTimeout(resolve, Math.max(1_000, this.timeoutMs * 4)).unref());
    await Promise.race([this.client.connect().catch(() => undefined), wait]);
  }

  onState(listener: (state: RedisState) => void): void {
    this.listeners.push(listener);
  }

  /** Whether commands can be sent now (connected; they may still time out). */
  ready(): boolean {
    return this.client.status === 'ready';
  }

  /** Runs a command; undefined when Redis cannot answer in time (the state then reads degraded). */
  async run<T>(command: (c: TeamClient) => Promise<T>): Promise<T | undefined> {
    if (this.client.status !== 'ready') return undefined;
    try {
      const result = await command(this.client);
      if (this.state !== 'ok') this.set('ok', 'answering again');
      return result;
    } catch (err) {
      this.set('degraded', err instanceof Error ? err.message : String(err));
      return undefined;
    }
  }

  async close(): Promise<void> {
    this.listeners.length = 0;
    this.client.disconnect();
  }

  private set(state: RedisState, reason: string): void {
    if (state === this.state) return;
    this.state = state;
    this.since = Date.now();
    this.reason = reason;
    if (state === 'ok') this.log.info('team: Redis reachable; team state shared again', { reason });
    else this.log.warn('team: Redis unreachable; serving on local state (team state degraded)', { reason });
    for (const l of this.listeners) l(state);
  }
}
