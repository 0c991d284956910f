import { PostgresAdapter, sql, type Kysely, type RawBuilder } from 'kysely';

/** The two databases the store runs on with the same code. */
export type Dialect = 'sqlite' | 'postgres';

/** The dialect a Kysely instance (or one of its transactions) speaks. */
export function dialectOf<DB>(db: Kysely<DB>): Dialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/**
 * The database's own clock as epoch ms (a SQL expression): leases compare times written by different
 * servers, so they use the one clock they share instead of each machine's (one value per statement).
 */
export function dbNowMs(dialect: Dialect): RawBuilder<number> {
  return dialect === 'postgres'
    ? sql<number>`(extract(epoch from statement_timestamp()) * 1000)::bigint`
    : sql<number>`cast((julianday('now') - 2440587.5) * 86400000 as integer)`;
}
