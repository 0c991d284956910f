import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

/** A unit of writes; runs inside a transaction shared with other jobs. */
export type WriteJob<T> = (trx: Kysely<Database>) => Promise<T>;

interface Pending {
  readonly job: WriteJob<unknown>;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
}

/**
 * Group commit: write jobs that arrive while a transaction is committing are gathered into the next one,
 * so many signals share one fsync. Each caller's promise settles only after its transaction committed.
 * If a shared transaction fails, its jobs are retried one per transaction, so one bad job fails alone.
 */
export class GroupCommit {
  private readonly pending: Pending[] = [];
  private busy = 0;

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
      this.pending.push({ job, resolve: resolve as (v: unknown) => void, reject });
      if (this.busy < this.lanes) {
        this.busy++;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, this.maxBatch);
        try {
          const results = await this.db.transaction().execute(async (trx) => {
            const out: unknown[] = [];
            for (const p of batch) out.push(await p.job(trx));
            return out;
          });
          batch.forEach((p, i) => p.resolve(results[i]));
        } catch {
          for (const p of batch) {
            try {
              p.resolve(await this.db.transaction().execute((trx) => p.job(trx)));
            } catch (e) {
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
