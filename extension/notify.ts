// Which events deserve a notification, rate-limited so a flapping deployment or a burst of alerts
// does not bury the user. Pure: the clock is passed in.
import type { BudgetAlert } from '../shared/budget-status';
import { formatMoney, type DisplayCurrency } from './format';

export type NotificationLevel = 'all' | 'errors' | 'none';

export interface Notice {
  kind: 'budget' | 'group-down' | 'group-up';
  severity: 'info' | 'warning' | 'error';
  message: string;
  actions: ('Open Spend' | 'Show Health')[];
}

/** At most one notice per key per this many ms. */
export const NOTICE_INTERVAL_MS = 5 * 60_000;

export class NoticeLimiter {
  private readonly last = new Map<string, number>();

  constructor(private readonly intervalMs = NOTICE_INTERVAL_MS) {}

  /** True if a notice with this key may be shown now (and records it). */
  allow(key: string, now: number): boolean {
    const prev = this.last.get(key);
    if (prev !== undefined && now - prev < this.intervalMs) return false;
    this.last.set(key, now);
    return true;
  }
}

export function budgetNotice(alert: BudgetAlert, currency: DisplayCurrency): Notice {
  const over = alert.threshold >= 100;
  const what = alert.action === 'block' ? ' Requests it covers are now refused.' : alert.action === 'downgrade' ? ' Requests now go to cheaper models.' : '';
  return {
    kind: 'budget',
    severity: over ? 'error' : 'warning',
    message: `Shepherd: budget "${alert.budget}" is at ${alert.threshold}% (${formatMoney(alert.spentUsd, currency)} of ${formatMoney(alert.limitUsd, currency)}).${over ? what : ''}`,
    actions: ['Open Spend'],
  };
}

export function groupNotice(group: string, down: boolean): Notice {
  return down
    ? { kind: 'group-down', severity: 'error', message: `Shepherd: model group "${group}" is down (no deployment is taking traffic).`, actions: ['Show Health'] }
    : { kind: 'group-up', severity: 'info', message: `Shepherd: model group "${group}" has recovered.`, actions: ['Show Health'] };
}

/** Whether the user's notification level lets this notice through. */
export function wanted(notice: Notice, level: NotificationLevel): boolean {
  if (level === 'none') return false;
  if (level === 'errors') return notice.severity === 'error';
  return true;
}

/** Groups whose down flag changed between two states. */
export function groupChanges(before: { name: string; down?: boolean }[], after: { name: string; down?: boolean }[]): { group: string; down: boolean }[] {
  const was = new Map(before.map((g) => [g.name, g.down === true]));
  return after.filter((g) => was.has(g.name) && was.get(g.name) !== (g.down === true)).map((g) => ({ group: g.name, down: g.down === true }));
}
