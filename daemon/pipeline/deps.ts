// What the request pipeline needs from the rest of the daemon, wired once by start.ts.
import type { LedgerEntry, LedgerHealth } from '../../shared/ledger';
import type { EventBus } from '../core/events';
import type { Logger } from '../core/log';
import type { ConfigSnapshot } from '../config/snapshot';
import type { HealthBoard } from '../health/board';
import type { SharedRateLimits } from '../health/shared-limits';
import type { RoutingCursors } from '../routing/strategies';
import type { AffinityTable } from '../routing/affinity';
import type { SpendGate, SpendReserver } from '../spend/gate';
import type { Upstreams } from '../upstream/pool';
import type { HedgeBudget } from './hedge-budget';

export interface PipelineDeps {
  /** The config snapshot in force now; a request takes it once, when it arrives. */
  current(): ConfigSnapshot;
  upstreams: Upstreams;
  ledger: { append(entry: LedgerEntry): Promise<void>; health(): LedgerHealth };
  /** Health, circuit breakers and rate limits of every deployment. */
  health: HealthBoard;
  /** Round-robin and weighted-round-robin positions, kept across requests and reloads. */
  cursors: RoutingCursors;
  /** Which deployment served each conversation last (cache affinity); none kept when absent. */
  affinity?: AffinityTable;
  events: EventBus;
  /** Budgets' verdict on each planned request (allow, downgrade, block). */
  spend: SpendGate;
  /** Team mode only: reservations against the team's hard budgets (Redis). */
  reserve?: SpendReserver;
  /** Team mode only: the team's rate limits per deployment (Redis). */
  sharedLimits?: SharedRateLimits;
  log: Logger;
  /** How many hedged requests may be out at once. */
  hedges: HedgeBudget;
}
