import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore, type Store } from '../src/store/db.ts';

/** The PostgreSQL server the tests use (trust auth on loopback). */
export const PG_ADMIN_URL = process.env.HALYARD_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** CI must have PostgreSQL: there a missing server fails the run instead of skipping its half. */
const REQUIRE_PG = process.env.CI === 'true' || process.env.HALYARD_REQUIRE_POSTGRES === '1';

async function postgresAnswers(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2_000 });
  try {
    await c.connect();
    await c.query('select 1');
    return true;
  } catch (e) {
    if (REQUIRE_PG) throw new Error(`PostgreSQL does not answer at ${PG_ADMIN_URL} and CI requires it: ${(e as Error).message}`);
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** A way to open a fresh, empty store of one dialect; `open` may be called several times for one location. */
export interface TestDialect {
  readonly name: 'sqlite' | 'postgres';
  /** A new empty location: returns an opener (reopening keeps the data) and a cleanup. */
  fresh(): Promise<{ open: () => Promise<Store>; url?: string; path?: string; drop: () => Promise<void> }>;
}

let seq = 0;

const sqlite: TestDialect = {
  name: 'sqlite',
  async fresh() {
    const dir = mkdtempSync(join(tmpdir(), 'halyard-db-'));
    const path = join(dir, 'halyard.db');
    return { path, open: () => openStore({ path }), drop: async () => rmSync(dir, { recursive: true, force: true }) };
  },
};

const postgres: TestDialect = {
  name: 'postgres',
  async fresh() {
    const name = `halyard_test_${process.pid}_${++seq}_${Math.floor(Math.random() * 1e6)}`;
    const url = PG_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
    return {
      url,
      open: () => openStore({ url }),
      drop: async () => {
        const c = new pg.Client({ connectionString: PG_ADMIN_URL });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        await c.end();
      },
    };
  },
};

/** Every dialect the store tests run on: SQLite always, PostgreSQL when it answers (always in CI). */
export const DIALECTS: readonly TestDialect[] = (await postgresAnswers()) ? [sqlite, postgres] : [sqlite];
