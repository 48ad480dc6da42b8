// Shows the daemon's log (stderr, appended to <dataDir>/daemon.log by whoever started it) in the
// extension's log channel, line by line as it grows, with the daemon's own level.
import { watch, type FSWatcher } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type * as vscode from 'vscode';

const BACKLOG_BYTES = 32 * 1024;

export class LogTail implements vscode.Disposable {
  private watcher: FSWatcher | undefined;
  private offset = -1;
  private partial = '';
  private reading = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly channel: vscode.LogOutputChannel,
  ) {}

  async start(): Promise<void> {
    if (this.watcher) return;
    const size = await stat(this.file).then((s) => s.size, () => 0);
    this.offset = Math.max(0, size - BACKLOG_BYTES);
    this.kick();
    try {
      this.watcher = watch(this.file, () => this.kick());
    } catch {
      // No file yet: the daemon creates it when it starts; start() runs again then.
    }
  }

  private kick(): void {
    this.reading = this.reading.then(() => this.readMore()).catch(() => undefined);
  }

  private async readMore(): Promise<void> {
    const handle = await open(this.file, 'r');
    try {
      const { size } = await handle.stat();
      if (size < this.offset) this.offset = 0; // truncated
      if (size === this.offset) return;
      const buf = Buffer.alloc(size - this.offset);
      await handle.read(buf, 0, buf.length, this.offset);
      this.offset = size;
      const lines = (this.partial + buf.toString('utf8')).split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) this.write(line);
    } finally {
      await handle.close();
    }
  }

  private write(line: string): void {
    const m = /^\S+ (DEBUG|INFO|WARN|ERROR)\s+(.*)$/.exec(line);
    const text = `[daemon] ${m ? m[2] : line}`;
    switch (m?.[1]) {
      case 'ERROR':
        return this.channel.error(text);
      case 'WARN':
        return this.channel.warn(text);
      case 'DEBUG':
        return this.channel.debug(text);
      default:
        return this.channel.info(text);
    }
  }

  dispose(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}
