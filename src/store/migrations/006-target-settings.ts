import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../dialect.ts';

/** Per-target settings: reconciliation policy (issue 13 item 5). */
export function targetSettingsMigration(_dialect: Dialect): Migration {
  return {
    async up(_db: Kysely<unknown>): Promise<void> {},
  };
}
