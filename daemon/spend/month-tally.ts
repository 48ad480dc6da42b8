// One month file's aggregate state: everything start-up rebuilds from it (totals by model group, the
// budgets' spend by day, the extension's spend history and latest requests), small enough to save in
// a checkpoint so the month need not be parsed line by line again. Pure.
import type { LedgerEntry } from '../../shared/ledger';
import { SpendIndex, addCounts, countEntry, zeroCounts, type Bucket, type Counts } from './spend-index';

/** Latest entries kept per month: what the extension shows (daemon/spend/history.ts). */
export const RECENT_KEPT = 50;

/** A month as the replay hands it over. Read it at once: the ledger goes on counting new entries into it. */
export interface MonthView {
  readonly month: string;
  readonly entries: number;
  /** Invalid lines in the file (torn, garbage). */
  readonly skipped: number;
  buckets(): Iterable<Bucket>;
  /** Real spend by model group: entry.model, or the requested name when the request resolved to none. Sandbox entries are only in the buckets. */
  groups(): Iterable<[string, Counts]>;
  /** The month's last entries in file order, at most RECENT_KEPT. */
  recent(): readonly LedgerEntry[];
}

/** A tally as plain data (what a checkpoint stores). */
export interface MonthState {
  entries: number;
  skipped: number;
  buckets: Bucket[];
  groups: [string, Counts][];
  recent: LedgerEntry[];
}

export class MonthTally implements MonthView {
  entries = 0;
  skipped = 0;
  private readonly index = new SpendIndex();
  private readonly byGroup = new Map<string, Counts>();
  /** Trimmed to RECENT_KEPT only when twice as long, so add() stays O(1). */
  private latest: LedgerEntry[] = [];

  constructor(readonly month: string) {}

  static from(month: string, state: MonthState): MonthTally {
    const tally = new MonthTally(month);
    tally.entries = state.entries;
    tally.skipped = state.skipped;
    for (const b of state.buckets) tally.index.addBucket(b);
    for (const [group, counts] of state.groups) addCounts(tally.group(group), counts);
    tally.latest = state.recent.slice(-RECENT_KEPT);
    return tally;
  }

  add(e: LedgerEntry): void {
    this.entries += 1;
    this.index.add(e);
    if (e.sandbox !== true) countEntry(this.group(e.model ?? e.requestedModel), e);
    this.latest.push(e);
    if (this.latest.length >= 2 * RECENT_KEPT) this.latest = this.latest.slice(-RECENT_KEPT);
  }

  /**
   * Adds the tally of the lines that follow this one's in the same file, read apart (the replay's
   * worker): afterwards it equals a tally that read them all. New buckets and groups come after the
   * known ones, in the order `later` made them, and its recent entries are the newest.
   */
  merge(later: MonthState): void {
    this.entries += later.entries;
    this.skipped += later.skipped;
    for (const b of later.buckets) this.index.addBucket(b);
    for (const [group, counts] of later.groups) addCounts(this.group(group), counts);
    this.latest = [...this.latest, ...later.recent].slice(-RECENT_KEPT);
  }

  buckets(): Iterable<Bucket> {
    return this.index.all();
  }

  groups(): Iterable<[string, Counts]> {
    return this.byGroup.entries();
  }

  recent(): readonly LedgerEntry[] {
    return this.latest.slice(-RECENT_KEPT);
  }

  /** A copy that later adds do not change. */
  state(): MonthState {
    return {
      entries: this.entries,
      skipped: this.skipped,
      buckets: [...this.index.all()].map((b) => ({ ...b })),
      groups: [...this.byGroup].map(([group, counts]) => [group, { ...counts }]),
      recent: [...this.recent()],
    };
  }

  private group(name: string): Counts {
    let counts = this.byGroup.get(name);
    if (!counts) {
      counts = zeroCounts();
      this.byGroup.set(name, counts);
    }
    return counts;
  }
}
