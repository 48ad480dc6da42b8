// Cascade figures by UTC day (routing.auto.cascade): how many cascaded requests kept the cheap answer,
// how many escalated and what each check caught, what they cost (every step included) and what the
// same requests would have cost on the strong group, the savings baseline. Fed every ledger entry
// with a `cascade` field; pure.
import type { Price } from '../../shared/config';
import type { CascadeDayOut, CascadeReport } from '../../shared/cascade-figures';
import type { LedgerEntry } from '../../shared/ledger';
import { COST_UNITS_PER_USD, costUsd, roundUsd } from './cost';

interface Day {
  requests: number;
  kept: number;
  escalated: number;
  direct: number;
  /** Steps not kept, by the check their answer failed (or `failed`: no answer). */
  caught: Record<string, number>;
  /** Cost of every line of cascaded requests, steps included, in 1e-10 USD. */
  units: number;
  /** Tokens of the answers the clients got, for the baseline's price. */
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
}

export type { CascadeReport };

export class CascadeStats {
  private readonly days = new Map<string, Day>();

  add(e: LedgerEntry): void {
    if (e.cascade === undefined || e.sandbox === true) return;
    const key = e.time.slice(0, 10);
    let d = this.days.get(key);
    if (!d) this.days.set(key, (d = { requests: 0, kept: 0, escalated: 0, direct: 0, caught: {}, units: 0, promptTokens: 0, cachedTokens: 0, completionTokens: 0 }));
    d.units += Math.round(e.costUsd * COST_UNITS_PER_USD);
    if (e.role === 'cascade') {
      d.caught[e.cascade] = (d.caught[e.cascade] ?? 0) + 1;
      return;
    }
    d.requests += 1;
    if (e.cascade === 'kept') d.kept += 1;
    else if (e.cascade === 'escalated') d.escalated += 1;
    else if (e.cascade === 'direct') d.direct += 1;
    d.promptTokens += e.promptTokens;
    d.cachedTokens += e.cachedTokens ?? 0;
    d.completionTokens += e.completionTokens;
  }

  /** Days within [from, to] (inclusive, YYYY-MM-DD), oldest first, priced against `baseline`. */
  report(from: string, to: string, baseline: { name: string; price: Price | undefined } | undefined): CascadeReport {
    const sum: Day = { requests: 0, kept: 0, escalated: 0, direct: 0, caught: {}, units: 0, promptTokens: 0, cachedTokens: 0, completionTokens: 0 };
    const days: CascadeDayOut[] = [];
    for (const [day, d] of [...this.days].sort(([a], [b]) => a.localeCompare(b))) {
      if (day < from || day > to) continue;
      days.push({ day, ...out(d, baseline?.price) });
      sum.requests += d.requests;
      sum.kept += d.kept;
      sum.escalated += d.escalated;
      sum.direct += d.direct;
      for (const [check, n] of Object.entries(d.caught)) sum.caught[check] = (sum.caught[check] ?? 0) + n;
      sum.units += d.units;
      sum.promptTokens += d.promptTokens;
      sum.cachedTokens += d.cachedTokens;
      sum.completionTokens += d.completionTokens;
    }
    return { baseline: baseline?.price ? baseline.name : null, totals: out(sum, baseline?.price), days };
  }
}

function out(d: Day, price: Price | undefined): Omit<CascadeDayOut, 'day'> {
  const checked = d.kept + d.escalated;
  const actual = d.units / COST_UNITS_PER_USD;
  const o: Omit<CascadeDayOut, 'day'> = {
    requests: d.requests,
    kept: d.kept,
    escalated: d.escalated,
    direct: d.direct,
    escalationRate: checked === 0 ? 0 : Math.round((d.escalated / checked) * 10_000) / 10_000,
    caught: { ...d.caught },
    costUsd: actual,
  };
  if (price) {
    const baselineUsd = costUsd({ promptTokens: d.promptTokens, cachedTokens: d.cachedTokens, completionTokens: d.completionTokens }, price);
    o.baselineUsd = baselineUsd;
    o.savedUsd = roundUsd(baselineUsd - actual);
  }
  return o;
}
