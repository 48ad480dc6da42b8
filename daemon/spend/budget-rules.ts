// Budget decisions without state or I/O: what a budget covers, which thresholds a spend has crossed,
// its state, and the 402 a blocked request receives. Amounts are integers of 1e-10 USD (see cost.ts).
import type { BudgetStatus } from '../../shared/budget-status';
import type { BudgetConfig, ShepherdConfig } from '../../shared/config';
import { COST_UNITS_PER_USD } from './cost';
import { formatMoney, type DisplayCurrency } from '../../shared/money';
import type { Period, PeriodKind } from './period';

export type BudgetScope = BudgetStatus['scope'];

export interface BudgetRule {
  name: string;
  scope: BudgetScope;
  period: PeriodKind;
  startDay: number;
  limitUsd: number;
  limitUnits: number;
  /** Ascending, without duplicates. */
  thresholds: number[];
  action: BudgetConfig['action'];
  /** action "downgrade": the group to send requests to (resolved; undefined when there is none). */
  downgradeTo?: string;
}

/** Who a ledger entry or request belongs to, as far as scopes are concerned. */
export interface Subject {
  group: string | null;
  provider: string | null;
  key: string | null;
  /** Team mode: the member the request belongs to. */
  member: string | null;
}

export function rulesFrom(config: ShepherdConfig): BudgetRule[] {
  return Object.entries(config.budgets).map(([name, b]) => ({
    name,
    scope: scopeOf(b),
    period: b.period,
    startDay: b.startDay,
    limitUsd: b.limitUsd,
    limitUnits: Math.round(b.limitUsd * COST_UNITS_PER_USD),
    thresholds: [...new Set(b.thresholds)].sort((a, c) => a - c),
    action: b.action,
    downgradeTo: b.action === 'downgrade' ? downgradeTarget(b, config) : undefined,
  }));
}

function scopeOf(b: BudgetConfig): BudgetScope {
  if (b.scope?.group !== undefined) return { kind: 'group', value: b.scope.group };
  if (b.scope?.provider !== undefined) return { kind: 'provider', value: b.scope.provider };
  if (b.scope?.key !== undefined) return { kind: 'key', value: b.scope.key };
  if (b.scope?.member !== undefined) return { kind: 'member', value: b.scope.member };
  return { kind: 'global' };
}

/** downgradeTo, else the group `auto` uses for its cheapest tier, when that group exists. */
function downgradeTarget(b: BudgetConfig, config: ShepherdConfig): string | undefined {
  const target = b.downgradeTo ?? config.routing.auto.tiers.simple;
  return target !== undefined && Object.hasOwn(config.models, target) ? target : undefined;
}

export function covers(scope: BudgetScope, s: Subject): boolean {
  switch (scope.kind) {
    case 'global':
      return true;
    case 'group':
      return s.group === scope.value;
    case 'provider':
      return s.provider === scope.value;
    case 'key':
      return s.key === scope.value;
    case 'member':
      return s.member === scope.value;
  }
}

/** Thresholds (percent) reached by `spent`, ascending. A zero limit is crossed by any spend at all. */
export function crossedThresholds(thresholds: readonly number[], spentUnits: number, limitUnits: number): number[] {
  return thresholds.filter((t) => (limitUnits === 0 ? spentUnits > 0 : spentUnits * 100 >= t * limitUnits));
}

export function usedRatio(spentUnits: number, limitUnits: number): number {
  return limitUnits === 0 ? 1 : spentUnits / limitUnits;
}

export function stateOf(rule: BudgetRule, spentUnits: number): BudgetStatus['state'] {
  if (spentUnits >= rule.limitUnits) return 'exhausted';
  return crossedThresholds(rule.thresholds, spentUnits, rule.limitUnits).length > 0 ? 'warning' : 'ok';
}

/** The 402 for a request a budget refuses: it names the budget, its limit and when it resets. */
/** Why a request is refused: the budget, what it says, and when the period resets. */
export interface BudgetBlock {
  budget: string;
  message: string;
  /** Epoch ms at which the budget's period ends. */
  resetsAt: number;
}

export function blockVerdict(
  rule: BudgetRule,
  spentUnits: number,
  period: Period,
  currency: DisplayCurrency,
  estimateUsd?: number,
): BudgetBlock {
  const spent = formatMoney(spentUnits / COST_UNITS_PER_USD, currency);
  const limit = formatMoney(rule.limitUsd, currency);
  const resets = new Date(period.end).toISOString();
  const why =
    spentUnits >= rule.limitUnits
      ? `is exhausted: ${spent} of its ${limit} ${rule.period} limit spent`
      : `would be exceeded: ${spent} of its ${limit} ${rule.period} limit spent, and this request is estimated at ${formatMoney(estimateUsd ?? 0, currency)}`;
  return { budget: rule.name, message: `Shepherd budget "${rule.name}"${scopeText(rule.scope)} ${why}; it resets at ${resets}`, resetsAt: period.end };
}

export function scopeText(scope: BudgetScope): string {
  return scope.kind === 'global' ? '' : ` (${scope.kind} ${scope.value})`;
}
