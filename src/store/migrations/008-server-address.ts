import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../dialect.ts';

/**
 * Where `halyard serve` last listened (issue 14 item 5): one row (id 1) the server writes when it starts,
 * so the CLI prints webhook URLs with the running server's host and port instead of a fixed default.
 */
export function serverAddressMigration(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('server_address')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('public_url', 'text', (c) => c.notNull())
        .addColumn('host', 'text', (c) => c.notNull())
        .addColumn('port', 'integer', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('server_address').execute();
    },
  };
}
