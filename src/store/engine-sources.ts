import { randomBytes } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { HalyardError } from '../core/errors.ts';
import { parseTargetKey } from '../exchange/targets.ts';
import { newWebhookSecret } from '../notify/standard-webhooks.ts';
import { graceMs, MAX_SECRET_GRACE_S } from './recorders.ts';
import type { Database, EngineSourcesTable } from './schema.ts';
import type { SecretBox } from './secrets.ts';

/** A stored engine source row (secret and sealed poll token included: never send it as is). */
export type EngineSource = Selectable<EngineSourcesTable>;

/** What a new engine source needs. */
export interface NewEngineSource {
  readonly userId: number;
  readonly name: string;
  /** Target assumed when an event names none (`exchange:env`). */
  readonly targetKey?: string | null;
  /** Base URL of the engine's positions API (`http://host:port`). */
  readonly pollUrl?: string | null;
  /** Bearer token for the positions API (stored encrypted). */
  readonly pollToken?: string | null;
}

/** Checks a poll base URL (http or https, no query) and drops a trailing slash. */
export function normalisePollUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new HalyardError('invalid_input', `poll URL '${url}' is not a URL (e.g. http://127.0.0.1:8090)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new HalyardError('invalid_input', `poll URL must be http or https, got '${url}'`);
  if (u.search || u.hash) throw new HalyardError('invalid_input', `poll URL must be a base URL without query or fragment, got '${url}'`);
  return url.replace(/\/+$/, '');
}

/** Creates an engine source with a fresh Standard Webhooks secret; the poll token is sealed with `box`. */
export async function createEngineSource(db: Kysely<Database>, box: SecretBox | undefined, s: NewEngineSource, now: number): Promise<EngineSource> {
  const name = s.name.trim();
  if (name.length === 0 || name.length > 100) throw new HalyardError('invalid_input', 'an engine source name is 1-100 characters');
  const targetKey = s.targetKey ? parseTargetKey(s.targetKey).key : null;
  const pollUrl = s.pollUrl ? normalisePollUrl(s.pollUrl) : null;
  if (s.pollToken && !pollUrl) throw new HalyardError('invalid_input', 'a poll token needs a poll URL');
  if (s.pollToken && !box) throw new HalyardError('invalid_config', 'the server has no ENCRYPTION_KEY, so it cannot store a poll token (set one: openssl rand -hex 32)');
  const sealed = s.pollToken && box ? box.encrypt(s.pollToken) : null;
  return db.transaction().execute(async (trx) => {
    const taken = await trx.selectFrom('engine_sources').select('id').where('user_id', '=', s.userId).where('name', '=', name).executeTakeFirst();
    if (taken) throw new HalyardError('conflict', `an engine source named '${name}' exists already`);
    return trx
      .insertInto('engine_sources')
      .values({
        id: `es_${randomBytes(12).toString('base64url')}`,
        user_id: s.userId,
        name,
        secret: newWebhookSecret(),
        target_key: targetKey,
        poll_url: pollUrl,
        poll_token_enc: sealed,
        last_event_at: null,
        last_poll_at: null,
        created_at: now,
        deleted_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

/** A live (not deleted) source by id, for the webhook. */
export async function liveEngineSource(db: Kysely<Database>, id: string): Promise<EngineSource | undefined> {
  return db.selectFrom('engine_sources').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
}

/** A source by id, deleted ones included (events it sent before are still processed). */
export async function engineSourceById(db: Kysely<Database>, id: string): Promise<EngineSource | undefined> {
  return db.selectFrom('engine_sources').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The user's live engine sources. */
export async function listEngineSources(db: Kysely<Database>, userId: number): Promise<EngineSource[]> {
  return db.selectFrom('engine_sources').selectAll().where('user_id', '=', userId).where('deleted_at', 'is', null).orderBy('created_at').orderBy('id').execute();
}

/** Soft-deletes a source: its webhook answers 404, its events and positions stay. */
export async function deleteEngineSource(db: Kysely<Database>, userId: number, id: string, now: number): Promise<void> {
  const res = await db.updateTable('engine_sources').set({ deleted_at: now }).where('id', '=', id).where('user_id', '=', userId).where('deleted_at', 'is', null).executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) throw new HalyardError('not_found', `no engine source ${id}`);
}

/** Longest grace period of a rotated signing secret (s): a week, as for recorders. */
export const MAX_ENGINE_GRACE_S = MAX_SECRET_GRACE_S;

/**
 * Gives one of the user's engine sources a new signing secret. Events signed with the old one are still
 * accepted for `graceSeconds` (0: refused at once, 401 bad_signature); a secret still in its grace from
 * an earlier rotation stops now. Another user's source is not_found.
 */
export async function rotateEngineSecret(db: Kysely<Database>, userId: number, id: string, graceSeconds: number, now: number): Promise<EngineSource> {
  const grace = graceMs(graceSeconds);
  const src = await db.selectFrom('engine_sources').selectAll().where('id', '=', id).where('user_id', '=', userId).where('deleted_at', 'is', null).executeTakeFirst();
  if (!src) throw new HalyardError('not_found', `no engine source ${id}`);
  const updated = await db
    .updateTable('engine_sources')
    .set({ secret: newWebhookSecret(), previous_secret: grace > 0 ? src.secret : null, previous_secret_until: grace > 0 ? now + grace : null })
    .where('id', '=', src.id)
    .where('secret', '=', src.secret)
    .returningAll()
    .executeTakeFirst();
  if (!updated) throw new HalyardError('conflict', `engine source ${id} was rotated or deleted meanwhile: list it again and retry`);
  return updated;
}

/** The secrets an event of `s` may be signed with at `now` (epoch ms): the current one, then the old one during its grace. */
export function acceptedSecrets(s: Pick<EngineSource, 'secret' | 'previous_secret' | 'previous_secret_until'>, now: number): string[] {
  return s.previous_secret !== null && s.previous_secret_until !== null && s.previous_secret_until > now ? [s.secret, s.previous_secret] : [s.secret];
}

/** Moves `last_event_at` forward to `at` (epoch ms; never backwards). */
export async function touchLastEvent(db: Kysely<Database>, id: string, at: number): Promise<void> {
  await db
    .updateTable('engine_sources')
    .set({ last_event_at: at })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_event_at', 'is', null), eb('last_event_at', '<', at)]))
    .execute();
}

/** Records a poll (epoch ms). */
export async function touchLastPoll(db: Kysely<Database>, id: string, at: number): Promise<void> {
  await db.updateTable('engine_sources').set({ last_poll_at: at }).where('id', '=', id).execute();
}

/** Live sources with a poll URL whose last event is older than `quietSince` (epoch ms), or that never sent one. */
export async function quietPollableSources(db: Kysely<Database>, quietSince: number): Promise<EngineSource[]> {
  return db
    .selectFrom('engine_sources')
    .selectAll()
    .where('deleted_at', 'is', null)
    .where('poll_url', 'is not', null)
    .where((eb) => eb.or([eb('last_event_at', 'is', null), eb('last_event_at', '<=', quietSince)]))
    .orderBy('id')
    .execute();
}
