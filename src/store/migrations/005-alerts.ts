import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../dialect.ts';

/** Ordered alert outbox (issue 13 item 6). */
export function alertsMigration(_dialect: Dialect): Migration {
  return {
    async up(_db: Kysely<unknown>): Promise<void> {},
  };
}
