// Formatting for people: money in the display currency, durations, ratios, times. Pure.

export { formatMoney, USD, type DisplayCurrency } from '../shared/money';

/** "850 ms", "1.2 s", "—" when unknown. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/** 0.125 -> "12.5%"; "—" when unknown. */
export function formatPercent(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return '—';
  const pct = ratio * 100;
  return `${pct < 10 && pct !== 0 ? pct.toFixed(1) : Math.round(pct)}%`;
}

export function formatTokens(n: number): string {
  return n >= 10_000 ? `${(n / 1000).toFixed(n >= 100_000 ? 0 : 1)}k` : String(n);
}

/** "14:03:07" in UTC from an ISO time: the ledger's clock, so rows line up with its files. */
export function formatClock(iso: string): string {
  return iso.length >= 19 ? iso.slice(11, 19) : iso;
}
