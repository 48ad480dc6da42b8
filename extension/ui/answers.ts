// Read-only virtual documents for streamed answers and proposed refactors: they fill in as text
// arrives, never ask to be saved, and can be shown side by side or in a diff.
import * as vscode from 'vscode';

export const ANSWER_SCHEME = 'shepherd-answer';
const FLUSH_MS = 60;

export class AnswerDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly dirty = new Map<string, vscode.Uri>();
  private timer: NodeJS.Timeout | undefined;
  private counter = 0;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '';
  }

  /** A new document; `name` ends in .md for an answer, or the source's extension for a proposal. */
  create(name: string, text = ''): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: ANSWER_SCHEME, path: `/${name}`, query: String(++this.counter) });
    this.texts.set(uri.toString(), text);
    return uri;
  }

  text(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '';
  }

  append(uri: vscode.Uri, more: string): void {
    this.texts.set(uri.toString(), this.text(uri) + more);
    // Batched: a fast stream redraws the editor a few times a second, not once per token.
    this.dirty.set(uri.toString(), uri);
    this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const uri of this.dirty.values()) this.changed.fire(uri);
    this.dirty.clear();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.changed.dispose();
  }
}
