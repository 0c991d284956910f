import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../dialect.ts';

/**
 * Tokens and secrets with a life cycle (issue 14 item 2): named API tokens with last use, expiry and
 * revocation; rotated webhook and engine-source secrets with a grace period for the old one.
 */
export function tokensSecretsMigration(_dialect: Dialect): Migration {
  return {
    async up(_db: Kysely<unknown>): Promise<void> {
      // Filled in by the tokens work.
    },
    async down(_db: Kysely<unknown>): Promise<void> {},
  };
}
