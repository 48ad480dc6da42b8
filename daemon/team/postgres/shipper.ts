// Ships the outbox (the local ledger) to PostgreSQL, off the request path: every flushMs it takes up to
// batchSize whole lines after the cursor, COPYs them into a per-session staging table and inserts them
// from there with ON CONFLICT DO NOTHING in one transaction (COPY alone cannot skip a row already
// shipped), then moves the cursor. While PostgreSQL fails, lines wait in the ledger and the next try
// backs off (doubling up to MAX_BACKOFF_MS); nothing is lost, since the cursor only moves after a commit.
import type { Pool, PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { TeamLedgerHealth } from '../../../shared/team-ledger';
import type { Outbox, Batch } from './outbox';
import { pgErrorText } from './connect';
import { ensurePartitions, monthsAhead } from './migrate';
import { copySql, createStagingSql, csvRow, insertFromStagingSql, type RowContext } from './sql';

const MAX_BACKOFF_MS = 30_000;

export interface ShipperOptions {
  pool: Pool;
  outbox: Outbox;
  table: string;
  row: RowContext;
  batchSize: number;
  flushMs: number;
  warn: (message: string, fields?: Record<string, string | number | boolean | null | undefined>) => void;
  info: (message: string, fields?: Record<string, string | number | boolean | null | undefined>) => void;
  /** Told when the state changes (ok, failing), not per shipment. */
  onState?: (health: TeamLedgerHealth) => void;
  /** Runs before each round's first shipment (the migrations, until they have succeeded once). */
  before?: () => Promise<void>;
}

export class Shipper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private failures = 0;
  private readonly partitions = new Set<string>();
  private readonly state: TeamLedgerHealth;
  /** The state listeners last heard of. */
  private told: TeamLedgerHealth['state'] = 'starting';

  constructor(private readonly o: ShipperOptions) {
    this.state = { state: 'starting', waiting: 0, shipped: 0, table: o.table };
  }

  health(): TeamLedgerHealth {
    return { ...this.state };
  }

  start(): void {
    this.schedule(0);
  }

  /** Stops the timer and waits for the round under way (close() bounds how long). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One round: ship batches until the outbox is empty or a shipment fails. */
  async drain(): Promise<void> {
    try {
      await this.o.before?.();
      for (;;) {
        const batch = await this.o.outbox.next(this.o.batchSize);
        if (!batch) break;
        await this.ship(batch);
        await this.o.outbox.commit(batch);
        this.state.shipped += batch.entries.length;
        this.state.lastShippedAt = new Date().toISOString();
      }
      if (this.state.state !== 'ok') {
        if (this.state.state === 'failing') this.o.info('team ledger: PostgreSQL accepts lines again; the waiting ones are shipped');
        this.state.state = 'ok';
        delete this.state.since;
      }
      this.failures = 0;
    } catch (err) {
      this.failures += 1;
      const error = pgErrorText(err);
      if (this.state.state !== 'failing') {
        this.o.warn('team ledger: cannot ship to PostgreSQL; lines wait in the local ledger and are shipped when it answers', { error });
        this.state.since = new Date().toISOString();
      }
      this.state.state = 'failing';
      this.state.lastError = error;
    }
    try {
      this.state.waiting = await this.o.outbox.waiting();
    } catch (err) {
      this.state.lastError = `reading the ledger: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (this.state.state !== this.told) {
      this.told = this.state.state;
      this.o.onState?.(this.health());
    }
  }

  /** The wait before the next round: flushMs, doubled per failure in a row up to MAX_BACKOFF_MS. */
  delay(): number {
    if (this.failures === 0) return this.o.flushMs;
    return Math.min(MAX_BACKOFF_MS, this.o.flushMs * 2 ** Math.min(this.failures, 16));
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.drain().finally(() => {
        this.running = undefined;
        this.schedule(this.delay());
      });
    }, ms);
    this.timer.unref();
  }

  /**
   * A batch PostgreSQL refused for its data: shipped line by line, so one line it will never take
   * (it stays in the local ledger, and the log names it) does not hold back every line after it.
   */
  private async oneByOne(client: PoolClient, batch: Batch): Promise<void> {
    for (const e of batch.entries) {
      try {
        await copyBatch(client, this.o.table, csvRow(e, this.o.row));
      } catch (err) {
        if (!isDataError(err)) throw err;
        this.o.warn('team ledger: PostgreSQL refused a ledger line; it stays in the local ledger only', { id: e.id, error: pgErrorText(err) });
      }
    }
  }

  private async ship(batch: Batch): Promise<void> {
    if (batch.entries.length === 0) return; // only skipped lines: the cursor still moves past them
    const client = await this.o.pool.connect();
    let broken: Error | undefined;
    try {
      const months = new Set([...monthsAhead(Date.now()), ...batch.entries.map((e) => new Date(e.time).toISOString().slice(0, 7))]);
      const missing = [...months].filter((m) => !this.partitions.has(m));
      if (missing.length > 0) {
        await ensurePartitions(client, this.o.table, missing);
        for (const m of missing) this.partitions.add(m);
      }
      try {
        await copyBatch(client, this.o.table, batch.entries.map((e) => csvRow(e, this.o.row)).join(''));
      } catch (err) {
        if (!isDataError(err)) throw err;
        await this.oneByOne(client, batch);
      }
    } catch (err) {
      broken = err instanceof Error ? err : new Error(String(err));
      throw err;
    } finally {
      // A connection that failed mid-transaction is not given back to the pool.
      client.release(broken);
    }
  }
}

/** PostgreSQL refused the data itself (SQLSTATE class 22 or 23), not the connection or the server. */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^2[23]/.test(code);
}

/** One transaction: COPY the rows into the staging table, insert the ones not yet there. */
export async function copyBatch(client: PoolClient, table: string, csv: string): Promise<number> {
  await client.query('begin');
  try {
    await client.query(createStagingSql(table));
    await new Promise<void>((resolve, reject) => {
      const stream = client.query(copyFrom(copySql(table)));
      stream.on('finish', resolve);
      stream.on('error', reject);
      stream.end(csv);
    });
    const inserted = await client.query(insertFromStagingSql(table));
    await client.query('commit');
    return inserted.rowCount ?? 0;
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  }
}
