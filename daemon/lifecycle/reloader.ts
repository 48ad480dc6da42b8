// Live config reload: results from the file watcher and from explicit reloads are applied one at a
// time, in order; a bad file or a failed apply keeps the last good config and says why.
import type { ShepherdConfig } from '../../shared/config';
import { formatProblems, loadConfigFile, type LoadResult } from '../config/load';
import type { Logger } from '../core/log';
import { messageOf } from './start-error';

export class Reloader {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly configPath: string,
    private readonly log: Logger,
    private readonly applyConfig: (config: ShepherdConfig) => Promise<void>,
  ) {}

  /** Re-reads the file now and resolves once it is applied (or refused). */
  async reload(): Promise<LoadResult> {
    return this.enqueue(await loadConfigFile(this.configPath));
  }

  /** Queues a result already read (by the watcher) behind any reload in progress. */
  enqueue(result: LoadResult): Promise<LoadResult> {
    const applied = this.chain.then(() => this.apply(result));
    this.chain = applied;
    return applied;
  }

  private async apply(result: LoadResult): Promise<LoadResult> {
    if (!result.ok) {
      this.log.error(`config not reloaded; keeping the last good config.\n${formatProblems(this.configPath, result.problems)}`);
      return result;
    }
    try {
      await this.applyConfig(result.config);
    } catch (err) {
      this.log.error('config reload failed; keeping the last good config', { error: messageOf(err) });
    }
    return result;
  }
}

type Server = ShepherdConfig['server'];

/**
 * The listening address cannot change without a restart: say so when an edit changes it, rather than
 * ignore it (once per edit, and not when the edit goes back to the address in use).
 */
export function warnAddressChange(log: Logger, url: string, listening: Server, before: Server, after: Server): void {
  for (const key of ['port', 'host'] as const) {
    if (after[key] !== before[key] && after[key] !== listening[key]) {
      log.warn(`server.${key} changed from ${listening[key]} to ${after[key]}; still listening on ${url} until Shepherd is restarted`);
    }
  }
}
