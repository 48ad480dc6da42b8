// Ask / Explain / Refactor / Write Tests for the selection: the answer streams into a side editor as
// it arrives, ends with who served it and what it cost, and can be cancelled (which cancels the
// upstream request). Refactor shows a diff of the proposed replacement and applies it only if accepted.
import { extname } from 'node:path';
import * as vscode from 'vscode';
import type { ChatDone } from '../../shared/protocol';
import { ChatError } from '../control-client';
import { formatMoney, formatMs } from '../format';
import { modelPicks } from '../picks';
import { buildMessages, extractCode, taskTitle, type SelectionTask } from '../prompts';
import type { AnswerDocuments } from './answers';
import type { Shepherd } from './shepherd';

const MODEL_KEY = 'shepherd.commandModel';

export function commandModel(shepherd: Shepherd, context: vscode.ExtensionContext): string {
  return context.globalState.get<string>(MODEL_KEY) ?? shepherd.settings.defaultModel;
}

export async function chooseModel(shepherd: Shepherd, context: vscode.ExtensionContext): Promise<string | undefined> {
  await shepherd.ensureStarted();
  const current = commandModel(shepherd, context);
  const items = modelPicks(shepherd.state.snapshot, shepherd.settings.currency, current);
  const pick = await vscode.window.showQuickPick(items, { title: 'Shepherd: model for selection commands', placeHolder: `Now: ${current}`, matchOnDescription: true });
  if (!pick) return undefined;
  await context.globalState.update(MODEL_KEY, pick.model);
  return pick.model;
}

export async function runSelectionTask(task: SelectionTask, shepherd: Shepherd, context: vscode.ExtensionContext, answers: AnswerDocuments): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.selection.isEmpty) {
    void vscode.window.showInformationMessage(`Shepherd: select some code first, then run "${taskTitle(task)}".`);
    return;
  }
  const document = editor.document;
  const range = new vscode.Range(editor.selection.start, editor.selection.end);
  const code = document.getText(range);
  const version = document.version;
  let instruction: string | undefined;
  if (task === 'ask' || task === 'refactor') {
    instruction = await vscode.window.showInputBox({
      title: `Shepherd: ${taskTitle(task)}`,
      prompt: task === 'ask' ? 'What do you want to know about the selection?' : 'How should it change? (empty: for clarity, same behaviour)',
      ignoreFocusOut: true,
    });
    if (instruction === undefined || (task === 'ask' && instruction.trim() === '')) return;
  }
  await shepherd.ensureStarted();
  const model = commandModel(shepherd, context);
  const messages = buildMessages(task, { code, languageId: document.languageId, fileName: vscode.workspace.asRelativePath(document.uri), instruction });
  const answer = answers.create(`Shepherd ${taskTitle(task)}.md`, `# ${taskTitle(task)} · ${model}\n\n`);
  const answerDoc = await vscode.workspace.openTextDocument(answer);
  await vscode.window.showTextDocument(answerDoc, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true, preview: false });

  let text = '';
  let done: ChatDone | undefined;
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Shepherd: ${taskTitle(task)} (${model})`, cancellable: true },
    async (_progress, token) => {
      const abort = new AbortController();
      const sub = token.onCancellationRequested(() => abort.abort());
      try {
        done = await shepherd.connection.chat(model, messages, { onDelta: (t) => ((text += t), answers.append(answer, t)) }, abort.signal);
        answers.append(answer, `\n\n---\n${servedBy(done, shepherd)}\n`);
      } catch (err) {
        const cancelled = err instanceof ChatError && err.cancelled;
        answers.append(answer, `\n\n---\n*${cancelled ? 'Cancelled.' : `Failed: ${err instanceof Error ? err.message : String(err)}`}*\n`);
        if (!cancelled) void vscode.window.showErrorMessage(`Shepherd: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        sub.dispose();
        answers.flush();
      }
    },
  );
  if (task === 'refactor' && done) await proposeRefactor(answers, editor.document, range, code, version, text);
}

export function servedBy(done: ChatDone, shepherd: Shepherd): string {
  const currency = shepherd.settings.currency;
  const where = done.deployment ? ` via \`${done.deployment}\`` : '';
  const sandbox = done.sandbox ? ' · SANDBOX (simulated answer)' : '';
  return `*Served by **${done.model ?? 'unknown'}**${where} · ${done.promptTokens} → ${done.completionTokens} tokens · ${formatMoney(done.costUsd, currency)} · ${formatMs(done.latencyMs)}${sandbox}*`;
}

async function proposeRefactor(
  answers: AnswerDocuments,
  document: vscode.TextDocument,
  range: vscode.Range,
  original: string,
  version: number,
  answer: string,
): Promise<void> {
  const code = extractCode(answer);
  if (code === undefined) {
    void vscode.window.showWarningMessage('Shepherd: the answer has no code block, so there is nothing to apply.');
    return;
  }
  const full = document.getText();
  const start = document.offsetAt(range.start);
  const end = document.offsetAt(range.end);
  const proposal = answers.create(`Proposed${extname(document.fileName) || '.txt'}`, full.slice(0, start) + code + full.slice(end));
  await vscode.commands.executeCommand('vscode.diff', document.uri, proposal, `Shepherd Refactor: ${vscode.workspace.asRelativePath(document.uri)} ↔ proposed`, { preview: true });
  const choice = await vscode.window.showInformationMessage('Shepherd: apply the proposed refactor?', 'Apply', 'Discard');
  if (choice !== 'Apply') return;
  // The file may have changed while the answer streamed: apply only over the text that was selected.
  if (document.version !== version && document.getText(range) !== original) {
    void vscode.window.showWarningMessage('Shepherd: the selected code changed meanwhile; the refactor was not applied.');
    return;
  }
  const edit = new vscode.WorkspaceEdit();
  edit.replace(document.uri, range, code);
  if (!(await vscode.workspace.applyEdit(edit))) void vscode.window.showErrorMessage('Shepherd: could not apply the refactor.');
}
