import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Kysely, PostgresDialect, sql, type Selectable } from 'kysely';
import pg from 'pg';
import { dbNowMs, dialectOf } from './dialect.ts';
import type { Database, LeasesTable } from './schema.ts';

/** A lease row. */
export type LeaseRow = Selectable<LeasesTable>;

/** What a take or renewal gave: the lease is the caller's until `expiresAt`, or someone else's. */
export type LeaseTake =
  | { readonly held: true; readonly fence: number; readonly expiresAt: number; readonly tookOver: boolean }
  | { readonly held: false };

/**
 * Takes the lease `name` for `holder` for `ttlMs`, or renews it when `holder` has it already: one
 * conditional upsert that succeeds only when the row is missing, is `holder`'s, or has expired (on the
 * database's clock). A lease that changes hands gets the next `fence`.
 */
export async function takeLease(db: Kysely<Database>, name: string, holder: string, ttlMs: number): Promise<LeaseTake> {
  const now = dbNowMs(dialectOf(db));
  const row = await db
    .insertInto('leases')
    .values({ name, holder, expires_at: sql<number>`${now} + ${ttlMs}`, acquired_at: now, renewed_at: now, fence: 1 })
    .onConflict((oc) =>
      oc
        .column('name')
        .doUpdateSet({
          holder: sql<string>`excluded.holder`,
          expires_at: sql<number>`excluded.expires_at`,
          renewed_at: sql<number>`excluded.renewed_at`,
          acquired_at: sql<number>`case when leases.holder = excluded.holder then leases.acquired_at else excluded.acquired_at end`,
          fence: sql<number>`case when leases.holder = excluded.holder then leases.fence else leases.fence + 1 end`,
        })
        .where((eb) => eb.or([eb('leases.holder', '=', holder), eb('leases.expires_at', '<', sql<number>`excluded.renewed_at`)])),
    )
    .returning(['fence', 'expires_at', 'acquired_at', 'renewed_at'])
    .executeTakeFirst();
  if (!row) return { held: false };
  return { held: true, fence: Number(row.fence), expiresAt: Number(row.expires_at), tookOver: Number(row.acquired_at) === Number(row.renewed_at) };
}

/** Gives the lease up if `holder` has it (a clean shutdown): another server may take it at once. */
export async function releaseLease(db: Kysely<Database>, name: string, holder: string): Promise<void> {
  await db.updateTable('leases').set({ expires_at: 0 }).where('name', '=', name).where('holder', '=', holder).execute();
}

/** Every lease, by name (operators and tests). */
export async function allLeases(db: Kysely<Database>): Promise<LeaseRow[]> {
  return db.selectFrom('leases').selectAll().orderBy('name').execute();
}

/** A name for this process among the servers and senders of one database (`host:pid:random`). */
export function holderId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/**
 * Inside a transaction on PostgreSQL, waits for the lock `key` and holds it until the transaction ends
 * (`pg_advisory_xact_lock`): a short critical section shared by every server of the database. SQLite has
 * one process, whose own locks suffice: nothing is done.
 */
export async function lockForTransaction(trx: Kysely<Database>, key: string): Promise<void> {
  if (dialectOf(trx) !== 'postgres') return;
  await sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(trx);
}

/**
 * A small pool of its own for taking and renewing leases (PostgreSQL): renewals then never wait behind the
 * server's busy pool, where a lease could lapse while its holder is alive and working.
 */
export function leaseConnection(url: string): { readonly db: Kysely<Database>; close(): Promise<void> } {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => undefined); // an idle client's error surfaces on the next renewal, which is retried
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, close: () => db.destroy() };
}
