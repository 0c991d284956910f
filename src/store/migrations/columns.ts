import type { CreateTableBuilder } from 'kysely';
import type { Dialect } from '../dialect.ts';

/**
 * Adds the integer key: SQLite's rowid alias or PostgreSQL's identity, the only difference between the
 * dialects in the schema.
 */
export function withId(dialect: Dialect) {
  return <T extends string>(t: CreateTableBuilder<T, never>): CreateTableBuilder<T, 'id'> =>
    dialect === 'postgres'
      ? t.addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
      : t.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
}

/** The column type of prices, quantities and money. */
export const MONEY = 'double precision';
