import type { Insertable, Kysely, Selectable } from 'kysely';
import { pageOf, type Page } from './paging.ts';
import type { Database, SignalsTable } from './schema.ts';

/** A stored signal delivery. */
export type SignalRow = Selectable<SignalsTable>;
/** A signal delivery to store. */
export type NewSignalRow = Insertable<SignalsTable>;

/** Appends a delivery; returns its id. */
export async function insertSignal(db: Kysely<Database>, row: NewSignalRow): Promise<number> {
  const r = await db.insertInto('signals').values(row).returning('id').executeTakeFirstOrThrow();
  return r.id;
}

/** The accepted signal of a recorder with this dedupe key, if any. */
export async function acceptedByKey(db: Kysely<Database>, recorderId: number, dedupeKey: string): Promise<number | undefined> {
  const r = await db
    .selectFrom('signals')
    .select('id')
    .where('recorder_id', '=', recorderId)
    .where('dedupe_key', '=', dedupeKey)
    .where('outcome', '=', 'accepted')
    .executeTakeFirst();
  return r?.id;
}

/** Filters of the signal log (all optional); pages go backwards from `before` (an id). */
export interface SignalQuery {
  readonly userId: number;
  readonly recorderId?: number;
  readonly ticker?: string;
  readonly outcome?: string;
  readonly action?: string;
  /** Only ids below this (the `next` cursor of the previous page). */
  readonly before?: number;
  readonly limit: number;
}

/** One page of a user's signal log, newest first, and the cursor of the next page. */
export async function listSignals(db: Kysely<Database>, q: SignalQuery): Promise<Page<SignalRow>> {
  let query = db.selectFrom('signals').selectAll().where('user_id', '=', q.userId);
  if (q.recorderId !== undefined) query = query.where('recorder_id', '=', q.recorderId);
  if (q.ticker !== undefined) query = query.where('ticker', '=', q.ticker);
  if (q.outcome !== undefined) query = query.where('outcome', '=', q.outcome);
  if (q.action !== undefined) query = query.where('action', '=', q.action);
  if (q.before !== undefined) query = query.where('id', '<', q.before);
  return pageOf(await query.orderBy('id', 'desc').limit(q.limit + 1).execute(), q.limit);
}

/** A recorder's accepted signals in arrival order, a page at a time (for rebuilds). */
export async function acceptedSignalsPage(db: Kysely<Database>, recorderId: number, afterId: number, limit: number): Promise<SignalRow[]> {
  return db
    .selectFrom('signals')
    .selectAll()
    .where('recorder_id', '=', recorderId)
    .where('outcome', '=', 'accepted')
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();
}
