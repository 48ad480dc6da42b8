// The two status bar items (health, spend), redrawn from the state on every change, and the
// notifications for budget alerts and groups going down or recovering.
import * as vscode from 'vscode';
import type { ServerMessage } from '../../shared/protocol';
import type { ViewState } from '../model';
import { budgetNotice, groupChanges, groupNotice, NoticeLimiter, wanted, type Notice } from '../notify';
import { healthItem, spendItem, type Severity, type StatusItem } from '../status';
import type { Shepherd } from './shepherd';

export function createStatusBar(shepherd: Shepherd): vscode.Disposable {
  const health = vscode.window.createStatusBarItem('shepherd.health', vscode.StatusBarAlignment.Right, 100);
  health.name = 'Shepherd Health';
  const spend = vscode.window.createStatusBarItem('shepherd.spend', vscode.StatusBarAlignment.Right, 99);
  spend.name = 'Shepherd Spend';
  spend.command = 'shepherd.openSpend';
  const limiter = new NoticeLimiter();
  let previous: ViewState | undefined;

  const draw = (state: ViewState, message?: ServerMessage) => {
    const h = healthItem(state);
    apply(health, h);
    health.command = state.connection === 'stopped' ? 'shepherd.restart' : state.connection === 'idle' ? 'shepherd.start' : 'shepherd.showHealth';
    health.show();
    const s = spendItem(state, shepherd.settings.currency);
    if (s) {
      apply(spend, s);
      spend.show();
    } else {
      spend.hide();
    }
    notify(shepherd, limiter, previous, state, message);
    previous = state;
  };
  draw(shepherd.state);
  const sub = shepherd.onDidChange(({ state, message }) => draw(state, message));
  return vscode.Disposable.from(health, spend, sub);
}

function apply(item: vscode.StatusBarItem, s: StatusItem): void {
  item.text = s.text;
  const tooltip = new vscode.MarkdownString(s.tooltip, true);
  item.tooltip = tooltip;
  item.backgroundColor = background(s.severity);
  item.accessibilityInformation = { label: s.accessibility, role: 'button' };
}

function background(severity: Severity): vscode.ThemeColor | undefined {
  if (severity === 'error') return new vscode.ThemeColor('statusBarItem.errorBackground');
  if (severity === 'warning') return new vscode.ThemeColor('statusBarItem.warningBackground');
  return undefined;
}

function notify(shepherd: Shepherd, limiter: NoticeLimiter, before: ViewState | undefined, after: ViewState, message: ServerMessage | undefined): void {
  const { notifications, currency } = shepherd.settings;
  const notices: { key: string; notice: Notice }[] = [];
  if (message?.type === 'budget.alert') {
    notices.push({ key: `budget:${message.alert.budget}:${message.alert.threshold}`, notice: budgetNotice(message.alert, currency) });
  }
  if (before?.snapshot && after.snapshot && before.connection === 'connected') {
    for (const change of groupChanges(before.snapshot.groups, after.snapshot.groups)) {
      notices.push({ key: `group:${change.group}:${change.down}`, notice: groupNotice(change.group, change.down) });
    }
  }
  for (const { key, notice } of notices) {
    if (!wanted(notice, notifications) || !limiter.allow(key, Date.now())) continue;
    const show = notice.severity === 'error' ? vscode.window.showErrorMessage : notice.severity === 'warning' ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
    void show(notice.message, ...notice.actions).then((choice) => {
      if (choice === 'Open Spend') void vscode.commands.executeCommand('shepherd.openSpend');
      if (choice === 'Show Health') void vscode.commands.executeCommand('shepherd.showHealth');
    });
  }
}
