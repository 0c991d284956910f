/**
 * SQL texts that the PostgreSQL client sends as named prepared statements, so each connection parses and
 * plans them once instead of on every run: the hot statements the store compiles once (`compiled.ts`).
 * Texts that select `*` are left out (a column added by a migration while the server runs would change a
 * prepared statement's result type, which PostgreSQL refuses).
 */
const names = new Map<string, string>();

/** Most texts prepared (each connection keeps a plan per text; multi-row inserts have one text per row count). */
const MAX_PREPARED = 500;

/** Registers a compiled statement's text for preparation (PostgreSQL texts, which number their parameters `$1`…). */
export function markPrepared(sql: string): void {
  if (names.size >= MAX_PREPARED || names.has(sql) || !sql.includes('$1') || /\bselect \*|\breturning \*/i.test(sql)) return;
  names.set(sql, `halyard_${names.size + 1}`);
}

/** The prepared statement name of a registered text, if any. */
export function preparedName(sql: string): string | undefined {
  return names.get(sql);
}
