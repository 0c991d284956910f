import { sql, type Kysely, type Migration } from 'kysely';
import { MONEY, withId as idColumn } from './columns.ts';
import { ALL_TARGETS } from '../../exchange/targets.ts';
import type { Dialect } from '../dialect.ts';

/** The first schema: users, tokens, targets, accounts, recorders, signals, positions, trades, equity. */
export function trackerMigration(dialect: Dialect): Migration {
  const withId = idColumn(dialect);
  const money = MONEY;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await withId(db.schema.createTable('users'))
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('trading_mode', 'text', (c) => c.notNull().defaultTo('paper'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await withId(db.schema.createTable('api_tokens'))
        .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('prefix', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('targets')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('exchange', 'text', (c) => c.notNull())
        .addColumn('env', 'text', (c) => c.notNull())
        .addColumn('account_type', 'text', (c) => c.notNull())
        .execute();
      const targets = db as unknown as Kysely<{ targets: { key: string; exchange: string; env: string; account_type: string } }>;
      await targets
        .insertInto('targets')
        .values(ALL_TARGETS.map((t) => ({ key: t.key, exchange: t.exchange, env: t.env, account_type: t.accountType })))
        .execute();
      await withId(db.schema.createTable('accounts'))
        .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('target_key', 'text', (c) => c.notNull().references('targets.key'))
        .addColumn('label', 'text', (c) => c.notNull())
        .addColumn('credentials_enc', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('accounts_user_target', ['user_id', 'target_key'])
        .execute();
      await withId(db.schema.createTable('recorders'))
        .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('secret', 'text', (c) => c.notNull().unique())
        .addColumn('position_mode', 'text', (c) => c.notNull().defaultTo('oneway'))
        .addColumn('max_lag_ms', 'bigint', (c) => c.notNull())
        .addColumn('default_qty', money, (c) => c.notNull())
        .addColumn('strategy', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('deleted_at', 'bigint')
        .execute();
      await db.schema
        .createTable('recorder_targets')
        .addColumn('recorder_id', 'bigint', (c) => c.notNull().references('recorders.id').onDelete('cascade'))
        .addColumn('target_key', 'text', (c) => c.notNull().references('targets.key'))
        .addColumn('multiplier', money, (c) => c.notNull().defaultTo(1))
        .addPrimaryKeyConstraint('recorder_targets_pk', ['recorder_id', 'target_key'])
        .execute();
      await withId(db.schema.createTable('signals'))
        .addColumn('recorder_id', 'bigint', (c) => c.notNull().references('recorders.id'))
        .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id'))
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('ticker', 'text', (c) => c.notNull())
        .addColumn('qty', money)
        .addColumn('price', money)
        .addColumn('signal_time', 'bigint')
        .addColumn('order_id', 'text')
        .addColumn('target_size', money)
        .addColumn('position_side', 'text')
        .addColumn('stop_loss', money)
        .addColumn('take_profit', money)
        .addColumn('dedupe_key', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('raw_body', 'text', (c) => c.notNull())
        .addColumn('content_type', 'text')
        .execute();
      await db.schema.createIndex('signals_recorder').on('signals').columns(['recorder_id', 'id']).execute();
      await db.schema.createIndex('signals_user').on('signals').columns(['user_id', 'id']).execute();
      // One accepted signal per dedupe key and recorder: the database refuses a second even if the code slipped.
      await db.schema
        .createIndex('signals_dedupe')
        .on('signals')
        .columns(['recorder_id', 'dedupe_key'])
        .unique()
        .where(sql.ref('outcome'), '=', 'accepted')
        .execute();
      await db.schema
        .createTable('positions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id'))
        .addColumn('recorder_id', 'bigint', (c) => c.references('recorders.id'))
        .addColumn('target_key', 'text', (c) => c.references('targets.key'))
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('opened_by', 'text', (c) => c.notNull())
        .addColumn('strategy', 'text')
        .addColumn('symbol', 'text', (c) => c.notNull())
        .addColumn('side', 'text', (c) => c.notNull())
        .addColumn('position_side', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('qty', money, (c) => c.notNull())
        .addColumn('max_qty', money, (c) => c.notNull())
        .addColumn('entry_price', money, (c) => c.notNull())
        .addColumn('realized_pnl', money, (c) => c.notNull())
        .addColumn('fees', money, (c) => c.notNull())
        .addColumn('funding', money, (c) => c.notNull())
        .addColumn('max_adverse', money, (c) => c.notNull())
        .addColumn('stop_loss', money)
        .addColumn('take_profit', money)
        .addColumn('last_price', money)
        .addColumn('opened_at', 'bigint', (c) => c.notNull())
        .addColumn('closed_at', 'bigint')
        .addColumn('exit_price', money)
        .addColumn('avg_exit_price', money)
        .addColumn('exited_qty', money, (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('positions_user').on('positions').columns(['user_id', 'status']).execute();
      await db.schema.createIndex('positions_recorder').on('positions').columns(['recorder_id', 'status']).execute();
      await withId(db.schema.createTable('position_entries'))
        .addColumn('position_id', 'text', (c) => c.notNull().references('positions.id').onDelete('cascade'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('qty', money, (c) => c.notNull())
        .addColumn('price', money, (c) => c.notNull())
        .addColumn('realized_pnl', money, (c) => c.notNull())
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .addColumn('signal_id', 'bigint')
        .execute();
      await db.schema.createIndex('position_entries_position').on('position_entries').columns(['position_id', 'id']).execute();
      await withId(db.schema.createTable('trades'))
        .addColumn('position_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id'))
        .addColumn('recorder_id', 'bigint')
        .addColumn('target_key', 'text')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('strategy', 'text')
        .addColumn('symbol', 'text', (c) => c.notNull())
        .addColumn('side', 'text', (c) => c.notNull())
        .addColumn('qty', money, (c) => c.notNull())
        .addColumn('entry_price', money, (c) => c.notNull())
        .addColumn('exit_price', money, (c) => c.notNull())
        .addColumn('realized_pnl', money, (c) => c.notNull())
        .addColumn('fees', money, (c) => c.notNull())
        .addColumn('max_adverse', money, (c) => c.notNull())
        .addColumn('opened_at', 'bigint', (c) => c.notNull())
        .addColumn('closed_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('trades_user').on('trades').columns(['user_id', 'closed_at']).execute();
      await withId(db.schema.createTable('equity_points'))
        .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id'))
        .addColumn('recorder_id', 'bigint')
        .addColumn('target_key', 'text')
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .addColumn('realized', money, (c) => c.notNull())
        .addColumn('unrealized', money, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('equity_points_recorder').on('equity_points').columns(['recorder_id', 'id']).execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      for (const t of ['equity_points', 'trades', 'position_entries', 'positions', 'signals', 'recorder_targets', 'recorders', 'accounts', 'targets', 'api_tokens', 'users']) {
        await db.schema.dropTable(t).execute();
      }
    },
  };
}
