import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../dialect.ts';

/**
 * Per-user target settings (issue 13 item 5): what a reconciliation conflict does on the target
 * (`reconcile_policy`: `exchange` takes the venue's size and entry, `record` only records it). A target
 * without a row uses the default of its exchange.
 */
export function targetSettingsMigration(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('target_settings')
        .addColumn('user_id', 'bigint', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('target_key', 'text', (c) => c.notNull().references('targets.key'))
        .addColumn('reconcile_policy', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('target_settings_pk', ['user_id', 'target_key'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('target_settings').execute();
    },
  };
}
