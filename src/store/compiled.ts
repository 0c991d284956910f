import { CompiledQuery, type Compilable, type Insertable, type InsertQueryBuilder, type InsertResult, type Kysely, type QueryResult } from 'kysely';
import { HalyardError } from '../core/errors.ts';
import { markPrepared } from './prepared.ts';
import type { Database } from './schema.ts';

/**
 * Statements of the hot paths (the signal intake) compiled once per dialect and then run with new values:
 * Kysely builds and compiles each query anew, which cost the intake more CPU than SQLite's own work. The
 * query is still written with Kysely (typed, one text per dialect); only its SQL text is kept. A store
 * opened with Kysely plugins builds every query as usual, so a plugin still sees each one.
 */

/** Stands for argument `index` while a statement is compiled (never sent to a database). */
class Slot {
  constructor(readonly index: number) {}
}

/** A compiled statement: its SQL and where each parameter comes from (an argument's index, or a value fixed in the query). */
interface Template {
  readonly sql: string;
  readonly from: readonly (number | { readonly value: unknown })[];
}

/** Templates per dialect adapter (every Kysely of one dialect shares its adapter with its transactions), then per statement. */
const templates = new WeakMap<object, Map<unknown, Template>>();

/** The template cache of `db`'s dialect, or null when the store has plugins (then queries are built each time). */
function cacheOf(db: Kysely<Database>): Map<unknown, Template> | null {
  const executor = db.getExecutor();
  if (executor.plugins.length > 0) return null;
  let m = templates.get(executor.adapter);
  if (!m) {
    m = new Map();
    templates.set(executor.adapter, m);
  }
  return m;
}

function compileTemplate(query: Compilable<unknown>, args: number): Template {
  const c = query.compile();
  const used = new Set<number>();
  const from = c.parameters.map((p) => {
    if (p instanceof Slot) {
      used.add(p.index);
      return p.index;
    }
    return { value: p };
  });
  // A statement whose query branches on an argument, or drops one, cannot be kept as text.
  if (used.size !== args) throw new HalyardError('internal', `a precompiled statement uses ${used.size} of its ${args} arguments as parameters: ${c.sql}`);
  markPrepared(c.sql);
  return { sql: c.sql, from };
}

function slots(n: number): Slot[] {
  return Array.from({ length: n }, (_, i) => new Slot(i));
}

async function run<R>(db: Kysely<Database>, t: Template, args: readonly unknown[]): Promise<QueryResult<R>> {
  const params = new Array<unknown>(t.from.length);
  for (let i = 0; i < params.length; i++) {
    const f = t.from[i]!;
    const v = typeof f === 'number' ? args[f] : f.value;
    if (v === undefined) throw new HalyardError('internal', `a precompiled statement was given no value for parameter ${i + 1}: ${t.sql}`);
    params[i] = v;
  }
  return db.executeQuery(CompiledQuery.raw(t.sql, params) as CompiledQuery<R>);
}

/**
 * A statement written with Kysely and compiled once per dialect: `build` must use each argument as a
 * value of the query (never branch on it). Returns the function that runs it inside `db` (a store or a
 * transaction) with new arguments.
 */
export function statement<A extends unknown[], R>(build: (db: Kysely<Database>, ...args: A) => Compilable<R>): (db: Kysely<Database>, ...args: A) => Promise<QueryResult<R>> {
  const arity = build.length - 1;
  return (db, ...args) => {
    const cache = cacheOf(db);
    if (!cache) return db.executeQuery(build(db, ...args));
    let t = cache.get(build);
    if (!t) {
      t = compileTemplate(build(db, ...(slots(arity) as unknown as A)), arity);
      cache.set(build, t);
    }
    return run<R>(db, t, args);
  };
}

/**
 * An insert of one row naming `columns` (each row must give every one of them, null where empty), with
 * `extend` adding what follows the values (a `returning`), compiled once per dialect. Returns the function
 * that runs it.
 */
export function insertStatement<T extends keyof Database & string, C extends keyof Insertable<Database[T]> & string, R>(
  table: T,
  columns: readonly C[],
  extend: (q: InsertQueryBuilder<Database, T, InsertResult>) => Compilable<R>,
): (db: Kysely<Database>, row: { readonly [K in C]: Insertable<Database[T]>[K] }) => Promise<QueryResult<R>> {
  const build = (db: Kysely<Database>, values: Record<string, unknown>) => extend(db.insertInto(table).values(values as never));
  return (db, row) => {
    const cache = cacheOf(db);
    if (!cache) return db.executeQuery(build(db, row));
    let t = cache.get(build);
    if (!t) {
      t = compileTemplate(build(db, Object.fromEntries(columns.map((c, i) => [c, new Slot(i)]))), columns.length);
      cache.set(build, t);
    }
    const args = new Array<unknown>(columns.length);
    for (let i = 0; i < columns.length; i++) args[i] = row[columns[i]!];
    return run<R>(db, t, args);
  };
}

/**
 * An update of `columns` of the row whose `key` column equals the row's, compiled once per dialect.
 * Returns the function that runs it with a row's values.
 */
export function updateStatement<T extends keyof Database & string, C extends keyof Database[T] & string, K extends keyof Database[T] & string>(
  table: T,
  columns: readonly C[],
  key: K,
): (db: Kysely<Database>, row: { readonly [P in C | K]: Database[T][P] }) => Promise<QueryResult<unknown>> {
  const build = (db: Kysely<Database>, values: Record<string, unknown>, k: unknown): Compilable<unknown> =>
    db
      .updateTable(table as keyof Database)
      .set(values as never)
      .where(key as never, '=', k as never);
  return (db, row) => {
    const cache = cacheOf(db);
    if (!cache) return db.executeQuery(build(db, Object.fromEntries(columns.map((c) => [c, row[c]])), row[key]));
    let t = cache.get(build);
    if (!t) {
      t = compileTemplate(build(db, Object.fromEntries(columns.map((c, i) => [c, new Slot(i)])), new Slot(columns.length)), columns.length + 1);
      cache.set(build, t);
    }
    const args = new Array<unknown>(columns.length + 1);
    for (let i = 0; i < columns.length; i++) args[i] = row[columns[i]!];
    args[columns.length] = row[key];
    return run(db, t, args);
  };
}

/** Most rows in one multi-row insert (PostgreSQL takes at most 65,535 parameters). */
export const ROWS_PER_INSERT = 500;

/** Keys of the multi-row insert templates: table, then columns, then row count. */
const insertKeys = new Map<string, Map<string, Map<number, object>>>();

function insertKey(table: string, columns: string, n: number): object {
  let byCols = insertKeys.get(table);
  if (!byCols) insertKeys.set(table, (byCols = new Map()));
  let byN = byCols.get(columns);
  if (!byN) byCols.set(columns, (byN = new Map()));
  let k = byN.get(n);
  if (!k) byN.set(n, (k = {}));
  return k;
}

/** What a multi-row insert may add after its values: nothing, or an upsert on a key column. */
export interface OnConflict {
  /** The unique column that makes a row an update. */
  readonly key: string;
  /** Columns an existing row takes from the new one. */
  readonly update: readonly string[];
}

/**
 * Inserts `rows` into `table` with one statement per `ROWS_PER_INSERT` rows, compiled once per dialect,
 * table, column set and row count. Every row must name the same columns in the same order. With
 * `onConflict`, a row whose key exists updates that row's `update` columns instead.
 */
export async function insertRows<T extends keyof Database & string>(db: Kysely<Database>, table: T, rows: readonly Insertable<Database[T]>[], onConflict?: OnConflict): Promise<void> {
  if (rows.length === 0) return;
  const first = rows[0] as Record<string, unknown>;
  const columns = Object.keys(first).filter((c) => first[c] !== undefined);
  const cache = cacheOf(db);
  for (let from = 0; from < rows.length; from += ROWS_PER_INSERT) {
    const chunk = rows.slice(from, from + ROWS_PER_INSERT);
    const build = (values: readonly Record<string, unknown>[]) => {
      const q = db.insertInto(table as keyof Database).values(values as never);
      if (!onConflict) return q;
      return q.onConflict((oc) =>
        oc.column(onConflict.key as never).doUpdateSet((eb) => Object.fromEntries(onConflict.update.map((c) => [c, eb.ref(`excluded.${c}` as never)])) as never),
      );
    };
    const args = cache ? valuesOf(chunk as readonly Record<string, unknown>[], columns) : null;
    if (!cache || !args) {
      // Rows of other shapes (a column left undefined, for its default) are built by Kysely, which handles them.
      await db.executeQuery(build(chunk as readonly Record<string, unknown>[]));
      continue;
    }
    const key = insertKey(`${table}|${onConflict ? `${onConflict.key}:${onConflict.update.join(',')}` : ''}`, columns.join(','), chunk.length);
    let t = cache.get(key);
    if (!t) {
      const n = columns.length;
      const shaped = chunk.map((_, r) => Object.fromEntries(columns.map((c, i) => [c, new Slot(r * n + i)])));
      t = compileTemplate(build(shaped), n * chunk.length);
      cache.set(key, t);
    }
    await run(db, t, args);
  }
}

/** The rows' values in column order, row after row; null unless every row names exactly `columns`, each defined. */
function valuesOf(rows: readonly Record<string, unknown>[], columns: readonly string[]): unknown[] | null {
  const args = new Array<unknown>(columns.length * rows.length);
  let k = 0;
  for (const row of rows) {
    if (Object.keys(row).length !== columns.length) return null;
    for (const c of columns) {
      const v = row[c];
      if (v === undefined) return null;
      args[k++] = v;
    }
  }
  return args;
}
