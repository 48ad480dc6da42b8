// Shared health: a daemon that ejects a deployment on its own evidence (an opened circuit, a 429 with
// Retry-After) publishes it on the team's channel; the others take it as a hint (HealthBoard.hint:
// eject a closed circuit for that cooldown, no longer, unless they just saw it succeed) and confirm
// recovery with their own half-open trial. A daemon ignores its own messages.
import type { HealthBoard, LocalEjection } from '../../health/board';
import type { Logger } from '../../core/log';
import type { TeamRedis } from './connection';
import type Redis from 'ioredis';

interface Hint extends LocalEjection {
  from: string;
}

export class TeamHealth {
  private readonly sub: Redis;

  constructor(
    private readonly redis: TeamRedis,
    private readonly channel: string,
    private readonly daemonId: string,
    board: HealthBoard,
    log: Logger,
  ) {
    // Subscribing takes a connection of its own; ioredis subscribes again after a reconnect.
    this.sub = redis.client.duplicate({ enableOfflineQueue: true, lazyConnect: false, commandTimeout: undefined });
    this.sub.on('error', () => undefined); // the main connection reports the state
    void this.sub.subscribe(channel).catch(() => undefined);
    this.sub.on('message', (_channel: string, text: string) => {
      const hint = parseHint(text);
      if (!hint || hint.from === this.daemonId) return;
      if (board.hint(hint.deployment, hint.kind, hint.ms, hint.reason)) {
        log.info('team: deployment ejected on another daemon\'s word', { deployment: hint.deployment, kind: hint.kind, ms: hint.ms, reason: hint.reason });
      }
    });
    board.onLocalEjection((e) => void this.publish(e));
  }

  private async publish(e: LocalEjection): Promise<void> {
    const hint: Hint = { ...e, from: this.daemonId };
    await this.redis.run((c) => c.publish(this.channel, JSON.stringify(hint)));
  }

  async close(): Promise<void> {
    this.sub.disconnect();
  }
}

function parseHint(text: string): Hint | undefined {
  try {
    const v = JSON.parse(text) as Partial<Hint>;
    if (typeof v.from !== 'string' || typeof v.deployment !== 'string' || typeof v.ms !== 'number' || typeof v.reason !== 'string') return undefined;
    if (v.kind !== 'circuit' && v.kind !== 'rate_limit') return undefined;
    return { from: v.from, deployment: v.deployment, kind: v.kind, ms: v.ms, reason: v.reason };
  } catch {
    return undefined;
  }
}
