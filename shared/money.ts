// Money for people. The ledger is in USD; a display currency (code and rate per USD) converts an
// amount at the moment it is shown: daemon messages, the CLI, webhooks and the extension alike.

/** How spend is shown: USD amounts times `rate`, labelled with an ISO 4217 code. */
export interface DisplayCurrency {
  /** ISO 4217, e.g. USD, CNY. */
  code: string;
  /** Units of `code` per US dollar (1 for USD). */
  rate: number;
}

export const USD: DisplayCurrency = { code: 'USD', rate: 1 };

/**
 * Amounts are kept to 1e-10 USD (a ten-thousandth of a micro-dollar, far below any price step) and
 * summed as integer counts of this unit, so sums are exact and do not depend on the order of adding.
 */
export const COST_UNITS_PER_USD = 1e10;

/** Rounds to the cost unit; values too large to carry that precision are already as exact as floats get. */
export function roundUsd(usd: number): number {
  return Math.round(usd * COST_UNITS_PER_USD) / COST_UNITS_PER_USD;
}

/** "$1.23", "CN¥8.73", "$0.0042": sub-cent amounts keep four decimals so they do not show as zero. */
export function formatMoney(usd: number, currency: DisplayCurrency = USD): string {
  const value = usd * currency.rate;
  const digits = value !== 0 && Math.abs(value) < 0.01 ? 4 : 2;
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.code, minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
  } catch {
    // A code Intl does not know: show the number with the code rather than fail.
    return `${value.toFixed(digits)} ${currency.code}`;
  }
}
