// Entry point. Activation stays cheap: it registers commands and providers and shows nothing heavy;
// the daemon is found or started on the first command, when the spend view is restored, or at
// start-up only if `shepherd.autoStart` asks for it.
import * as vscode from 'vscode';
import { AnswerDocuments, ANSWER_SCHEME } from './ui/answers';
import { registerCommands } from './ui/commands';
import { LM_VENDOR, ShepherdChatProvider } from './ui/lm-provider';
import { Shepherd } from './ui/shepherd';
import { SpendPanel } from './ui/spend-panel';
import { createStatusBar } from './ui/status-bar';

export function activate(context: vscode.ExtensionContext): void {
  const shepherd = new Shepherd(context);
  const answers = new AnswerDocuments();
  const spend = new SpendPanel(shepherd, context.extensionUri);
  const models = new ShepherdChatProvider(shepherd, context.extensionPath);
  context.subscriptions.push(
    shepherd,
    answers,
    spend,
    vscode.workspace.registerTextDocumentContentProvider(ANSWER_SCHEME, answers),
    createStatusBar(shepherd),
    models,
    vscode.lm.registerLanguageModelChatProvider(LM_VENDOR, models),
    ...registerCommands({ shepherd, context, answers, spend }),
  );
  if (shepherd.settings.autoStart) {
    shepherd.ensureStarted().catch((err: unknown) => shepherd.log.error(`could not start the daemon: ${err instanceof Error ? err.message : String(err)}`));
  }
}

export function deactivate(): void {
  // The daemon is shared with other windows and tools: it keeps running.
}
