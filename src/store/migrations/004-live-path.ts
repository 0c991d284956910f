import type { Kysely, Migration } from 'kysely';
import { MONEY } from './columns.ts';
import type { Dialect } from '../dialect.ts';

/**
 * Issue 13, the live path: an order intent names the ledger position it acts on (a close of one row, the
 * bracket of a dashboard position), carries the bracket levels of a dashboard entry, and says how much of its fill is already booked on the ledger, so a
 * fill seen at once, by a snapshot or after a restart is booked exactly once.
 */
export function livePathMigration(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('order_intents').addColumn('position_id', 'text').execute();
      await db.schema.alterTable('order_intents').addColumn('booked_qty', MONEY, (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('order_intents').addColumn('booked_cost', MONEY, (c) => c.notNull().defaultTo(0)).execute();
      // The bracket a dashboard entry asked for, placed when (and however late) the entry fills.
      await db.schema.alterTable('order_intents').addColumn('stop_loss', MONEY).execute();
      await db.schema.alterTable('order_intents').addColumn('take_profit', MONEY).execute();
    },
  };
}
