import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../dialect.ts';
import { withId } from './columns.ts';

/**
 * Ordered alert outbox (issue 13 item 6): one row per alert and channel, written in the transaction of the
 * state change that caused it and delivered in id order per stream (a run) and channel, with retries and a
 * dead letter, like the engine events' outbox.
 */
export function alertsMigration(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await withId(dialect)(db.schema.createTable('alerts'))
        .addColumn('stream', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('delivered_at', 'bigint')
        .execute();
      // The sender's query: pending rows of a stream and channel in id order.
      await db.schema.createIndex('alerts_pending').on('alerts').columns(['status', 'stream', 'channel', 'id']).execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('alerts').execute();
    },
  };
}
