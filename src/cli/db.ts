import type { Command } from 'commander';
import type { Settings } from '../config.ts';
import { backupSqlite } from '../store/backup.ts';
import { withStore } from './store.ts';

/** Registers `halyard db migrate` and `halyard db backup <file>`. */
export function registerDbCommands(program: Command, settings: () => Settings): void {
  const db = program.command('db').description('The store: apply migrations, back it up');
  db.command('migrate')
    .description('apply pending migrations to the store (DATABASE_URL or DATABASE_PATH) and exit; serve does the same at start')
    .action(async () => {
      const s = settings();
      const where = await withStore(s, async (store) => `${store.dialect} ${store.where}`);
      process.stdout.write(`the store is up to date (${where})\n`);
    });
  db.command('backup')
    .description('write a consistent copy of the SQLite store to <file> while it runs (VACUUM INTO); PostgreSQL: use pg_dump')
    .argument('<file>', 'the backup file to create (must not exist)')
    .action(async (file: string) => {
      const s = settings();
      const { file: written } = await withStore(s, (store) => backupSqlite(store, file));
      process.stdout.write(`backed up to ${written}\n`);
    });
}
