// What one request cost, from the upstream's token counts and the configured price (USD per 1M tokens).
// OpenAI semantics: the prompt count INCLUDES cached tokens, so the cached part is billed at the cached
// price (the input price when none is set) and only the rest at the input price; the completion count
// includes reasoning tokens in the same way, billed at the reasoning price when one is set.
import type { Price } from '../../shared/config';
import type { Usage } from '../core/usage';
import { COST_UNITS_PER_USD, roundUsd } from '../../shared/money';

// Costs are rounded to the cost unit (COST_UNITS_PER_USD, shared/money.ts). Why: raw float products
// carry noise (0.1 * 3 = 0.30000000000000004) that would be written into every ledger line and make
// equal costs compare unequal; rounding keeps lines short and deterministic. Sums stay exact because
// spend is added as integer counts of that unit (spend-index.ts).
export { COST_UNITS_PER_USD, roundUsd };

/** Usage as billed; reasoningTokens are the part of completionTokens a provider may price apart. */
export type BillableUsage = Usage & { reasoningTokens?: number };

export function costUsd(usage: BillableUsage, price: Price | undefined): number {
  if (!price) return 0;
  const prompt = count(usage.promptTokens);
  const completion = count(usage.completionTokens);
  // An upstream reporting more cached than prompt tokens is inconsistent; never bill a negative rest.
  const cached = Math.min(count(usage.cachedTokens), prompt);
  // Cache writes are part of the prompt too (Anthropic), billed at the cache-write price when set.
  const written = Math.min(count(usage.cacheWriteTokens), prompt - cached);
  // Of those, writes kept for an hour (Anthropic's 1h TTL) bill at cacheWrite1h when set.
  const written1h = Math.min(count(usage.cacheWrite1hTokens), written);
  // Likewise reasoning is part of the completion (OpenAI semantics), never more than all of it.
  const reasoning = Math.min(count(usage.reasoningTokens), completion);
  const usd =
    ((prompt - cached - written) * price.input +
      cached * (price.cachedInput ?? price.input) +
      (written - written1h) * (price.cacheWrite ?? price.input) +
      written1h * (price.cacheWrite1h ?? price.cacheWrite ?? price.input) +
      (completion - reasoning) * price.output +
      reasoning * (price.reasoning ?? price.output)) /
    1_000_000;
  return roundUsd(usd);
}

/** Token counts come from upstream JSON: anything not a finite non-negative number counts as zero. */
function count(n: number | undefined): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0;
}

/**
 * What prompt caching saved at `price`, in USD: cache reads billed below the input price, less cache
 * writes billed above it. Negative when a cache was written but not read back enough. Writes are
 * counted at the 5-minute write price (the ledger keeps one write count).
 */
export function cacheSavingUsd(tokens: { cachedTokens: number; cacheWriteTokens: number }, price: Price | undefined): number {
  if (!price) return 0;
  const read = count(tokens.cachedTokens) * (price.input - (price.cachedInput ?? price.input));
  const write = count(tokens.cacheWriteTokens) * ((price.cacheWrite ?? price.input) - price.input);
  return roundUsd((read - write) / 1_000_000);
}
