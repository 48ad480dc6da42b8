// The daemon's internal event bus: what happened, for whoever listens (the control channel that
// feeds the extension, metrics, alerts, the incident log). Emitters never wait for listeners, and a
// listener that throws is logged, not propagated, so a broken subscriber cannot fail a request.
import { EventEmitter } from 'node:events';
import type { BudgetAlert } from '../../shared/budget-status';
import type { LedgerEntry, LedgerHealth } from '../../shared/ledger';
import type { TeamLedgerHealth } from '../../shared/team-ledger';

export interface DeploymentStateChange {
  deployment: string;
  group: string;
  /** Health state before and after: unknown, healthy, degraded or unhealthy (ejected). */
  from: string;
  to: string;
  /** Circuit breaker state after the change: closed, open or half-open. */
  circuit: string;
  reason: string;
  at: string; // ISO-8601
  /** Set while the provider rejects the deployment's key (401/403); null once it no longer does. */
  keyRejected: string | null;
}

/** Event name -> payload. Add new events here so every emitter and listener is type-checked. */
export interface DaemonEvents {
  /** A request finished (success or failure); the payload is its ledger line, already written. */
  'request.finished': LedgerEntry;
  /** A deployment's health or circuit state changed. */
  'deployment.state': DeploymentStateChange;
  /** A budget crossed an alert threshold (once per budget, threshold and period). */
  'budget.alert': BudgetAlert;
  /** The effective config changed (file reload, key or setting changed over the control channel). */
  'config.reloaded': { groups: string[]; sandbox: boolean };
  /** The ledger's writes started or stopped failing, or (while failing) how many lines wait changed. */
  'ledger.state': LedgerHealth;
  /** Team mode: the team's shared state (Redis) became reachable or not. */
  'team.state': { state: 'ok' | 'degraded'; reason: string };
  /** Team mode: the team ledger's shipping started or stopped failing, or the team's month spend was read again. */
  'team.ledger': TeamLedgerHealth;
}

export class EventBus {
  private readonly emitter = new EventEmitter();

  constructor(private readonly onListenerError: (event: string, err: unknown) => void = () => {}) {
    this.emitter.setMaxListeners(100);
  }

  on<K extends keyof DaemonEvents>(event: K, listener: (payload: DaemonEvents[K]) => void): () => void {
    const safe = (payload: DaemonEvents[K]) => {
      try {
        listener(payload);
      } catch (err) {
        this.onListenerError(event, err);
      }
    };
    this.emitter.on(event, safe);
    return () => this.emitter.off(event, safe);
  }

  emit<K extends keyof DaemonEvents>(event: K, payload: DaemonEvents[K]): void {
    this.emitter.emit(event, payload);
  }
}
