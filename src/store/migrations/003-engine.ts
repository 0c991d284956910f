import type { Kysely, Migration } from 'kysely';
import { MONEY, withId as idColumn } from './columns.ts';
import type { Dialect } from '../dialect.ts';

/**
 * Forward testing and tracking of engines: the paper runtime's own state (runs, portfolio, positions,
 * trades, orders, strategy state, the outbox of engine events), and on the server the engine sources,
 * received engine events, the durable job queue, strategies, exchange snapshots, reconciliation issues
 * and the audit log.
 */
export function engineMigration(dialect: Dialect): Migration {
  const withId = idColumn(dialect);
  const money = MONEY;
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      // ---- paper runtime ----
      await db.schema
        .createTable('paper_runs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('strategy', 'text', (c) => c.notNull())
        .addColumn('strategy_path', 'text', (c) => c.notNull())
        .addColumn('symbol', 'text', (c) => c.notNull())
        .addColumn('target_key', 'text', (c) => c.notNull())
        .addColumn('timeframe', 'text', (c) => c.notNull())
        .addColumn('mode', 'text', (c) => c.notNull())
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('cursor_ts', 'bigint')
        .addColumn('candles', 'bigint', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('stopped_at', 'bigint')
        .addColumn('stop_reason', 'text')
        .execute();
      await db.schema
        .createTable('portfolio')
        .addColumn('run_id', 'text', (c) => c.primaryKey())
        .addColumn('initial_balance', money, (c) => c.notNull())
        .addColumn('balance', money, (c) => c.notNull())
        .addColumn('fees_paid', money, (c) => c.notNull())
        .addColumn('funding_net', money, (c) => c.notNull())
        .addColumn('equity', money, (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('strategy_state')
        .addColumn('run_id', 'text', (c) => c.primaryKey())
        .addColumn('state_json', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('run_positions')
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('position_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('symbol', 'text', (c) => c.notNull())
        .addColumn('side', 'text', (c) => c.notNull())
        .addColumn('qty', money, (c) => c.notNull())
        .addColumn('entry_price', money, (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('opened_at', 'bigint', (c) => c.notNull())
        .addColumn('closed_at', 'bigint')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('run_positions_pk', ['run_id', 'position_id'])
        .execute();
      await db.schema
        .createTable('run_trades')
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('position_id', 'text', (c) => c.notNull())
        .addColumn('exit_reason', 'text', (c) => c.notNull())
        .addColumn('pnl', money, (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('closed_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('run_trades_pk', ['run_id', 'position_id'])
        .execute();
      await db.schema
        .createTable('run_orders')
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('candle_ts', 'bigint', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('symbol', 'text', (c) => c.notNull())
        .addColumn('side', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('qty', money, (c) => c.notNull())
        .addColumn('position_side', 'text')
        .addColumn('reduce_only', 'integer', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('reference', money, (c) => c.notNull())
        .addColumn('limit_price', money)
        .addColumn('maker', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('filled_qty', money, (c) => c.notNull())
        .addColumn('fill_price', money)
        .addColumn('fee', money)
        .addColumn('venue_order_id', 'text')
        .addColumn('error', 'text')
        .addColumn('raw', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('run_orders_pk', ['run_id', 'client_id'])
        .execute();
      await withId(db.schema.createTable('outbox'))
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('webhook_id', 'text', (c) => c.notNull().unique())
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('delivered_at', 'bigint')
        .execute();
      await db.schema.createIndex('outbox_due').on('outbox').columns(['status', 'id']).execute();

      // ---- server ----
      await db.schema
        .createTable('engine_sources')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('target_key', 'text', (c) => c.references('targets.key'))
        .addColumn('poll_url', 'text')
        .addColumn('poll_token_enc', 'text')
        .addColumn('last_event_at', 'bigint')
        .addColumn('last_poll_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('deleted_at', 'bigint')
        .addUniqueConstraint('engine_sources_user_name', ['user_id', 'name'])
        .execute();
      await withId(db.schema.createTable('engine_events'))
        .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id'))
        .addColumn('source_id', 'text', (c) => c.notNull())
        .addColumn('webhook_id', 'text', (c) => c.notNull())
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('position_id', 'text', (c) => c.notNull())
        .addColumn('target_key', 'text')
        .addColumn('symbol', 'text', (c) => c.notNull())
        .addColumn('strategy', 'text')
        .addColumn('event_ts', 'bigint', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addColumn('raw_body', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('processed_at', 'bigint')
        .addUniqueConstraint('engine_events_webhook', ['source_id', 'webhook_id'])
        .execute();
      await db.schema.createIndex('engine_events_user').on('engine_events').columns(['user_id', 'id']).execute();
      await db.schema.createIndex('engine_events_position').on('engine_events').columns(['source_id', 'position_id']).execute();
      await withId(db.schema.createTable('jobs'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('run_at', 'bigint', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('jobs_due').on('jobs').columns(['status', 'run_at']).execute();
      await withId(db.schema.createTable('strategies'))
        .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('strategies_user_name', ['user_id', 'name'])
        .execute();
      await withId(db.schema.createTable('snapshots'))
        .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id'))
        .addColumn('target_key', 'text', (c) => c.notNull())
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .addColumn('trigger', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('balance', money)
        .addColumn('equity', money)
        .addColumn('unrealized_pnl', money)
        .addColumn('positions', 'integer')
        .addColumn('error', 'text')
        .execute();
      await db.schema.createIndex('snapshots_target').on('snapshots').columns(['user_id', 'target_key', 'ts']).execute();
      await withId(db.schema.createTable('reconciliation_issues'))
        .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id'))
        .addColumn('target_key', 'text', (c) => c.notNull())
        .addColumn('symbol', 'text', (c) => c.notNull())
        .addColumn('side', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('ledger_qty', money)
        .addColumn('ledger_price', money)
        .addColumn('exchange_qty', money)
        .addColumn('exchange_price', money)
        .addColumn('position_ids', 'text')
        .addColumn('flat_checks', 'integer', (c) => c.notNull())
        .addColumn('detail', 'text')
        .addColumn('first_seen', 'bigint', (c) => c.notNull())
        .addColumn('last_seen', 'bigint', (c) => c.notNull())
        .addColumn('resolved_at', 'bigint')
        .addColumn('resolution', 'text')
        .execute();
      await db.schema.createIndex('reconciliation_open').on('reconciliation_issues').columns(['user_id', 'target_key', 'status']).execute();
      await withId(db.schema.createTable('audit_log'))
        .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id'))
        .addColumn('position_id', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('detail', 'text')
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_log_position').on('audit_log').columns(['user_id', 'position_id', 'id']).execute();
      // Engine and adopted positions in the one positions table.
      for (const [name, type] of [
        ['external_id', 'text'],
        ['engine_source_id', 'text'],
        ['close_reason', 'text'],
        ['strategy_id', 'bigint'],
      ] as const) {
        await db.schema.alterTable('positions').addColumn(name, type).execute();
      }
      await db.schema.createIndex('positions_target').on('positions').columns(['user_id', 'target_key', 'status']).execute();
      await db.schema.createIndex('positions_external').on('positions').columns(['engine_source_id', 'external_id']).execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('positions_external').execute();
      await db.schema.dropIndex('positions_target').execute();
      for (const c of ['strategy_id', 'close_reason', 'engine_source_id', 'external_id']) await db.schema.alterTable('positions').dropColumn(c).execute();
      for (const t of ['audit_log', 'reconciliation_issues', 'snapshots', 'strategies', 'jobs', 'engine_events', 'engine_sources', 'outbox', 'run_orders', 'run_trades', 'run_positions', 'strategy_state', 'portfolio', 'paper_runs']) {
        await db.schema.dropTable(t).execute();
      }
    },
  };
}
