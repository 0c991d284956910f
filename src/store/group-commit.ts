import type { Insertable, Kysely } from 'kysely';
import type { Database } from './schema.ts';

/** What a job may ask of the transaction it runs in. */
export interface GroupContext {
  /** Runs `fn` if this job's transaction rolls back (before its jobs are retried one by one). */
  onAbort(fn: () => void): void;
  /**
   * Inserts `rows` into `table` at the end of the transaction, together with the other jobs' rows of that
   * table (one statement for the group; rows are inserted in the order the jobs gave them). Nothing in the
   * transaction reads them before it commits.
   */
  insertLater<T extends keyof Database & string>(table: T, rows: readonly Insertable<Database[T]>[]): void;
}

/** A unit of writes; runs inside a transaction shared with other jobs. */
export type WriteJob<T> = (trx: Kysely<Database>, ctx: GroupContext) => Promise<T>;

interface Pending {
  readonly job: WriteJob<unknown>;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
}

/** Most rows in one deferred insert statement (PostgreSQL takes at most 65,535 parameters). */
const ROWS_PER_INSERT = 500;

/** A context that collects abort hooks and deferred rows of one transaction. */
class Context implements GroupContext {
  readonly aborts: (() => void)[] = [];
  private readonly later = new Map<string, Record<string, unknown>[]>();
  onAbort(fn: () => void): void {
    this.aborts.push(fn);
  }
  insertLater<T extends keyof Database & string>(table: T, rows: readonly Insertable<Database[T]>[]): void {
    const list = this.later.get(table) ?? [];
    for (const r of rows) list.push(r as Record<string, unknown>);
    this.later.set(table, list);
  }
  /** Writes the deferred rows: one statement per table and column set (a multi-row insert names the same columns in every row). */
  async flush(trx: Kysely<Database>): Promise<void> {
    for (const [table, rows] of this.later) {
      const shapes = new Map<string, Record<string, unknown>[]>();
      for (const r of rows) {
        const k = Object.keys(r).join(',');
        const same = shapes.get(k);
        if (same) same.push(r);
        else shapes.set(k, [r]);
      }
      for (const same of shapes.values()) {
        for (let i = 0; i < same.length; i += ROWS_PER_INSERT) {
          await trx
            .insertInto(table as keyof Database)
            .values(same.slice(i, i + ROWS_PER_INSERT) as never)
            .execute();
        }
      }
    }
    this.later.clear();
  }
  abort(): void {
    this.later.clear();
    for (const fn of this.aborts.splice(0)) fn();
  }
}

/**
 * Group commit: write jobs that arrive while a transaction is committing are gathered into the next one,
 * so many signals share one fsync. Each caller's promise settles only after its transaction committed.
 * If a shared transaction fails, its abort hooks run and its jobs are retried one per transaction, so one
 * bad job fails alone.
 */
export class GroupCommit {
  private readonly pending: Pending[] = [];
  private busy = 0;
  /** Called as each transaction's batch is taken (caches valid for one group are dropped here). */
  onBatch: () => void = () => {};

  /**
   * @param lanes transactions in flight at once (1 for SQLite's single writer; a few for PostgreSQL,
   *   whose commits overlap on separate connections)
   * @param maxBatch most jobs in one transaction
   */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly lanes = 1,
    private readonly maxBatch = 256,
  ) {}

  /** Runs `job` in a (shared) transaction; resolves with its result once committed. */
  run<T>(job: WriteJob<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ job: job as WriteJob<unknown>, resolve: resolve as (v: unknown) => void, reject });
      if (this.busy < this.lanes) {
        this.busy++;
        setImmediate(() => void this.drain());
      }
    });
  }

  /** Runs `jobs` in one transaction sharing `ctx`; their deferred rows are written before it commits. */
  private commit(jobs: readonly Pending[], ctx: Context): Promise<unknown[]> {
    return this.db.transaction().execute(async (trx) => {
      const out: unknown[] = [];
      for (const p of jobs) out.push(await p.job(trx, ctx));
      await ctx.flush(trx);
      return out;
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, this.maxBatch);
        this.onBatch();
        const ctx = new Context();
        try {
          const results = await this.commit(batch, ctx);
          batch.forEach((p, i) => p.resolve(results[i]));
        } catch {
          ctx.abort();
          for (const p of batch) {
            const one = new Context();
            try {
              p.resolve((await this.commit([p], one))[0]);
            } catch (e) {
              one.abort();
              p.reject(e);
            }
          }
        }
      }
    } finally {
      this.busy--;
    }
  }
}
