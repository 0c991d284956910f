import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../dialect.ts';

/**
 * Tokens and secrets with a life cycle (issue 14 item 2): named API tokens with last use, expiry and
 * revocation; rotated webhook and engine-source secrets with a grace period for the old one. Times are
 * epoch ms; a null expiry never expires, a null revocation is a live token.
 */
export function tokensSecretsMigration(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('api_tokens').addColumn('name', 'text', (c) => c.notNull().defaultTo('default')).execute();
      for (const col of ['last_used_at', 'expires_at', 'revoked_at']) await db.schema.alterTable('api_tokens').addColumn(col, 'bigint').execute();
      // The secret a rotation replaced, still accepted until `previous_secret_until` (null: none).
      for (const table of ['recorders', 'engine_sources']) {
        await db.schema.alterTable(table).addColumn('previous_secret', 'text').execute();
        await db.schema.alterTable(table).addColumn('previous_secret_until', 'bigint').execute();
      }
      // The webhook looks a recorder up by an old secret only when the current one misses.
      await db.schema.createIndex('recorders_previous_secret').on('recorders').column('previous_secret').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('recorders_previous_secret').execute();
      for (const table of ['engine_sources', 'recorders']) {
        await db.schema.alterTable(table).dropColumn('previous_secret_until').execute();
        await db.schema.alterTable(table).dropColumn('previous_secret').execute();
      }
      for (const col of ['revoked_at', 'expires_at', 'last_used_at', 'name']) await db.schema.alterTable('api_tokens').dropColumn(col).execute();
    },
  };
}
