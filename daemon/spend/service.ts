// Budgets, alerts (events + webhooks), the persisted set of fired alerts and the metrics, put together
// for the daemon: opened before the ledger replay (which feeds it), started once the event bus and
// the config exist, reconfigured on every reload, stopped on shutdown.
import type { BudgetAlert } from '../../shared/budget-status';
import type { ShepherdConfig } from '../../shared/config';
import type { LedgerEntry } from '../../shared/ledger';
import type { EventBus } from '../core/events';
import type { Logger } from '../core/log';
import { Metrics, type MetricsSources } from '../metrics/metrics';
import { Budgets } from './budgets';
import { openFiredStore } from './fired-store';
import { Webhooks, type WebhookDeps } from './webhooks';

export interface SpendService {
  budgets: Budgets;
  metrics: Metrics;
  /** Subscribes to finished requests and applies the config (alerts already due fire now). */
  start(events: EventBus, config: ShepherdConfig): void;
  configure(config: ShepherdConfig): void;
  /**
   * Team mode: each alert is sent only when `claim` says this daemon is the one to send it (one Redis
   * SET NX per budget, period and threshold), so the team gets it once rather than once per daemon.
   */
  claimAlerts(claim: (alert: BudgetAlert) => Promise<boolean>): void;
  stop(): Promise<void>;
}

export interface SpendServiceOptions {
  dataDir: string;
  log: Logger;
  /** Read at scrape time; `budgets` is filled in here. */
  metricsSources: Omit<MetricsSources, 'budgets'>;
  now?: () => number;
  webhooks?: WebhookDeps;
}

export async function openSpend(options: SpendServiceOptions): Promise<SpendService> {
  const { log } = options;
  const fired = await openFiredStore(options.dataDir, (m) => log.warn(m));
  const webhooks = new Webhooks({ warn: (m) => log.warn(m), ...options.webhooks });
  let events: EventBus | undefined;
  let claim: ((alert: BudgetAlert) => Promise<boolean>) | undefined;
  const send = (alert: BudgetAlert) => {
    log.warn('budget alert', { budget: alert.budget, threshold: alert.threshold, spentUsd: alert.spentUsd, limitUsd: alert.limitUsd });
    events?.emit('budget.alert', alert);
    webhooks.send(alert);
  };
  const budgets = new Budgets(undefined, {
    now: options.now,
    fired,
    onAlert: (alert) => {
      if (!claim) return send(alert);
      void claim(alert).then((mine) => {
        if (mine) send(alert);
      });
    },
  });
  const metrics = new Metrics({ ...options.metricsSources, budgets: () => budgets.statuses() });
  let unsubscribe: (() => void) | undefined;

  const configure = (config: ShepherdConfig) => {
    webhooks.configure({ webhooks: config.alerts.webhooks, retries: config.alerts.retries, currency: config.currency });
    budgets.configure(config);
  };
  return {
    budgets,
    metrics,
    start(bus, config) {
      events = bus;
      unsubscribe = bus.on('request.finished', (entry: LedgerEntry) => {
        budgets.add(entry);
        metrics.observe(entry);
      });
      configure(config);
    },
    configure,
    claimAlerts(c) {
      claim = c;
    },
    async stop() {
      unsubscribe?.();
      metrics.close();
      await webhooks.close();
      await fired.flush();
    },
  };
}
