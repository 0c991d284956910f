import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Page } from './paging.ts';
import { pageOf } from './paging.ts';
import type { Database, EngineEventsTable } from './schema.ts';

/** A stored engine event. */
export type EngineEventRow = Selectable<EngineEventsTable>;
/** A new engine event row. */
export type NewEngineEventRow = Insertable<EngineEventsTable>;

/** Inserts an event as received; returns its id. */
export async function insertEngineEvent(db: Kysely<Database>, row: NewEngineEventRow): Promise<number> {
  const r = await db.insertInto('engine_events').values(row).returning('id').executeTakeFirstOrThrow();
  return r.id;
}

/** The event a source already sent under this `webhook-id`, if any. */
export async function eventByWebhookId(db: Kysely<Database>, sourceId: string, webhookId: string): Promise<EngineEventRow | undefined> {
  return db.selectFrom('engine_events').selectAll().where('source_id', '=', sourceId).where('webhook_id', '=', webhookId).executeTakeFirst();
}

/** One event by id. */
export async function engineEventById(db: Kysely<Database>, id: number): Promise<EngineEventRow | undefined> {
  return db.selectFrom('engine_events').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The events of one engine position that were applied to the ledger (its ordering history). */
export async function appliedEventsOf(db: Kysely<Database>, sourceId: string, positionId: string): Promise<Pick<EngineEventRow, 'id' | 'event_ts' | 'raw_body'>[]> {
  return db
    .selectFrom('engine_events')
    .select(['id', 'event_ts', 'raw_body'])
    .where('source_id', '=', sourceId)
    .where('position_id', '=', positionId)
    .where('status', '=', 'processed')
    .orderBy('id')
    .execute();
}

/** Sets an event's outcome: `processed`, `ignored` (older than the stored state) or `failed`, with a reason. */
export async function markEngineEvent(db: Kysely<Database>, id: number, status: 'processed' | 'ignored' | 'failed', error: string | null, now: number): Promise<void> {
  await db.updateTable('engine_events').set({ status, error, processed_at: now }).where('id', '=', id).execute();
}

/** Filters of the event log. */
export interface EngineEventQuery {
  readonly userId: number;
  readonly sourceId?: string;
  readonly status?: string;
  readonly positionId?: string;
  /** Only ids below this (paging). */
  readonly before?: number;
  readonly limit: number;
}

/** A user's engine events, newest first. */
export async function listEngineEvents(db: Kysely<Database>, q: EngineEventQuery): Promise<Page<EngineEventRow>> {
  let query = db.selectFrom('engine_events').selectAll().where('user_id', '=', q.userId);
  if (q.sourceId !== undefined) query = query.where('source_id', '=', q.sourceId);
  if (q.status !== undefined) query = query.where('status', '=', q.status);
  if (q.positionId !== undefined) query = query.where('position_id', '=', q.positionId);
  if (q.before !== undefined) query = query.where('id', '<', q.before);
  return pageOf(await query.orderBy('id', 'desc').limit(q.limit + 1).execute(), q.limit);
}
