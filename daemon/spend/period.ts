// Budget periods and burn-rate projections. Pure: every function takes the time it needs. Periods are
// UTC, like the ledger's month files, so a period's spend is the same on every machine.

import { roundUsd } from '../../shared/money';
export type PeriodKind = 'monthly' | 'daily';

export interface Period {
  /** Epoch ms, inclusive. */
  start: number;
  /** Epoch ms, exclusive: when the next period starts (the reset time). */
  end: number;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** The period containing `now`. Monthly periods start on `startDay` (1-28) at 00:00 UTC. */
export function periodAt(kind: PeriodKind, startDay: number, now: number): Period {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  if (kind === 'daily') {
    const start = Date.UTC(y, m, d.getUTCDate());
    return { start, end: start + DAY_MS };
  }
  // Date.UTC normalises month -1 and 12 into the neighbouring years.
  const startMonth = d.getUTCDate() >= startDay ? m : m - 1;
  return { start: Date.UTC(y, startMonth, startDay), end: Date.UTC(y, startMonth + 1, startDay) };
}

/**
 * Spend at the end of the period if it continues at the burn rate so far. The elapsed time is counted
 * as at least an hour (or the whole period, if shorter): a few cents in the first minutes of a month
 * would otherwise project to thousands.
 */
export function projectSpend(spentUsd: number, period: Period, now: number): number {
  if (spentUsd <= 0) return 0;
  if (now >= period.end) return spentUsd;
  const length = period.end - period.start;
  const elapsed = Math.max(now - period.start, Math.min(HOUR_MS, length));
  const projected = spentUsd + (spentUsd / elapsed) * (period.end - now);
  return roundUsd(projected);
}

/** "YYYY-MM-DD" of an epoch ms, UTC. */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
