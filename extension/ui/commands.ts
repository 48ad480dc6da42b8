// The command palette: daemon lifecycle, logs, config, base URL, keys, budgets, strategy, the spend
// view and the selection commands. Every command starts or finds the daemon first when it needs one.
import { join } from 'node:path';
import * as vscode from 'vscode';
import { STRATEGIES } from '../../shared/routing-config';
import type { SelectionTask } from '../prompts';
import type { AnswerDocuments } from './answers';
import { chooseModel, runSelectionTask } from './selection';
import type { Shepherd } from './shepherd';
import type { SpendPanel } from './spend-panel';

export interface CommandDeps {
  shepherd: Shepherd;
  context: vscode.ExtensionContext;
  answers: AnswerDocuments;
  spend: SpendPanel;
}

export function registerCommands(d: CommandDeps): vscode.Disposable[] {
  const { shepherd, context } = d;
  const started = () => shepherd.ensureStarted();
  const selection = (task: SelectionTask) => () => runSelectionTask(task, shepherd, context, d.answers);
  const commands: Record<string, () => unknown> = {
    'shepherd.start': started,
    'shepherd.stop': async () => {
      await shepherd.stop();
      void vscode.window.showInformationMessage('Shepherd: daemon stopped.');
    },
    'shepherd.restart': () => shepherd.restart(),
    'shepherd.showLogs': () => shepherd.log.show(),
    'shepherd.openConfig': () => openConfig(d),
    'shepherd.copyBaseUrl': async () => {
      await started();
      const url = `${shepherd.baseUrl}/v1`;
      await vscode.env.clipboard.writeText(url);
      void vscode.window.showInformationMessage(`Shepherd: copied ${url} (for Continue, Cline, Aider, scripts).`);
    },
    'shepherd.openSpend': async () => {
      d.spend.show();
      await started();
    },
    'shepherd.showHealth': async () => {
      await started();
      d.spend.show('health');
    },
    'shepherd.setApiKey': () => setApiKey(shepherd),
    'shepherd.setBudget': () => setBudget(shepherd),
    'shepherd.setStrategy': () => setStrategy(shepherd),
    'shepherd.reloadConfig': async () => {
      await started();
      await shepherd.connection.request((id) => ({ type: 'config.reload', id }));
      void vscode.window.showInformationMessage('Shepherd: config reloaded.');
    },
    'shepherd.chooseModel': () => chooseModel(shepherd, context),
    'shepherd.askSelection': selection('ask'),
    'shepherd.explainSelection': selection('explain'),
    'shepherd.refactorSelection': selection('refactor'),
    'shepherd.testsSelection': selection('tests'),
  };
  return Object.entries(commands).map(([id, run]) =>
    vscode.commands.registerCommand(id, async () => {
      try {
        await run();
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        shepherd.log.error(`${id}: ${message}`);
        void vscode.window.showErrorMessage(`Shepherd: ${message}`, 'Show Logs').then((c) => c && shepherd.log.show());
      }
    }),
  );
}

async function openConfig(d: CommandDeps): Promise<void> {
  const file = join(d.shepherd.settings.dataDir, 'config.json');
  // The daemon writes the starter config on its first start.
  await d.shepherd.ensureStarted();
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  await vscode.window.showTextDocument(doc);
}

async function setApiKey(shepherd: Shepherd): Promise<void> {
  await shepherd.ensureStarted();
  const providers = shepherd.state.snapshot?.providers ?? [];
  const provider = await vscode.window.showQuickPick(providers, { title: 'Shepherd: set the API key of which provider?' });
  if (!provider) return;
  const key = await vscode.window.showInputBox({
    title: `Shepherd: API key for ${provider}`,
    prompt: 'Kept in VS Code\'s secret storage and handed to the daemon in memory; empty removes it.',
    password: true,
    ignoreFocusOut: true,
  });
  if (key === undefined) return;
  await shepherd.setKey(provider, key.trim() || undefined);
  void vscode.window.showInformationMessage(key.trim() ? `Shepherd: key for ${provider} stored.` : `Shepherd: key for ${provider} removed.`);
}

async function setBudget(shepherd: Shepherd): Promise<void> {
  await shepherd.ensureStarted();
  const names = [...new Set([...(shepherd.state.snapshot?.budgets.map((b) => b.name) ?? []), 'monthly'])];
  const name = await vscode.window.showQuickPick(names, { title: 'Shepherd: set which budget? (written to the config file)' });
  if (!name) return;
  const value = await vscode.window.showInputBox({
    title: `Shepherd: limit of budget "${name}" in USD`,
    validateInput: (v) => (Number.isFinite(Number(v)) && Number(v) >= 0 && v.trim() !== '' ? undefined : 'a number of US dollars, e.g. 50'),
  });
  if (value === undefined) return;
  await shepherd.connection.request((id) => ({ type: 'budget.set', id, budget: name, limitUsd: Number(value) }));
  void vscode.window.showInformationMessage(`Shepherd: budget "${name}" set to $${Number(value)}.`);
}

async function setStrategy(shepherd: Shepherd): Promise<void> {
  await shepherd.ensureStarted();
  const scopes = ['(default for all groups)', ...(shepherd.state.snapshot?.groups.map((g) => g.name) ?? [])];
  const scope = await vscode.window.showQuickPick(scopes, { title: 'Shepherd: set the routing strategy of…' });
  if (!scope) return;
  const strategy = await vscode.window.showQuickPick([...STRATEGIES], { title: `Shepherd: strategy for ${scope}` });
  if (!strategy) return;
  const group = scope.startsWith('(') ? undefined : scope;
  await shepherd.connection.request((id) => ({ type: 'strategy.set', id, strategy, ...(group ? { group } : {}) }));
  void vscode.window.showInformationMessage(`Shepherd: ${group ?? 'default'} strategy set to ${strategy}.`);
}
