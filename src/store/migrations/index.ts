import type { Migration, MigrationProvider } from 'kysely';
import type { Dialect } from '../dialect.ts';
import { trackerMigration } from './001-tracker.ts';
import { executionMigration } from './002-execution.ts';
import { engineMigration } from './003-engine.ts';
import { livePathMigration } from './004-live-path.ts';
import { alertsMigration } from './005-alerts.ts';
import { targetSettingsMigration } from './006-target-settings.ts';
import { tokensSecretsMigration } from './007-tokens-secrets.ts';
import { serverAddressMigration } from './008-server-address.ts';
import { fleetMigration } from './009-fleet.ts';

/** Every migration in order; names sort in the order they run. Never edit one that has shipped: add the next. */
export function migrationProvider(dialect: Dialect): MigrationProvider {
  return {
    async getMigrations(): Promise<Record<string, Migration>> {
      return { '001-tracker': trackerMigration(dialect), '002-execution': executionMigration(dialect), '003-engine': engineMigration(dialect),
        '004-live-path': livePathMigration(dialect),
        '005-alerts': alertsMigration(dialect),
        '006-target-settings': targetSettingsMigration(dialect),
        '007-tokens-secrets': tokensSecretsMigration(dialect),
        '008-server-address': serverAddressMigration(dialect),
        '009-fleet': fleetMigration(dialect),
      };
    },
  };
}
