import type { Insertable, Kysely, Selectable } from 'kysely';
import { HalyardError } from '../core/errors.ts';
import type { Side } from '../core/types.ts';
import type { VenueOrderRequest, VenueOrderType, VenuePosition } from '../core/venue.ts';
import { pageOf, type Page } from './paging.ts';
import type { Database, OrderIntentsTable, VenuePositionsTable } from './schema.ts';

/** An order intent row. */
export type IntentRow = Selectable<OrderIntentsTable>;
/** What a new intent needs (status, attempts and timestamps are filled in). */
export type NewIntent = Omit<Insertable<OrderIntentsTable>, 'status' | 'attempts' | 'filled_qty' | 'created_at' | 'updated_at' | 'id'> & {
  readonly status?: string;
};
/** Intent statuses that still need work from the dispatcher. */
export const LIVE_INTENT_STATUSES = ['pending', 'sending'] as const;
/** Intent statuses whose order may still rest at the venue. */
export const OPEN_INTENT_STATUSES = ['open'] as const;

/** The venue request an intent stands for (a stored row, or a new one about to be written). */
export function venueRequestOf(i: Pick<NewIntent, 'client_id' | 'symbol' | 'side' | 'type' | 'qty' | 'price' | 'trigger_price' | 'position_side' | 'reduce_only'>): VenueOrderRequest {
  // Optional fields are set one by one: spreading `{}` or `{ price }` per field costs V8 (Node 20) far more.
  const r: { -readonly [K in keyof VenueOrderRequest]: VenueOrderRequest[K] } = { clientId: i.client_id, symbol: i.symbol, side: i.side === 'sell' ? 'sell' : 'buy', type: i.type as VenueOrderType, qty: i.qty };
  if (i.price != null) r.price = i.price;
  if (i.trigger_price != null) r.triggerPrice = i.trigger_price;
  if (i.position_side != null) r.positionSide = i.position_side as Side;
  if (i.reduce_only === 1) r.reduceOnly = true;
  return r;
}

/** A new intent that may already carry the venue's answer (an order the simulated exchange took in the signal's transaction). */
export type WrittenIntent = NewIntent & { readonly attempts?: number; readonly filled_qty?: number };

/** The rows of new intents, every one naming the same columns (for a multi-row insert). */
export function intentRows(intents: readonly WrittenIntent[], now: number): Insertable<OrderIntentsTable>[] {
  return intents.map((i) => ({
    user_id: i.user_id,
    target_key: i.target_key,
    recorder_id: i.recorder_id ?? null,
    signal_id: i.signal_id ?? null,
    group_key: i.group_key,
    action: i.action,
    role: i.role,
    cancels_intent_id: i.cancels_intent_id ?? null,
    client_id: i.client_id,
    symbol: i.symbol,
    side: i.side,
    type: i.type,
    qty: i.qty,
    price: i.price ?? null,
    trigger_price: i.trigger_price ?? null,
    position_side: i.position_side ?? null,
    reduce_only: i.reduce_only,
    source: i.source,
    opened_by: i.opened_by,
    status: i.status ?? 'pending',
    attempts: i.attempts ?? 0,
    next_attempt_at: i.next_attempt_at ?? null,
    last_error: i.last_error ?? null,
    last_error_code: i.last_error_code ?? null,
    venue_order_id: i.venue_order_id ?? null,
    filled_qty: i.filled_qty ?? 0,
    avg_fill_price: i.avg_fill_price ?? null,
    raw: i.raw ?? null,
    created_at: now,
    updated_at: now,
    position_id: i.position_id ?? null,
    booked_qty: i.booked_qty ?? 0,
    booked_cost: i.booked_cost ?? 0,
    stop_loss: i.stop_loss ?? null,
    take_profit: i.take_profit ?? null,
  }));
}

/** Writes intents in one statement (inside the caller's transaction when given one); ids are not read back. */
export async function writeIntents(db: Kysely<Database>, intents: readonly WrittenIntent[], now: number): Promise<void> {
  if (intents.length === 0) return;
  await db.insertInto('order_intents').values(intentRows(intents, now)).execute();
}

/** Writes intents (inside the caller's transaction when given one) and returns their ids in order. */
export async function insertIntents(db: Kysely<Database>, intents: readonly NewIntent[], now: number): Promise<number[]> {
  const ids: number[] = [];
  for (const i of intents) {
    const row = await db
      .insertInto('order_intents')
      .values({ ...i, status: i.status ?? 'pending', attempts: 0, filled_qty: 0, created_at: now, updated_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    ids.push(row.id);
  }
  return ids;
}

/** Every intent the dispatcher still has to work on (of one user's target when given), oldest first. */
export async function liveIntents(db: Kysely<Database>, userId?: number, targetKey?: string): Promise<IntentRow[]> {
  let q = db.selectFrom('order_intents').selectAll().where('status', 'in', [...LIVE_INTENT_STATUSES]);
  if (userId !== undefined) q = q.where('user_id', '=', userId);
  if (targetKey !== undefined) q = q.where('target_key', '=', targetKey);
  return q.orderBy('id').execute();
}

/** One intent by id (any user). */
export async function intentById(db: Kysely<Database>, id: number): Promise<IntentRow | undefined> {
  return db.selectFrom('order_intents').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The intent with a client id on a target (client ids are unique per target), if any. */
export async function intentByClientId(db: Kysely<Database>, targetKey: string, clientId: string): Promise<IntentRow | undefined> {
  return db.selectFrom('order_intents').selectAll().where('target_key', '=', targetKey).where('client_id', '=', clientId).executeTakeFirst();
}

/** One of the user's intents; another user's id is not_found. */
export async function userIntent(db: Kysely<Database>, userId: number, id: number): Promise<IntentRow> {
  const row = await db.selectFrom('order_intents').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
  if (!row) throw new HalyardError('not_found', `no order ${id}`);
  return row;
}

/** Changes an intent's state; returns the row after the change. */
export async function updateIntent(db: Kysely<Database>, id: number, patch: Partial<Omit<IntentRow, 'id'>>, now: number): Promise<IntentRow> {
  return db
    .updateTable('order_intents')
    .set({ ...patch, updated_at: now })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Bracket orders (stop-loss, take-profit) of a group placed before intent `beforeId` that may still rest. */
export async function openBracketIntents(db: Kysely<Database>, groupKey: string, beforeId: number): Promise<IntentRow[]> {
  return db
    .selectFrom('order_intents')
    .selectAll()
    .where('group_key', '=', groupKey)
    .where('id', '<', beforeId)
    .where('action', '=', 'place')
    .where('role', 'in', ['stop_loss', 'take_profit'])
    .where('status', 'in', [...OPEN_INTENT_STATUSES])
    .orderBy('id')
    .execute();
}

/** A user's intents on a target in the given statuses, oldest first (by last change, then id). */
export async function targetIntents(db: Kysely<Database>, userId: number, targetKey: string, statuses: readonly string[]): Promise<IntentRow[]> {
  return db
    .selectFrom('order_intents')
    .selectAll()
    .where('user_id', '=', userId)
    .where('target_key', '=', targetKey)
    .where('action', '=', 'place')
    .where('status', 'in', [...statuses])
    .orderBy('updated_at')
    .orderBy('id')
    .execute();
}

/** Filters of an intents listing. */
export interface IntentQuery {
  readonly userId: number;
  /** One status or several. */
  readonly status?: string | readonly string[];
  /** Only orders (`place`) or only cancel requests (`cancel`). */
  readonly action?: 'place' | 'cancel';
  readonly targetKey?: string;
  readonly recorderId?: number;
  /** Only ids below this (paging backwards). */
  readonly before?: number;
  readonly limit: number;
}

/** The user's intents, newest first, with the cursor of the next page. */
export async function listIntents(db: Kysely<Database>, q: IntentQuery): Promise<Page<IntentRow>> {
  let s = db.selectFrom('order_intents').selectAll().where('user_id', '=', q.userId);
  if (typeof q.status === 'string') s = s.where('status', '=', q.status);
  else if (q.status !== undefined) s = s.where('status', 'in', [...q.status]);
  if (q.action !== undefined) s = s.where('action', '=', q.action);
  if (q.targetKey !== undefined) s = s.where('target_key', '=', q.targetKey);
  if (q.recorderId !== undefined) s = s.where('recorder_id', '=', q.recorderId);
  if (q.before !== undefined) s = s.where('id', '<', q.before);
  return pageOf(await s.orderBy('id', 'desc').limit(q.limit + 1).execute(), q.limit);
}

/** A venue position row. */
export type VenuePositionRow = Selectable<VenuePositionsTable>;

/** Replaces the latest snapshot of a user's positions on one target (run it inside a transaction). */
export async function saveVenuePositions(trx: Kysely<Database>, userId: number, targetKey: string, positions: readonly VenuePosition[], now: number): Promise<void> {
  await trx.deleteFrom('venue_positions').where('user_id', '=', userId).where('target_key', '=', targetKey).execute();
  for (const p of positions) {
    await trx
      .insertInto('venue_positions')
      .values({
        user_id: userId,
        target_key: targetKey,
        symbol: p.symbol,
        side: p.side,
        position_side: p.positionSide,
        qty: p.qty,
        entry_price: p.entryPrice,
        mark_price: p.markPrice,
        unrealized_pnl: p.unrealizedPnl,
        raw: JSON.stringify(p.raw ?? null),
        fetched_at: now,
      })
      .execute();
  }
  await trx
    .insertInto('venue_snapshots')
    .values({ user_id: userId, target_key: targetKey, fetched_at: now, positions: positions.length })
    .onConflict((oc) => oc.columns(['user_id', 'target_key']).doUpdateSet({ fetched_at: now, positions: positions.length }))
    .execute();
}

/** Targets of the user that have a venue snapshot, with its time (epoch ms). */
export async function snapshotTimes(db: Kysely<Database>, userId: number): Promise<Map<string, number>> {
  const rows = await db.selectFrom('venue_snapshots').select(['target_key', 'fetched_at']).where('user_id', '=', userId).execute();
  return new Map(rows.map((r) => [r.target_key, r.fetched_at]));
}

/** The user's latest venue positions (optionally of one target). */
export async function listVenuePositions(db: Kysely<Database>, userId: number, targetKey?: string): Promise<VenuePositionRow[]> {
  let q = db.selectFrom('venue_positions').selectAll().where('user_id', '=', userId);
  if (targetKey !== undefined) q = q.where('target_key', '=', targetKey);
  return q.orderBy('target_key').orderBy('symbol').orderBy('side').execute();
}

/** Marks an intent's fill booked on the ledger up to what it has filled (run in the booking's transaction). */
export async function markBooked(db: Kysely<Database>, i: Pick<IntentRow, 'id' | 'filled_qty' | 'avg_fill_price'>): Promise<void> {
  await db.updateTable('order_intents').set({ booked_qty: i.filled_qty, booked_cost: (i.avg_fill_price ?? 0) * i.filled_qty }).where('id', '=', i.id).execute();
}
