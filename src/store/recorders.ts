import type { Kysely, Selectable } from 'kysely';
import { HalyardError } from '../core/errors.ts';
import type { PositionMode } from '../core/types.ts';
import { parseTargetKey } from '../exchange/targets.ts';
import type { Database, RecordersTable } from './schema.ts';
import { newWebhookSecret } from './secrets.ts';

/** A recorder row. */
export type Recorder = Selectable<RecordersTable>;

/** A recorder with the targets its positions belong to. */
export interface RecorderWithTargets extends Recorder {
  readonly targets: readonly { readonly target_key: string; readonly multiplier: number }[];
}

/** What a new recorder needs. */
export interface NewRecorder {
  readonly userId: number;
  readonly name: string;
  readonly positionMode?: PositionMode;
  /** Signals older than this are rejected (ms); default 5 minutes. */
  readonly maxLagMs?: number;
  /** Quantity when a signal carries none; default 1. */
  readonly defaultQty?: number;
  readonly strategy?: string | null;
  /** Target keys (`bybit:paper`, …) with multipliers; default `sim:paper` × 1. */
  readonly targets?: readonly { readonly key: string; readonly multiplier?: number }[];
}

/** Default max lag of a recorder (ms). */
export const DEFAULT_MAX_LAG_MS = 300_000;

/** Creates a recorder with a fresh webhook secret. */
export async function createRecorder(db: Kysely<Database>, r: NewRecorder, now: number): Promise<RecorderWithTargets> {
  const name = r.name.trim();
  if (name.length === 0 || name.length > 100) throw new HalyardError('invalid_input', 'a recorder name is 1-100 characters');
  const maxLag = r.maxLagMs ?? DEFAULT_MAX_LAG_MS;
  if (!(maxLag > 0) || !Number.isFinite(maxLag)) throw new HalyardError('invalid_input', `max lag must be > 0 ms, got ${maxLag}`);
  const qty = r.defaultQty ?? 1;
  if (!(qty > 0) || !Number.isFinite(qty)) throw new HalyardError('invalid_input', `default quantity must be > 0, got ${qty}`);
  const targets = (r.targets && r.targets.length > 0 ? r.targets : [{ key: 'sim:paper' }]).map((t) => {
    const m = t.multiplier ?? 1;
    if (!(m > 0) || !Number.isFinite(m)) throw new HalyardError('invalid_input', `target multiplier must be > 0, got ${m}`);
    return { target_key: parseTargetKey(t.key).key, multiplier: m };
  });
  if (new Set(targets.map((t) => t.target_key)).size !== targets.length) throw new HalyardError('invalid_input', 'a target is listed twice');
  return db.transaction().execute(async (trx) => {
    const rec = await trx
      .insertInto('recorders')
      .values({
        user_id: r.userId,
        name,
        secret: newWebhookSecret(),
        position_mode: r.positionMode ?? 'oneway',
        max_lag_ms: maxLag,
        default_qty: qty,
        strategy: r.strategy ?? null,
        created_at: now,
        deleted_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await trx.insertInto('recorder_targets').values(targets.map((t) => ({ recorder_id: rec.id, ...t }))).execute();
    return { ...rec, targets };
  });
}

/** A live recorder by its webhook secret (deleted ones are gone for the webhook). */
export async function recorderBySecret(db: Kysely<Database>, secret: string): Promise<Recorder | undefined> {
  return db.selectFrom('recorders').selectAll().where('secret', '=', secret).where('deleted_at', 'is', null).executeTakeFirst();
}

/** The user's live recorders with their targets. */
export async function listRecorders(db: Kysely<Database>, userId: number): Promise<RecorderWithTargets[]> {
  const recs = await db.selectFrom('recorders').selectAll().where('user_id', '=', userId).where('deleted_at', 'is', null).orderBy('id').execute();
  return withTargets(db, recs);
}

/** One of the user's recorders; another user's id is not_found, never forbidden. */
export async function getRecorder(db: Kysely<Database>, userId: number, id: number): Promise<RecorderWithTargets> {
  const rec = await db.selectFrom('recorders').selectAll().where('id', '=', id).where('user_id', '=', userId).where('deleted_at', 'is', null).executeTakeFirst();
  if (!rec) throw new HalyardError('not_found', `no recorder ${id}`);
  const [one] = await withTargets(db, [rec]);
  return one ?? { ...rec, targets: [] };
}

/** Soft-deletes a recorder: its webhook stops answering; its signals and positions stay in the log. */
export async function deleteRecorder(db: Kysely<Database>, userId: number, id: number, now: number): Promise<void> {
  const res = await db.updateTable('recorders').set({ deleted_at: now }).where('id', '=', id).where('user_id', '=', userId).where('deleted_at', 'is', null).executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) throw new HalyardError('not_found', `no recorder ${id}`);
}

/** Every recorder ever created (deleted too), for rebuilds. */
export async function allRecorders(db: Kysely<Database>): Promise<Recorder[]> {
  return db.selectFrom('recorders').selectAll().orderBy('id').execute();
}

async function withTargets(db: Kysely<Database>, recs: Recorder[]): Promise<RecorderWithTargets[]> {
  if (recs.length === 0) return [];
  const links = await db
    .selectFrom('recorder_targets')
    .select(['recorder_id', 'target_key', 'multiplier'])
    .where(
      'recorder_id',
      'in',
      recs.map((r) => r.id),
    )
    .orderBy('target_key')
    .execute();
  return recs.map((r) => ({ ...r, targets: links.filter((l) => l.recorder_id === r.id).map((l) => ({ target_key: l.target_key, multiplier: l.multiplier })) }));
}

/** The targets a recorder is linked to, with multipliers. */
export async function recorderLinks(db: Kysely<Database>, recorderId: number): Promise<{ target_key: string; multiplier: number }[]> {
  return db.selectFrom('recorder_targets').select(['target_key', 'multiplier']).where('recorder_id', '=', recorderId).orderBy('target_key').execute();
}
