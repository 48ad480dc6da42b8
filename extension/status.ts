// What the two status bar items say and how they look, decided from the state alone. Pure: the
// vscode side only copies these fields onto StatusBarItems.
import type { BudgetStatus } from '../shared/budget-status';
import type { DeploymentSnapshot, Snapshot } from '../shared/protocol';
import { formatMoney, formatMs, formatPercent, type DisplayCurrency } from './format';
import type { ViewState } from './model';

export type Severity = 'ok' | 'warning' | 'error';

export interface StatusItem {
  text: string;
  /** Markdown. */
  tooltip: string;
  severity: Severity;
  /** Screen readers read this instead of the codicon text. */
  accessibility: string;
}

/** Taking traffic: usable, not ejected, circuit not open. `unknown` counts: no traffic yet is not a fault. */
export function isUp(d: DeploymentSnapshot): boolean {
  return d.available && d.state !== 'unhealthy' && d.circuit !== 'open';
}

function isImpaired(d: DeploymentSnapshot): boolean {
  return d.available && (d.state === 'degraded' || d.state === 'unhealthy' || d.circuit === 'open' || d.circuit === 'half-open');
}

export function healthItem(state: ViewState): StatusItem {
  const s = state.snapshot;
  if (state.connection === 'idle') {
    return { text: '$(circle-outline) Shepherd', tooltip: 'Shepherd is not started in this window.\n\nClick to find or start the daemon.', severity: 'ok', accessibility: 'Shepherd not started' };
  }
  if (state.connection !== 'connected' || !s) {
    const stopped = state.connection === 'stopped';
    const text = stopped ? '$(debug-disconnect) Shepherd: daemon stopped' : '$(sync~spin) Shepherd';
    const why = state.detail ?? (stopped ? 'The Shepherd daemon is not running.' : 'Connecting to the Shepherd daemon…');
    return { text, tooltip: stopped ? `${why}\n\nClick to restart it.` : why, severity: stopped ? 'error' : 'ok', accessibility: stopped ? 'Shepherd daemon stopped' : 'Shepherd connecting' };
  }
  const usable = s.deployments.filter((d) => d.available);
  const up = usable.filter(isUp).length;
  const anyGroupDown = s.groups.some((g) => g.down === true);
  const severity: Severity = anyGroupDown ? 'error' : usable.some(isImpaired) ? 'warning' : 'ok';
  const icon = severity === 'error' ? '$(error)' : severity === 'warning' ? '$(warning)' : '$(pulse)';
  const sandbox = s.sandbox ? ' (sandbox)' : '';
  return {
    text: `${icon} ${up}/${usable.length}${sandbox}`,
    tooltip: healthTable(s),
    severity,
    accessibility: `Shepherd: ${up} of ${usable.length} deployments healthy${anyGroupDown ? ', a model group is down' : ''}${sandbox}`,
  };
}

export function healthTable(s: Snapshot): string {
  const header = `**Shepherd ${s.version}**${s.sandbox ? ' — SANDBOX (simulated upstreams)' : ''}\n\n`;
  const down = s.groups.filter((g) => g.down).map((g) => g.name);
  const alert = down.length > 0 ? `$(error) Down: ${down.join(', ')}\n\n` : '';
  const rows = s.deployments.map((d) => {
    const state = !d.available ? `unavailable: ${d.unavailableReason ?? 'no key'}` : d.keyRejected ? `key rejected: ${d.keyRejected}` : d.state;
    return `| ${escapeCell(d.id)} | ${escapeCell(state)} | ${formatMs(d.p50Ms)} | ${formatPercent(d.errorRate)} | ${d.circuit ?? '—'} |`;
  });
  return `${header}${alert}| deployment | state | p50 | errors | circuit |\n|---|---|---|---|---|\n${rows.join('\n')}`;
}

/** The budget the status bar compares month-to-date spend with: the global monthly one, else any monthly one. */
export function mainBudget(budgets: BudgetStatus[]): BudgetStatus | undefined {
  const monthly = budgets.filter((b) => b.period === 'monthly');
  return monthly.find((b) => b.scope.kind === 'global') ?? monthly[0];
}

export function budgetSeverity(b: BudgetStatus | undefined): Severity {
  if (!b) return 'ok';
  if (b.state === 'exhausted' || b.usedRatio >= 1) return 'error';
  if (b.state === 'warning' || b.usedRatio >= 0.75) return 'warning';
  return 'ok';
}

export function spendItem(state: ViewState, currency: DisplayCurrency): StatusItem | undefined {
  const s = state.snapshot;
  if (state.connection !== 'connected' || !s) return undefined;
  const month = formatMoney(s.spend.month.costUsd, currency);
  const budget = mainBudget(s.budgets);
  const failing = s.ledger?.state === 'failing' ? s.ledger : undefined;
  const budgetLevel = budgetSeverity(budget);
  // Team mode with Redis unreachable: budgets and limits are this daemon's alone until it answers.
  const teamDown = s.team?.state === 'degraded' ? s.team : undefined;
  // Spend shown while the ledger cannot be written is not yet on disk: say so first.
  const severity: Severity = (failing || teamDown) && budgetLevel === 'ok' ? 'warning' : budgetLevel;
  const ledgerNote = failing ? ` $(warning) ledger: ${failing.waiting} waiting` : '';
  const teamNote = teamDown ? ' $(warning) team degraded' : '';
  // Sandbox spend is simulated and counted apart; in the sandbox it is the only spend that moves, so
  // the item shows it too, marked, rather than a real $0.00 that never changes.
  const sandboxMonth = s.spend.sandbox && s.spend.sandbox.month.costUsd > 0 ? formatMoney(s.spend.sandbox.month.costUsd, currency) : undefined;
  const sandboxNote = sandboxMonth ? ` (sandbox ${sandboxMonth})` : '';
  const text = `${budget ? `$(credit-card) ${month} / ${formatMoney(budget.limitUsd, currency)}` : `$(credit-card) ${month}`}${sandboxNote}${ledgerNote}${teamNote}`;
  const lines = [
    ...(failing
      ? [
          `$(warning) **The ledger cannot be written** since ${failing.since ?? 'recently'} (${failing.lastError ?? 'write failed'}): ${failing.waiting} line(s) wait in memory and are written when the disk accepts them${failing.dropped ? `; ${failing.dropped} dropped (the wait queue was full)` : ''}.`,
        ]
      : []),
    ...(teamDown
      ? [
          `$(warning) **Team state degraded** since ${teamDown.since ?? 'recently'}${teamDown.reason ? ` (${teamDown.reason})` : ''}: Redis cannot be reached, so budgets and rate limits run on this daemon's local state; its spend is counted for team "${teamDown.name}" when Redis answers again.`,
        ]
      : []),
    `**Spend this month:** ${month} (${s.spend.month.requests} requests)`,
    `**Today:** ${formatMoney(s.spend.today.costUsd, currency)} (${s.spend.today.requests} requests)`,
    ...(s.spend.sandbox
      ? [`**Sandbox (simulated, not counted):** ${formatMoney(s.spend.sandbox.month.costUsd, currency)} (${s.spend.sandbox.month.requests} requests) this month`]
      : []),
  ];
  if (budget) {
    lines.push(
      `**Budget "${budget.name}":** ${formatPercent(budget.usedRatio)} of ${formatMoney(budget.limitUsd, currency)} used; projected ${formatMoney(budget.projectedUsd, currency)} by month end`,
    );
  } else {
    lines.push('No monthly budget set.');
  }
  lines.push('', 'Click to open the spend view.');
  return {
    text,
    tooltip: lines.join('\n\n'),
    severity,
    accessibility: `Shepherd spend this month ${month}${budget ? ` of ${formatMoney(budget.limitUsd, currency)} budget` : ''}${sandboxMonth ? `; sandbox ${sandboxMonth} (simulated, not counted)` : ''}${failing ? `; ledger cannot be written, ${failing.waiting} lines waiting` : ''}${teamDown ? '; team state degraded' : ''}`,
  };
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
