import type { Insertable, Kysely } from 'kysely';
import { insertRows, type OnConflict } from './compiled.ts';
import type { Database } from './schema.ts';

/** What a job may ask of the transaction it runs in. */
export interface GroupContext {
  /** Runs `fn` if this job's transaction rolls back (before its jobs are retried one by one). */
  onAbort(fn: () => void): void;
  /**
   * Inserts `rows` into `table` at the end of the transaction, together with the other jobs' rows of that
   * table (one statement for the group; rows are inserted in the order the jobs gave them). Nothing in the
   * transaction reads them before it commits, unless it calls `writeNow` first.
   */
  insertLater<T extends keyof Database & string>(table: T, rows: readonly Insertable<Database[T]>[]): void;
  /**
   * Like `insertLater`, but a row whose `onConflict.key` exists updates that row's `onConflict.update`
   * columns (the last row given for a key wins). Written after the group's inserts of the same table.
   */
  upsertLater<T extends keyof Database & string>(table: T, rows: readonly Insertable<Database[T]>[], onConflict: OnConflict): void;
  /** Writes the rows deferred so far now, inside the transaction (before a read that must see them). */
  writeNow(trx: Kysely<Database>): Promise<void>;
}

/** A unit of writes; runs inside a transaction shared with other jobs. */
export type WriteJob<T> = (trx: Kysely<Database>, ctx: GroupContext) => Promise<T>;

interface Pending {
  readonly job: WriteJob<unknown>;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
}

/** Tables whose deferred rows are written before the others' (position entries reference positions). */
const WRITTEN_FIRST: readonly string[] = ['positions'];

/** Deferred upserts of one table. */
interface Upserts {
  readonly onConflict: OnConflict;
  readonly rows: Map<unknown, Record<string, unknown>>;
}

/** A context that collects abort hooks and deferred rows of one transaction. */
class Context implements GroupContext {
  readonly aborts: (() => void)[] = [];
  private readonly later = new Map<string, Record<string, unknown>[]>();
  private readonly upserts = new Map<string, Upserts>();
  onAbort(fn: () => void): void {
    this.aborts.push(fn);
  }
  insertLater<T extends keyof Database & string>(table: T, rows: readonly Insertable<Database[T]>[]): void {
    let list = this.later.get(table);
    if (!list) this.later.set(table, (list = []));
    for (const r of rows) list.push(r as Record<string, unknown>);
  }
  upsertLater<T extends keyof Database & string>(table: T, rows: readonly Insertable<Database[T]>[], onConflict: OnConflict): void {
    let u = this.upserts.get(table);
    if (!u) this.upserts.set(table, (u = { onConflict, rows: new Map() }));
    for (const r of rows) {
      const row = r as Record<string, unknown>;
      const key = row[onConflict.key];
      u.rows.delete(key); // the last row for a key wins, in the place it was given last
      u.rows.set(key, row);
    }
  }
  /** Writes the deferred rows: one statement per table and column set (a multi-row insert names the same columns in every row). */
  async writeNow(trx: Kysely<Database>): Promise<void> {
    const tables = [...new Set([...WRITTEN_FIRST, ...this.later.keys(), ...this.upserts.keys()])];
    for (const table of tables) {
      const rows = this.later.get(table);
      if (rows) {
        this.later.delete(table);
        await insertByShape(trx, table, rows);
      }
      const u = this.upserts.get(table);
      if (u) {
        this.upserts.delete(table);
        await insertByShape(trx, table, [...u.rows.values()], u.onConflict);
      }
    }
  }
  abort(): void {
    this.later.clear();
    this.upserts.clear();
    for (const fn of this.aborts.splice(0)) fn();
  }
}

/** Inserts rows grouped by their column sets (in the order each set first appears). */
async function insertByShape(trx: Kysely<Database>, table: string, rows: readonly Record<string, unknown>[], onConflict?: OnConflict): Promise<void> {
  if (rows.length === 0) return;
  const first = Object.keys(rows[0]!);
  if (rows.every((r) => sameKeys(r, first))) {
    await insertRows(trx, table as keyof Database & string, rows as never, onConflict);
    return;
  }
  const shapes = new Map<string, Record<string, unknown>[]>();
  for (const r of rows) {
    const k = Object.keys(r).join(',');
    const same = shapes.get(k);
    if (same) same.push(r);
    else shapes.set(k, [r]);
  }
  for (const same of shapes.values()) await insertRows(trx, table as keyof Database & string, same as never, onConflict);
}

/** True when `row` names exactly `keys`, in that order (without building its key list). */
function sameKeys(row: Record<string, unknown>, keys: readonly string[]): boolean {
  let n = 0;
  for (const k in row) if (k !== keys[n++]) return false;
  return n === keys.length;
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
      await ctx.writeNow(trx);
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
        // One turn of the event loop before the next batch is taken: the jobs this commit let go (a delivery
        // waiting for its recorder's previous one) and the requests read meanwhile join it, so more of them
        // share one commit.
        await new Promise<void>((r) => setImmediate(r));
      }
    } finally {
      this.busy--;
    }
  }
}
