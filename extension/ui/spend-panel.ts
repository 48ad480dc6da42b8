// The spend view: one webview panel (restored after a reload of the window), fed the state on
// every change, throttled so a burst of requests redraws the charts a few times a second at most.
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { spendPage } from '../spend-html';
import { FromPageSchema, type ToPage } from '../webview-protocol';
import type { Shepherd } from './shepherd';

export const SPEND_VIEW_TYPE = 'shepherd.spend';
const REDRAW_MS = 250;

export class SpendPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly shepherd: Shepherd,
    private readonly extensionUri: vscode.Uri,
  ) {
    this.subscriptions.push(
      shepherd.onDidChange(() => this.schedule()),
      vscode.window.registerWebviewPanelSerializer(SPEND_VIEW_TYPE, {
        deserializeWebviewPanel: async (panel) => {
          this.adopt(panel);
          void shepherd.ensureStarted().catch(() => undefined);
        },
      }),
    );
  }

  show(focus?: 'health'): void {
    if (this.panel) {
      this.panel.reveal(vscode.ViewColumn.Active);
    } else {
      this.adopt(vscode.window.createWebviewPanel(SPEND_VIEW_TYPE, 'Shepherd Spend', vscode.ViewColumn.Active, this.options()));
    }
    this.post(focus);
  }

  private options(): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return { enableScripts: true, retainContextWhenHidden: false, localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist')] };
  }

  private adopt(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    panel.webview.options = this.options();
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'icon.png');
    const nonce = randomBytes(16).toString('base64');
    panel.webview.html = spendPage({
      cspSource: panel.webview.cspSource,
      nonce,
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview.js')).toString(),
    });
    panel.webview.onDidReceiveMessage((raw: unknown) => {
      const parsed = FromPageSchema.safeParse(raw);
      if (!parsed.success) return;
      if (parsed.data.type === 'ready') this.post();
      if (parsed.data.type === 'refresh') this.shepherd.connection.send({ type: 'snapshot.get' });
      if (parsed.data.type === 'openConfig') void vscode.commands.executeCommand('shepherd.openConfig');
    });
    panel.onDidChangeViewState(() => panel.visible && this.post());
    panel.onDidDispose(() => {
      if (this.panel === panel) this.panel = undefined;
    });
  }

  private schedule(): void {
    if (!this.panel || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.post();
    }, REDRAW_MS);
  }

  private post(focus?: 'health'): void {
    if (!this.panel?.visible && focus === undefined) return;
    const state = this.shepherd.state;
    const message: ToPage = {
      type: 'state',
      connection: state.connection,
      snapshot: state.snapshot ?? null,
      currency: this.shepherd.settings.currency,
      ...(focus ? { focus } : {}),
    };
    void this.panel?.webview.postMessage(message);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.panel?.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}
