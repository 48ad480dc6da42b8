// Money for people: the ledger is USD; a configured display currency converts at the moment of display.

export interface DisplayCurrency {
  /** ISO 4217, e.g. USD, CNY. */
  code: string;
  /** Units of `code` per 1 USD. */
  rate: number;
}

export const USD: DisplayCurrency = { code: 'USD', rate: 1 };

/** "$1.23", "CN¥8.73"; sub-cent amounts keep four decimals so small requests do not show as zero. */
export function formatMoney(usd: number, currency: DisplayCurrency = USD): string {
  const value = usd * currency.rate;
  const digits = value !== 0 && Math.abs(value) < 0.01 ? 4 : 2;
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.code, minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
  } catch {
    return `${value.toFixed(digits)} ${currency.code}`; // a code Intl does not know
  }
}
