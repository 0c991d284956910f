import type { Kysely, Selectable } from 'kysely';
import { HalyardError } from '../core/errors.ts';
import { MAX_MULTIPLIER, MAX_QTY } from '../core/instrument.ts';
import type { PositionMode } from '../core/types.ts';
import { parseTargetKey } from '../exchange/targets.ts';
import type { Database, RecordersTable } from './schema.ts';
import { newWebhookSecret } from './secrets.ts';
import { statement } from './compiled.ts';

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
  /**
   * Target keys (`bybit:paper`, …) with multipliers. Absent: `sim:paper` × 1. Empty: tracking only (the
   * signals move the recorder's positions; no order goes anywhere).
   */
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
  if (!(qty > 0) || !(qty <= MAX_QTY)) throw new HalyardError('invalid_input', `default quantity must be > 0 and at most ${MAX_QTY}, got ${qty}`);
  const targets = (r.targets ?? [{ key: 'sim:paper' }]).map((t) => {
    const m = t.multiplier ?? 1;
    if (!(m > 0) || !(m <= MAX_MULTIPLIER)) throw new HalyardError('invalid_input', `target multiplier must be > 0 and at most ${MAX_MULTIPLIER}, got ${m}`);
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
    if (targets.length > 0) await trx.insertInto('recorder_targets').values(targets.map((t) => ({ recorder_id: rec.id, ...t }))).execute();
    return { ...rec, targets };
  });
}

/**
 * A live recorder by its webhook secret (deleted ones are gone for the webhook), or by the secret a
 * rotation replaced while its grace period lasts at `now` (epoch ms; without it, only the current
 * secret). The old secret is looked up only when the current one misses: a delivery costs one query.
 */
export async function recorderBySecret(db: Kysely<Database>, secret: string, now?: number): Promise<Recorder | undefined> {
  const current = (await BY_SECRET(db, secret)).rows[0];
  if (current || now === undefined) return current;
  return (await BY_PREVIOUS_SECRET(db, secret, now)).rows[0];
}

const BY_SECRET = statement((db, secret: string) => db.selectFrom('recorders').selectAll().where('secret', '=', secret).where('deleted_at', 'is', null));
const BY_PREVIOUS_SECRET = statement((db, secret: string, now: number) =>
  db.selectFrom('recorders').selectAll().where('previous_secret', '=', secret).where('previous_secret_until', '>', now).where('deleted_at', 'is', null),
);

/** Longest grace period of a rotated secret (s): a week. */
export const MAX_SECRET_GRACE_S = 7 * 86_400;

/** Checks a grace period (s): an integer from 0 (the old secret stops at once) to a week. */
export function graceMs(graceSeconds: number): number {
  if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > MAX_SECRET_GRACE_S) {
    throw new HalyardError('invalid_input', `the grace period must be whole seconds from 0 to ${MAX_SECRET_GRACE_S} (a week), got ${graceSeconds}`);
  }
  return graceSeconds * 1000;
}

/**
 * Gives one of the user's recorders a new webhook secret. The old one keeps working for `graceSeconds`
 * (0: it stops at once), then the webhook answers 404 to it; a secret still in its grace from an earlier
 * rotation stops now. Another user's recorder is not_found.
 */
export async function rotateRecorderSecret(db: Kysely<Database>, userId: number, id: number, graceSeconds: number, now: number): Promise<RecorderWithTargets> {
  const grace = graceMs(graceSeconds);
  const rec = await getRecorder(db, userId, id);
  const updated = await db
    .updateTable('recorders')
    .set({ secret: newWebhookSecret(), previous_secret: grace > 0 ? rec.secret : null, previous_secret_until: grace > 0 ? now + grace : null })
    .where('id', '=', rec.id)
    .where('user_id', '=', userId)
    .where('secret', '=', rec.secret)
    .returningAll()
    .executeTakeFirst();
  if (!updated) throw new HalyardError('conflict', `recorder ${id} was rotated or deleted meanwhile: list it again and retry`);
  return { ...updated, targets: rec.targets };
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
