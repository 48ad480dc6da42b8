// The editor-side settings (routing policy lives in the daemon's config file, not here).
import { homedir } from 'node:os';
import * as vscode from 'vscode';
import { resolveDataDir } from '../../shared/data-dir';
import type { DisplayCurrency } from '../format';
import type { NotificationLevel } from '../notify';

export interface Settings {
  autoStart: boolean;
  port: number;
  dataDir: string;
  defaultModel: string;
  currency: DisplayCurrency;
  notifications: NotificationLevel;
}

export function readSettings(): Settings {
  const c = vscode.workspace.getConfiguration('shepherd');
  const rate = c.get<number>('usdExchangeRate', 1);
  return {
    autoStart: c.get<boolean>('autoStart', false),
    port: c.get<number>('port', 0),
    // The same directory the CLI would use, so the extension and `shepherd start` find each other.
    dataDir: resolveDataDir(c.get<string>('dataDir', '') || undefined, process.env, process.platform, homedir()),
    defaultModel: c.get<string>('defaultModel', 'auto') || 'auto',
    currency: { code: (c.get<string>('displayCurrency', 'USD') || 'USD').toUpperCase(), rate: rate > 0 ? rate : 1 },
    notifications: c.get<NotificationLevel>('notifications', 'all'),
  };
}
