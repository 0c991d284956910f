import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { sql } from 'kysely';
import { HalyardError } from '../core/errors.ts';
import type { Store } from './db.ts';

/**
 * Writes a consistent copy of a SQLite store to `file` with `VACUUM INTO` (a compacted snapshot taken in
 * one read transaction, safe while the server runs and writes). Refuses an existing file (a backup never
 * overwrites) and a PostgreSQL store (back it up with pg_dump, as docs/deploy.md shows).
 */
export async function backupSqlite(store: Store, file: string): Promise<{ readonly file: string }> {
  if (store.dialect !== 'sqlite') {
    throw new HalyardError('invalid_input', `the store is PostgreSQL (${store.where}): back it up with pg_dump, e.g. pg_dump --format=custom --file halyard.dump "$DATABASE_URL"`);
  }
  const target = resolve(file);
  if (existsSync(target)) throw new HalyardError('conflict', `${target} exists already: name a new backup file (a backup never overwrites one)`, { file: target });
  mkdirSync(dirname(target), { recursive: true });
  await sql`VACUUM INTO ${target}`.execute(store.db);
  return { file: target };
}
