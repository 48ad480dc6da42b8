// How long to wait for a deployment's first byte, and when to ask a second one: decided from what the
// deployment usually takes. Pure: the caller passes the deployment's recent figures in.
//
// Only a deployment's own history says what "slow" means for it, so both decisions stay at the
// configured values until enough requests of the same kind (streamed or whole) were measured. A
// whole answer's first byte comes after all of it is generated, so whole requests are hedged only
// when they are small (max_tokens at or below hedge.maxTokens) and never on a cold deployment.
import type { FirstByteConfig, HedgeConfig } from '../../shared/routing-config';

export type RequestKind = 'stream' | 'whole';

/** A deployment's recent times to first byte for one kind of request. */
export interface FirstByteFigures {
  samples: number;
  /** Time to first byte at a quantile (0..1), undefined with no samples. */
  quantile(q: number): number | undefined;
}

/** The first-byte deadline for one attempt: adaptive between the floor and the configured ceiling. */
export function firstByteDeadline(figures: FirstByteFigures, cfg: FirstByteConfig, ceilingMs: number): number {
  if (!cfg.adaptive || figures.samples < cfg.minSamples) return ceilingMs;
  const p99 = figures.quantile(0.99);
  if (p99 === undefined) return ceilingMs;
  return Math.min(ceilingMs, Math.max(cfg.floorMs, Math.round(cfg.multiplier * p99)));
}

/** After how long to send a hedge, or undefined when this request is not hedged. */
export function hedgeDelay(figures: FirstByteFigures, cfg: HedgeConfig, minSamples: number, kind: RequestKind, maxTokens: number | undefined): number | undefined {
  if (!cfg.enabled) return undefined;
  const warm = figures.samples >= minSamples;
  if (kind === 'whole') {
    if (!warm || maxTokens === undefined || maxTokens > cfg.maxTokens) return undefined;
  } else if (!warm) {
    return cfg.coldDelayMs;
  }
  const q = figures.quantile(cfg.quantile);
  return q === undefined ? undefined : Math.max(cfg.minDelayMs, Math.round(q));
}

/**
 * When an attempt that sent no response headers loses to a hedge, whether that counts against it as
 * slow: only once it has waited past what its own history calls abnormal (its adaptive deadline),
 * or, on a cold deployment's stream, past the cold hedge delay's floor.
 */
export function slowAfterMs(figures: FirstByteFigures, first: FirstByteConfig, hedge: HedgeConfig, kind: RequestKind): number | undefined {
  if (figures.samples >= first.minSamples) {
    const p99 = figures.quantile(0.99);
    return p99 === undefined ? undefined : Math.max(first.floorMs, Math.round(first.multiplier * p99));
  }
  return kind === 'stream' ? Math.max(first.floorMs, hedge.coldDelayMs) : undefined;
}
