// The extension's core: finds or starts the daemon, keeps the control connection, folds what the
// daemon says into one state, and tells the status bar, the spend view and the notifications.
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { DaemonState, ServerMessage } from '../../shared/protocol';
import { ControlClient } from '../control-client';
import { compatibility, findDaemon, launchDaemon, LOG_FILE_NAME, stopDaemon } from '../daemon-process';
import { INITIAL, reduce, withConnection, type ViewState } from '../model';
import { LogTail } from './log-tail';
import { readSettings, type Settings } from './settings';

const KEY_PROVIDERS = 'shepherd.keyProviders';
const secretName = (provider: string) => `shepherd.key.${provider}`;

export class Shepherd implements vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  private readonly client: ControlClient;
  private readonly changed = new vscode.EventEmitter<{ state: ViewState; message?: ServerMessage }>();
  readonly onDidChange = this.changed.event;
  private current: ViewState = INITIAL;
  private daemon: DaemonState | undefined;
  private tail: LogTail | undefined;
  private starting: Promise<void> | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  /** Set while the user stopped the daemon on purpose: no "daemon stopped" alarm then. */
  private stoppedOnPurpose = false;
  private warnedStopped = false;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel('Shepherd', { log: true });
    this.client = new ControlClient({
      discover: () => findDaemon(this.settings.dataDir),
      clientVersion: this.version,
      log: (level, message) => this.log[level](message),
      events: {
        message: (m) => this.onMessage(m),
        connected: (d) => void this.onConnected(d),
        disconnected: (reason, d) => this.onDisconnected(reason, d),
      },
    });
  }

  get state(): ViewState {
    return this.current;
  }

  get settings(): Settings {
    return readSettings();
  }

  get version(): string {
    return (this.context.extension.packageJSON as { version: string }).version;
  }

  get baseUrl(): string | undefined {
    return this.current.snapshot?.url ?? this.daemon?.url;
  }

  get connection(): ControlClient {
    return this.client;
  }

  /** Connects to the running daemon, starting one if none runs. Safe to call from every command. */
  ensureStarted(): Promise<void> {
    if (this.client.connected) return Promise.resolve();
    this.starting ??= this.startOrAttach().finally(() => (this.starting = undefined));
    return this.starting;
  }

  /** Connects to a daemon that already runs; starts none (for callers that must not, e.g. a silent model list). */
  async attachIfRunning(): Promise<void> {
    if (this.client.connected && this.current.snapshot) return;
    if (this.starting) return this.starting;
    if (await findDaemon(this.settings.dataDir)) await this.ensureStarted();
  }

  private async startOrAttach(): Promise<void> {
    const settings = this.settings;
    this.stoppedOnPurpose = false;
    this.setState(withConnection(this.current, 'starting', 'Looking for the Shepherd daemon…'));
    let daemon = await findDaemon(settings.dataDir);
    if (daemon) {
      const compat = compatibility(daemon, this.version);
      if (compat.reason) this.log.warn(compat.reason);
      if (!compat.ok) {
        this.log.info('stopping the incompatible daemon to start the bundled one');
        await stopDaemon(daemon);
        daemon = undefined;
      }
    }
    if (!daemon) {
      this.log.info(`starting the daemon (data directory ${settings.dataDir})`);
      try {
        daemon = await launchDaemon({
          dataDir: settings.dataDir,
          script: this.context.asAbsolutePath(join('dist', 'daemon.js')),
          execPath: process.execPath,
          env: process.env,
          port: settings.port > 0 ? settings.port : undefined,
        });
        this.log.info(`daemon ${daemon.version} started (pid ${daemon.pid}) at ${daemon.url}`);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        this.log.error(message);
        this.setState(withConnection(this.current, 'stopped', message));
        void this.startTail(settings.dataDir);
        throw err;
      }
    } else {
      this.log.info(`found daemon ${daemon.version} (pid ${daemon.pid}) at ${daemon.url}`);
    }
    this.daemon = daemon;
    void this.startTail(settings.dataDir);
    this.setState(withConnection(this.current, 'connecting', `Connecting to ${daemon.url}…`));
    const connected = new Promise<void>((resolve, reject) => {
      const sub = this.onDidChange(({ state }) => {
        if (state.connection === 'connected' && state.snapshot) {
          sub.dispose();
          resolve();
        }
      });
      setTimeout(() => {
        sub.dispose();
        reject(new Error('could not connect to the Shepherd daemon in time; see Shepherd: Show Logs'));
      }, 20_000).unref();
    });
    this.client.reconnectNow();
    await connected;
  }

  async stop(): Promise<void> {
    this.stoppedOnPurpose = true;
    this.client.stop();
    const daemon = await findDaemon(this.settings.dataDir);
    if (daemon) {
      this.log.info(`stopping daemon pid ${daemon.pid}`);
      if (!(await stopDaemon(daemon))) throw new Error(`the daemon (pid ${daemon.pid}) did not stop within 15 s`);
    }
    this.setState(withConnection(this.current, 'stopped', 'Stopped. Run "Shepherd: Start Daemon" to start it again.'));
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.ensureStarted();
  }

  /** Keys live in SecretStorage; the daemon gets them over the channel on every (re)connect. */
  async setKey(provider: string, key: string | undefined): Promise<void> {
    const providers = new Set(this.context.globalState.get<string[]>(KEY_PROVIDERS, []));
    if (key) {
      await this.context.secrets.store(secretName(provider), key);
      providers.add(provider);
    } else {
      await this.context.secrets.delete(secretName(provider));
      providers.delete(provider);
    }
    await this.context.globalState.update(KEY_PROVIDERS, [...providers]);
    await this.client.request((id) => ({ type: 'key.set', id, provider, key: key ?? null }));
  }

  private async sendStoredKeys(): Promise<void> {
    for (const provider of this.context.globalState.get<string[]>(KEY_PROVIDERS, [])) {
      const key = await this.context.secrets.get(secretName(provider));
      if (!key) continue;
      // Failures name the provider only: the key never reaches a log.
      await this.client.request((id) => ({ type: 'key.set', id, provider, key })).catch((err: unknown) => {
        this.log.warn(`the daemon did not take the stored key for ${provider}: ${err instanceof Error ? err.message : String(err)}`);
      });
    }
  }

  private onMessage(message: ServerMessage): void {
    const next = reduce(this.current, message);
    if (message.type === 'snapshot' && this.current.connection !== 'connected') {
      this.setState(withConnection(next, 'connected'), message);
      return;
    }
    if (next !== this.current || message.type === 'budget.alert') this.setState(next, message);
  }

  private async onConnected(daemon: DaemonState): Promise<void> {
    this.daemon = daemon;
    this.warnedStopped = false;
    this.log.info(`connected to the daemon at ${daemon.url}`);
    await this.sendStoredKeys();
    // Latency percentiles and error rates change without events: refresh them, slowly.
    clearInterval(this.refreshTimer);
    this.refreshTimer = setInterval(() => {
      if (vscode.window.state.focused) this.client.send({ type: 'snapshot.get' });
    }, 60_000);
  }

  private onDisconnected(reason: string, daemon: DaemonState | undefined): void {
    clearInterval(this.refreshTimer);
    if (this.current.connection === 'starting') return;
    if (this.stoppedOnPurpose) return;
    if (!daemon) {
      const was = this.current.connection;
      this.setState(withConnection(this.current, 'stopped', 'The Shepherd daemon is not running.'));
      if ((was === 'connected' || was === 'connecting') && !this.warnedStopped) {
        this.warnedStopped = true;
        this.log.warn(`the daemon stopped (${reason})`);
        void vscode.window.showErrorMessage('Shepherd: daemon stopped', 'Restart', 'Show Logs').then((choice) => {
          if (choice === 'Restart') void vscode.commands.executeCommand('shepherd.restart');
          if (choice === 'Show Logs') this.log.show();
        });
      }
    } else if (this.current.connection === 'connected') {
      this.log.warn(`lost the connection to the daemon (${reason}); reconnecting`);
      this.setState(withConnection(this.current, 'connecting', `Reconnecting: ${reason}`));
    }
  }

  private setState(state: ViewState, message?: ServerMessage): void {
    this.current = state;
    this.changed.fire({ state, message });
  }

  private async startTail(dataDir: string): Promise<void> {
    if (this.tail) return;
    this.tail = new LogTail(join(dataDir, LOG_FILE_NAME), this.log);
    await this.tail.start();
  }

  dispose(): void {
    clearInterval(this.refreshTimer);
    this.client.stop();
    this.tail?.dispose();
    this.changed.dispose();
    this.log.dispose();
  }
}
