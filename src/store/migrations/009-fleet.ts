import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../dialect.ts';

/**
 * Several servers on one database (issue 17 item 1): `leases` names who runs a scheduled loop (monitor,
 * engine poller, settling) or works a target, until when; queued rows (jobs, engine-event outbox, alerts)
 * say who claimed them and until when, so a claim that died with its server is taken again after that.
 */
export function fleetMigration(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('leases')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('acquired_at', 'bigint', (c) => c.notNull())
        .addColumn('renewed_at', 'bigint', (c) => c.notNull())
        .addColumn('fence', 'bigint', (c) => c.notNull())
        .execute();
      for (const table of ['jobs', 'outbox', 'alerts']) {
        await db.schema.alterTable(table).addColumn('claimed_by', 'text').execute();
        await db.schema.alterTable(table).addColumn('claim_until', 'bigint').execute();
      }
      // The outbox claim reads the first pending event of each run.
      await db.schema.createIndex('outbox_pending_run').on('outbox').columns(['status', 'run_id', 'id']).execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('outbox_pending_run').execute();
      for (const table of ['jobs', 'outbox', 'alerts']) {
        await db.schema.alterTable(table).dropColumn('claim_until').execute();
        await db.schema.alterTable(table).dropColumn('claimed_by').execute();
      }
      await db.schema.dropTable('leases').execute();
    },
  };
}
