import type { Kysely, Migration } from 'kysely';
import { MONEY, withId as idColumn } from './columns.ts';
import type { Dialect } from '../dialect.ts';

/** Execution: order intents written before anything is sent, and the latest positions each venue reported. */
export function executionMigration(dialect: Dialect): Migration {
  const withId = idColumn(dialect);
  const money = MONEY;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await withId(db.schema.createTable('order_intents'))
        .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id'))
        .addColumn('target_key', 'text', (c) => c.notNull().references('targets.key'))
        .addColumn('recorder_id', 'bigint')
        .addColumn('signal_id', 'bigint')
        .addColumn('group_key', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('cancels_intent_id', 'bigint')
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('symbol', 'text', (c) => c.notNull())
        .addColumn('side', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('qty', money, (c) => c.notNull())
        .addColumn('price', money)
        .addColumn('trigger_price', money)
        .addColumn('position_side', 'text')
        .addColumn('reduce_only', 'integer', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('opened_by', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint')
        .addColumn('last_error', 'text')
        .addColumn('last_error_code', 'text')
        .addColumn('venue_order_id', 'text')
        .addColumn('filled_qty', money, (c) => c.notNull())
        .addColumn('avg_fill_price', money)
        .addColumn('raw', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      // One intent per client id and target: the database refuses a second placement even if the code slipped.
      await db.schema.createIndex('order_intents_client').on('order_intents').columns(['target_key', 'client_id']).unique().execute();
      await db.schema.createIndex('order_intents_due').on('order_intents').columns(['status', 'next_attempt_at']).execute();
      await db.schema.createIndex('order_intents_user').on('order_intents').columns(['user_id', 'id']).execute();
      await db.schema.createIndex('order_intents_target').on('order_intents').columns(['user_id', 'target_key', 'status']).execute();
      await db.schema.createIndex('order_intents_group').on('order_intents').columns(['group_key', 'id']).execute();
      await db.schema
        .createTable('venue_positions')
        .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id'))
        .addColumn('target_key', 'text', (c) => c.notNull().references('targets.key'))
        .addColumn('symbol', 'text', (c) => c.notNull())
        .addColumn('side', 'text', (c) => c.notNull())
        .addColumn('position_side', 'text')
        .addColumn('qty', money, (c) => c.notNull())
        .addColumn('entry_price', money, (c) => c.notNull())
        .addColumn('mark_price', money)
        .addColumn('unrealized_pnl', money)
        .addColumn('raw', 'text', (c) => c.notNull())
        .addColumn('fetched_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('venue_positions_pk', ['user_id', 'target_key', 'symbol', 'side'])
        .execute();
      await db.schema
        .createTable('venue_snapshots')
        .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id'))
        .addColumn('target_key', 'text', (c) => c.notNull().references('targets.key'))
        .addColumn('fetched_at', 'bigint', (c) => c.notNull())
        .addColumn('positions', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('venue_snapshots_pk', ['user_id', 'target_key'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('venue_snapshots').execute();
      await db.schema.dropTable('venue_positions').execute();
      await db.schema.dropTable('order_intents').execute();
    },
  };
}
