// The extension's picture of the daemon: the last snapshot with every live event since folded in.
// Pure: the status bar, the spend view and the notifications all read what this reduces to.
import type { BudgetAlert, BudgetStatus } from '../shared/budget-status';
import type { LedgerEntry } from '../shared/ledger';
import type { DeploymentSnapshot, ServerMessage, Snapshot, SpendTotals } from '../shared/protocol';
import { roundUsd } from '../shared/money';

/** idle: this window has not asked for the daemon yet (activation does not start it unless autoStart). */
export type Connection = 'idle' | 'starting' | 'connecting' | 'connected' | 'stopped';

export interface ViewState {
  connection: Connection;
  /** Why the connection is not up, for the status bar tooltip. */
  detail?: string;
  snapshot: Snapshot | undefined;
  /** Budget alerts received this session, newest last. */
  alerts: BudgetAlert[];
}

export const INITIAL: ViewState = { connection: 'idle', snapshot: undefined, alerts: [] };

const RECENT_MAX = 50;

export function withConnection(state: ViewState, connection: Connection, detail?: string): ViewState {
  return { ...state, connection, ...(detail !== undefined ? { detail } : { detail: undefined }) };
}

/** Folds one message from the daemon into the state; messages that carry no state leave it as is. */
export function reduce(state: ViewState, message: ServerMessage): ViewState {
  switch (message.type) {
    case 'snapshot':
      return { ...state, snapshot: message.snapshot };
    case 'deployment.state': {
      if (!state.snapshot) return state;
      const c = message.change;
      const deployments = state.snapshot.deployments.map((d) => (d.id === c.deployment ? { ...d, state: c.to, circuit: c.circuit, keyRejected: c.keyRejected ?? null } : d));
      const groups = state.snapshot.groups.map((g) => (g.name === c.group ? { ...g, down: groupDown(deployments.filter((d) => d.group === g.name)) } : g));
      return { ...state, snapshot: { ...state.snapshot, deployments, groups } };
    }
    case 'request.finished': {
      if (!state.snapshot) return state;
      const fresh = message.deployments ?? [];
      const snapshot = addRequest(state.snapshot, message.entry, message.cacheSavedUsd);
      if (fresh.length === 0) return { ...state, snapshot };
      const deployments = snapshot.deployments.map((d) => fresh.find((f) => f.id === d.id && f.group === d.group) ?? d);
      return { ...state, snapshot: { ...snapshot, deployments } };
    }
    case 'budget.alert': {
      const a = message.alert;
      const alerts = [...state.alerts, a].slice(-20);
      if (!state.snapshot) return { ...state, alerts };
      const budgets = state.snapshot.budgets.map((b) =>
        b.name === a.budget ? { ...b, spentUsd: Math.max(b.spentUsd, a.spentUsd), thresholdsHit: [...new Set([...b.thresholdsHit, a.threshold])] } : b,
      );
      return { ...state, alerts, snapshot: { ...state.snapshot, budgets } };
    }
    default:
      return state;
  }
}

/** A group is down when none of its usable deployments can take traffic. */
export function groupDown(deployments: DeploymentSnapshot[]): boolean {
  return deployments.every((d) => !d.available || d.circuit === 'open' || d.state === 'unhealthy');
}

function addRequest(s: Snapshot, e: LedgerEntry, saved: number | undefined): Snapshot {
  const add = (t: SpendTotals, entry: LedgerEntry) => addEntry(t, entry, saved);
  if (e.sandbox === true) return addSandboxRequest(s, e, add);
  const date = e.time.slice(0, 10);
  const todayDate = s.spend.days.at(-1)?.date;
  const inMonth = todayDate !== undefined && date.slice(0, 7) === todayDate.slice(0, 7);
  let days = s.spend.days;
  if (inMonth && todayDate !== undefined && date > todayDate) {
    days = [...days, { date, ...zero() }]; // the first request of a new day
  }
  days = days.map((d) => (d.date === date ? { ...d, ...add(d, e) } : d));
  const group = e.model ?? e.requestedModel;
  const byGroup = s.spend.byGroup.some((g) => g.group === group)
    ? s.spend.byGroup.map((g) => (g.group === group ? { ...g, ...add(g, e) } : g))
    : [...s.spend.byGroup, { group, ...add(zero(), e) }];
  const isToday = date === days.at(-1)?.date;
  return {
    ...s,
    spend: {
      today: isToday ? add(date === todayDate ? s.spend.today : zero(), e) : s.spend.today,
      month: inMonth ? add(s.spend.month, e) : s.spend.month,
      days,
      byGroup: inMonth ? byGroup.sort((a, b) => b.costUsd - a.costUsd || a.group.localeCompare(b.group)) : s.spend.byGroup,
    },
    budgets: s.budgets.map((b) => (budgetCovers(b, e) ? bumpBudget(b, e.costUsd) : b)),
    recent: [...s.recent, e].slice(-RECENT_MAX),
  };
}

/** A sandbox answer: counted apart (simulated spend), never in the month's real figures or a budget. */
function addSandboxRequest(s: Snapshot, e: LedgerEntry, add: (t: SpendTotals, e: LedgerEntry) => SpendTotals): Snapshot {
  const date = e.time.slice(0, 10);
  const todayDate = s.spend.days.at(-1)?.date;
  const recent = [...s.recent, e].slice(-RECENT_MAX);
  if (todayDate === undefined || date.slice(0, 7) !== todayDate.slice(0, 7)) return { ...s, recent };
  const was = s.spend.sandbox ?? { today: zero(), month: zero(), byGroup: [] };
  const group = e.model ?? e.requestedModel;
  const byGroup = was.byGroup.some((g) => g.group === group)
    ? was.byGroup.map((g) => (g.group === group ? { ...g, ...add(g, e) } : g))
    : [...was.byGroup, { group, ...add(zero(), e) }];
  const sandbox = {
    today: add(date === todayDate ? was.today : zero(), e),
    month: add(was.month, e),
    byGroup: byGroup.sort((a, b) => b.costUsd - a.costUsd || a.group.localeCompare(b.group)),
  };
  return { ...s, spend: { ...s.spend, sandbox }, recent };
}

function budgetCovers(b: BudgetStatus, e: LedgerEntry): boolean {
  if (e.time < b.periodStart || e.time >= b.resetsAt) return false;
  switch (b.scope.kind) {
    case 'global':
      return true;
    case 'group':
      return e.model === b.scope.value;
    case 'provider':
      return e.provider === b.scope.value;
    case 'key':
      return e.key === b.scope.value;
    case 'member':
      return e.member === b.scope.value;
  }
}

function bumpBudget(b: BudgetStatus, costUsd: number): BudgetStatus {
  const spentUsd = b.spentUsd + costUsd;
  return { ...b, spentUsd, remainingUsd: b.limitUsd - spentUsd, usedRatio: b.limitUsd > 0 ? spentUsd / b.limitUsd : 0 };
}

function zero(): SpendTotals {
  return { requests: 0, errors: 0, promptTokens: 0, completionTokens: 0, costUsd: 0 };
}

/**
 * `t` with one more request. The cache figures are kept and grow too (`saved`: what the daemon says
 * caching saved on this request), so "caching saved" keeps up between snapshots instead of vanishing.
 * An extra upstream call made for another request (`parent`: a hedge's cancelled loser, a cascade step
 * not kept) costs money but is not a request the client made.
 */
function addEntry(t: SpendTotals, e: LedgerEntry, saved: number | undefined): SpendTotals {
  const out: SpendTotals = {
    requests: t.requests + (e.parent === undefined ? 1 : 0),
    errors: t.errors + (e.ok || e.parent !== undefined ? 0 : 1),
    promptTokens: t.promptTokens + e.promptTokens,
    completionTokens: t.completionTokens + e.completionTokens,
    costUsd: roundUsd(t.costUsd + e.costUsd),
  };
  const cached = (t.cachedTokens ?? 0) + (e.cachedTokens ?? 0);
  const written = (t.cacheWriteTokens ?? 0) + (e.cacheWriteTokens ?? 0);
  if (cached > 0) out.cachedTokens = cached;
  if (written > 0) out.cacheWriteTokens = written;
  // A total without the figure but with earlier caching (the snapshot's days) stays without: a partial sum would mislead.
  const exact = t.cacheSavedUsd !== undefined || (!t.cachedTokens && !t.cacheWriteTokens);
  if (exact && (saved !== undefined || t.cacheSavedUsd !== undefined)) out.cacheSavedUsd = roundUsd((t.cacheSavedUsd ?? 0) + (saved ?? 0));
  return out;
}
