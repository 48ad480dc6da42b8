// Budget alerts to webhooks: generic JSON (the alert itself) or Slack-compatible ({"text": ...}).
// Each delivery is retried with exponential backoff on network errors, 429 and 5xx; other answers are
// final. Deliveries run in the background and never hold up a request.
import type { BudgetAlert } from '../../shared/budget-status';
import { scopeText } from './budget-rules';
import { formatMoney, USD, type DisplayCurrency } from '../../shared/money';

export interface WebhookTarget {
  url: string;
  format: 'json' | 'slack';
  headers?: Record<string, string>;
}

export interface WebhookSettings {
  webhooks: WebhookTarget[];
  /** Further tries after the first failed one. */
  retries: number;
  currency: DisplayCurrency;
}

export interface WebhookDeps {
  /** POSTs and resolves with the HTTP status; rejects on a network failure. Default: fetch. */
  post?: (url: string, body: string, headers: Record<string, string>, signal: AbortSignal) => Promise<number>;
  /** Waits; resolves early (false) when the signal aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<boolean>;
  warn?: (message: string) => void;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

const ATTEMPT_TIMEOUT_MS = 10_000;

export class Webhooks {
  private settings: WebhookSettings = { webhooks: [], retries: 5, currency: USD };
  private readonly stopping = new AbortController();
  private readonly pending = new Set<Promise<void>>();
  private readonly post: NonNullable<WebhookDeps['post']>;
  private readonly sleep: NonNullable<WebhookDeps['sleep']>;
  private readonly warn: (message: string) => void;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(deps: WebhookDeps = {}) {
    this.post = deps.post ?? fetchPost;
    this.sleep = deps.sleep ?? sleep;
    this.warn = deps.warn ?? (() => {});
    this.baseDelayMs = deps.baseDelayMs ?? 1_000;
    this.maxDelayMs = deps.maxDelayMs ?? 60_000;
  }

  configure(settings: WebhookSettings): void {
    this.settings = settings;
  }

  /** Starts delivering `alert` to every configured webhook. */
  send(alert: BudgetAlert): void {
    if (this.stopping.signal.aborted) return;
    const { retries, currency } = this.settings;
    for (const hook of this.settings.webhooks) {
      const p = this.deliver(hook, webhookBody(alert, hook.format, currency), retries).finally(() => this.pending.delete(p));
      this.pending.add(p);
    }
  }

  /** Resolves when every delivery started so far has finished (success or final failure). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Stops waiting between retries and abandons what is left. */
  async close(): Promise<void> {
    this.stopping.abort();
    await this.idle();
  }

  private async deliver(hook: WebhookTarget, body: string, retries: number): Promise<void> {
    const headers = { ...hook.headers, 'content-type': 'application/json' };
    const where = new URL(hook.url).origin; // never the path or query: they may hold a token
    for (let attempt = 0; ; attempt++) {
      let why: string;
      try {
        const signal = AbortSignal.any([this.stopping.signal, AbortSignal.timeout(ATTEMPT_TIMEOUT_MS)]);
        const status = await this.post(hook.url, body, headers, signal);
        if (status >= 200 && status < 300) return;
        why = `HTTP ${status}`;
        if (status !== 429 && status < 500) {
          this.warn(`budget alert webhook ${where} refused the alert (${why}); not retried`);
          return;
        }
      } catch (err) {
        why = err instanceof Error ? err.message : String(err);
      }
      if (attempt >= retries || this.stopping.signal.aborted) {
        this.warn(`budget alert webhook ${where} failed after ${attempt + 1} tries (${why})`);
        return;
      }
      const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** attempt);
      if (!(await this.sleep(delay, this.stopping.signal))) return;
    }
  }
}

/** The request body for one alert in the webhook's format. */
export function webhookBody(alert: BudgetAlert, format: WebhookTarget['format'], currency: DisplayCurrency): string {
  if (format === 'json') return JSON.stringify({ type: 'budget.alert', ...alert });
  const spent = formatMoney(alert.spentUsd, currency);
  const limit = formatMoney(alert.limitUsd, currency);
  const then =
    alert.threshold >= 100 && alert.action !== 'alert'
      ? alert.action === 'block'
        ? ' Requests it covers are now refused until it resets.'
        : ' Requests it covers now go to a cheaper model.'
      : '';
  return JSON.stringify({
    text: `:warning: Shepherd budget "${alert.budget}"${scopeText(alert.scope)} reached ${alert.threshold}%: ${spent} of ${limit} spent (period from ${alert.periodStart}).${then}`,
  });
}

async function fetchPost(url: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<number> {
  const res = await fetch(url, { method: 'POST', body, headers, signal });
  await res.body?.cancel().catch(() => undefined);
  return res.status;
}

function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(ok);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    timer.unref();
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
