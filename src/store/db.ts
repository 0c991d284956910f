import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type SqliteDatabase } from 'kysely';
import pg from 'pg';
import { HalyardError } from '../core/errors.ts';
import type { Dialect } from './dialect.ts';
import { migrationProvider } from './migrations/index.ts';
import { preparedName } from './prepared.ts';
import type { Database } from './schema.ts';

/** Where the store lives: a PostgreSQL URL when given, else a SQLite file. */
export interface StoreLocation {
  /** SQLite file path (created with its folder when missing). */
  readonly path?: string;
  /** `postgres://…` URL; wins over `path`. */
  readonly url?: string;
}

/** An open store: the query builder, which dialect it speaks, and how to close it. */
export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  /** Human-readable location (file path or URL without password). */
  readonly where: string;
  close(): Promise<void>;
}

// BIGINT (oid 20) as a JS number: our bigints are epoch ms and row ids, far below 2^53.
const PG_TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

/**
 * Opens the store and runs pending migrations. SQLite runs in WAL mode with `synchronous=FULL`, so a
 * committed transaction survives a crash of the process or the machine. A PostgreSQL database that does
 * not exist yet is created first.
 */
export async function openStore(loc: StoreLocation): Promise<Store> {
  const store = loc.url ? await openPostgres(loc.url) : openSqlite(loc.path ?? 'data/halyard.db');
  try {
    await migrate(store);
  } catch (e) {
    await store.close();
    throw e;
  }
  return store;
}

function openSqlite(path: string): Store {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let sqlite: BetterSqlite3.Database;
  try {
    sqlite = new BetterSqlite3(path);
  } catch (e) {
    throw new HalyardError('invalid_config', `cannot open SQLite database ${path}: ${(e as Error).message}`, { path }, e);
  }
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  // Checkpoint every ~40 MB of WAL instead of 4 MB: the intake rewrites the same hot pages in every group
  // commit, and a checkpoint copies each page once however often it was written (fewer copies, fewer fsyncs
  // of the database file). Every commit is still fsynced to the WAL.
  sqlite.pragma('wal_autocheckpoint = 10000');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cachingStatements(sqlite) }) });
  return { db, dialect: 'sqlite', where: path, close: () => db.destroy() };
}

/**
 * Kysely prepares every query anew; preparing costs more than running our small statements, so keep
 * prepared statements by SQL text (bounded: the cache is dropped when it grows past 500 texts).
 */
function cachingStatements(sqlite: BetterSqlite3.Database): SqliteDatabase {
  let cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (!stmt) {
        if (cache.size >= 500) cache = new Map();
        stmt = sqlite.prepare(sql);
        cache.set(sql, stmt);
      }
      return stmt;
    },
  };
}

/** A pg client that sends the store's precompiled statements as named prepared statements (`prepared.ts`). */
class PreparingClient extends pg.Client {
  // pg's query is overloaded (text, config, callback forms): every form passes through, typed as any of them.
  override query(...args: unknown[]): never {
    const [text, values] = args;
    const name = typeof text === 'string' && Array.isArray(values) && args.length === 2 ? preparedName(text) : undefined;
    const query = super.query as (...a: unknown[]) => never;
    return name ? query.call(this, { name, text, values }) : query.apply(this, args);
  }
}

async function openPostgres(url: string): Promise<Store> {
  const parsed = postgresUrl(url);
  await ensurePostgresDatabase(parsed);
  const pool = new pg.Pool({ connectionString: url, max: 10, types: PG_TYPES, Client: PreparingClient });
  pool.on('error', () => undefined); // an idle client's error surfaces on the next query instead of crashing
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const where = `${parsed.protocol}//${parsed.username ? `${parsed.username}@` : ''}${parsed.host}${parsed.pathname}`;
  return { db, dialect: 'postgres', where, close: () => db.destroy() };
}

/** `url` without its password (for messages). */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

/**
 * Parses a PostgreSQL URL (`postgres://` or `postgresql://`); anything else — another database's URL, a
 * file path — is refused with a sentence saying what to set instead.
 */
export function postgresUrl(url: string): URL {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:')) {
    throw new HalyardError('invalid_config', `DATABASE_URL must be a postgres:// (or postgresql://) URL, got "${redactUrl(url)}"; for SQLite unset DATABASE_URL and set DATABASE_PATH to a file`, { variable: 'DATABASE_URL' });
  }
  return parsed;
}

/** `host:port` of a PostgreSQL URL (5432 when the URL names no port). */
const hostPort = (url: URL): string => `${url.hostname}:${url.port || '5432'}`;

/** Creates the database named in `url` when the server answers that it does not exist (SQLSTATE 3D000). */
async function ensurePostgresDatabase(url: URL): Promise<void> {
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  const probe = new pg.Client({ connectionString: url.toString() });
  try {
    await probe.connect();
    return;
  } catch (e) {
    if ((e as { code?: string }).code !== '3D000') {
      const why = (e as { code?: string }).code === 'ECONNREFUSED' ? 'the connection was refused (is PostgreSQL running there, or is DATABASE_URL wrong?)' : (e as Error).message;
      throw new HalyardError('invalid_config', `cannot connect to PostgreSQL at ${hostPort(url)}: ${why}`, { host: hostPort(url) }, e);
    }
  } finally {
    await probe.end().catch(() => undefined);
  }
  const admin = new URL(url.toString());
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } catch (e) {
    // Created meanwhile by someone else (servers starting together): 42P04, or 23505 when the two
    // CREATE DATABASE statements collide in the catalog.
    const code = (e as { code?: string }).code;
    if (code !== '42P04' && code !== '23505') throw e;
  } finally {
    await client.end();
  }
}

async function migrate(store: Store): Promise<void> {
  const migrator = new Migrator({ db: store.db, provider: migrationProvider(store.dialect) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    // Kysely refuses a store with a migration this build does not know: a newer Halyard migrated it.
    const newer = /previously executed migration (\S+) is missing/.exec((error as Error).message)?.[1];
    if (newer !== undefined) {
      throw new HalyardError('invalid_config', `the store ${store.where} was migrated by a newer Halyard (migration ${newer}): run that version, or restore a backup made before the upgrade`, { migration: newer }, error);
    }
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new HalyardError('internal', `migration ${failed} failed on ${store.where}: ${(error as Error).message}`, { migration: failed }, error);
  }
}
