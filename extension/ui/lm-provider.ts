// Shepherd's models inside VS Code's own language model API (vendor "shepherd"): any extension that
// calls vscode.lm.selectChatModels({ vendor: 'shepherd' }), and the chat view's model picker where the
// editor allows it, gets Shepherd's routing, failover and budgets. Requests go over the control
// channel to the daemon, which runs them through its own OpenAI-compatible port like any other client.
// The translation both ways is in ../lm-wire.ts, the model list in ../lm-info.ts; this file is the glue.
import { join } from 'node:path';
import * as vscode from 'vscode';
import { ChatError } from '../control-client';
import { lmModels, lmModelsKey, type LmModelInfo } from '../lm-info';
import { describeError, messageText, StreamReader, toRequestBody, TOKENS_PER_MESSAGE, TranslationError, type ToolCall } from '../lm-wire';
import type { LmDelta } from '../../shared/lm-protocol';
import type { Shepherd } from './shepherd';

export const LM_VENDOR = 'shepherd';

type Info = vscode.LanguageModelChatInformation & LmModelInfo;

interface Tokenizer {
  count(text: string): number;
}

export class ShepherdChatProvider implements vscode.LanguageModelChatProvider<Info>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeLanguageModelChatInformation = this.changed.event;
  private readonly subscription: vscode.Disposable;
  private listed = '';
  private tokenizer: Tokenizer | undefined;

  constructor(
    private readonly shepherd: Shepherd,
    private readonly extensionPath: string,
  ) {
    // Config reloads and health changes alter the list (names carry health); spend updates do not.
    this.subscription = shepherd.onDidChange(() => {
      const key = lmModelsKey(this.models());
      if (key === this.listed) return;
      this.listed = key;
      this.changed.fire();
    });
  }

  private models(): Info[] {
    const s = this.shepherd.state;
    return s.connection === 'connected' ? lmModels(s.snapshot, this.shepherd.settings.currency) : [];
  }

  async provideLanguageModelChatInformation(options: vscode.PrepareLanguageModelChatModelOptions): Promise<Info[]> {
    try {
      // Asked silently (e.g. selectChatModels), only a daemon that already runs is joined: listing
      // models must not start one. Asked by the user, the daemon is started as by any command.
      if (options.silent) await this.shepherd.attachIfRunning();
      else await this.shepherd.ensureStarted();
    } catch (err) {
      this.shepherd.log.warn(`language models: ${err instanceof Error ? err.message : String(err)}`);
    }
    const models = this.models();
    this.listed = lmModelsKey(models);
    return models;
  }

  async provideLanguageModelChatResponse(
    model: Info,
    messages: readonly vscode.LanguageModelChatRequestMessage[],
    options: vscode.ProvideLanguageModelChatResponseOptions,
    progress: vscode.Progress<vscode.LanguageModelResponsePart>,
    token: vscode.CancellationToken,
  ): Promise<void> {
    const client = requestInitiator(options);
    const body = translate(() => toRequestBody(model.id, messages, options));
    try {
      await this.shepherd.ensureStarted();
    } catch (err) {
      throw lmError(describeError(undefined, undefined, err instanceof Error ? err.message : String(err), model.id));
    }
    const abort = new AbortController();
    const cancelled = token.onCancellationRequested(() => abort.abort());
    const reader = new StreamReader();
    const report = (calls: ToolCall[]) => {
      for (const c of calls) progress.report(new vscode.LanguageModelToolCallPart(c.callId, c.name, c.input));
    };
    // A bad answer found while streaming (a tool call with broken arguments) stops the request; the
    // handler runs inside the socket's message event, where it must not throw.
    let broken: unknown;
    const onDelta = (delta: LmDelta) => {
      if (broken !== undefined) return;
      try {
        const text = reader.push(delta);
        if (text) progress.report(new vscode.LanguageModelTextPart(text));
        if (delta.finishReason) report(reader.finish());
      } catch (err) {
        broken = err;
        abort.abort();
      }
    };
    try {
      const done = await this.shepherd.connection.lm(body, client, { onDelta }, abort.signal);
      report(reader.finish());
      this.shepherd.log.info(
        `language model request from ${client ?? 'an unnamed caller'}: ${done.model ?? model.id} via ${done.deployment ?? '?'}, ${done.promptTokens}+${done.completionTokens} tokens`,
      );
    } catch (caught) {
      const err = broken ?? caught;
      // A cancelled request ends quietly: the caller asked for it.
      if (token.isCancellationRequested) return;
      if (err instanceof TranslationError) throw new Error(`Shepherd could not read the answer: ${err.message}`);
      if (err instanceof ChatError) throw lmError(describeError(err.status, err.code, err.message, model.id));
      throw err;
    } finally {
      cancelled.dispose();
    }
  }

  async provideTokenCount(_model: Info, text: string | vscode.LanguageModelChatRequestMessage): Promise<number> {
    // Loaded on first use from its own bundle (see esbuild.mjs): most windows never count.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    this.tokenizer ??= require(join(this.extensionPath, 'dist', 'tokenizer.js')) as Tokenizer;
    return typeof text === 'string' ? this.tokenizer.count(text) : TOKENS_PER_MESSAGE + this.tokenizer.count(messageText(text));
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}

/**
 * The extension that made the request. VS Code passes it as `requestInitiator` (an extension id, or
 * "core" for the editor's own chat) since 1.10x; @types/vscode 1.104 does not declare it yet, hence the
 * guarded read. Undefined when absent: the ledger line then has no client.
 */
export function requestInitiator(options: object): string | undefined {
  const value = (options as { requestInitiator?: unknown }).requestInitiator;
  return typeof value === 'string' && value.length > 0 && value.length <= 100 ? value : undefined;
}

function translate<T>(run: () => T): T {
  try {
    return run();
  } catch (err) {
    throw err instanceof TranslationError ? new Error(`Shepherd could not send this request: ${err.message}`) : err;
  }
}

function lmError(e: ReturnType<typeof describeError>): Error {
  switch (e.kind) {
    case 'Blocked':
      return vscode.LanguageModelError.Blocked(e.message);
    case 'NoPermissions':
      return vscode.LanguageModelError.NoPermissions(e.message);
    case 'NotFound':
      return vscode.LanguageModelError.NotFound(e.message);
    case 'Unknown':
      return new vscode.LanguageModelError(e.message);
  }
}
