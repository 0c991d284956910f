import type { Kysely, Selectable } from 'kysely';
import type { Database, JobsTable } from './schema.ts';

/** A stored job row. */
export type JobRow = Selectable<JobsTable>;

/** Inserts a queued job; returns its id. `runAt` and `now` are epoch ms. */
export async function insertJob(db: Kysely<Database>, kind: string, payload: unknown, runAt: number, now: number): Promise<number> {
  const row = await db
    .insertInto('jobs')
    .values({ kind, payload: JSON.stringify(payload), status: 'queued', attempts: 0, run_at: runAt, last_error: null, created_at: now, updated_at: now })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/**
 * Claims the next due job (queued, `run_at <= now`, one of `kinds`): marks it running and counts the
 * attempt. The update is conditional on the row still being queued, so two workers never take one job.
 */
export async function claimDueJob(db: Kysely<Database>, kinds: readonly string[], now: number): Promise<JobRow | undefined> {
  if (kinds.length === 0) return undefined;
  for (let tries = 0; tries < 5; tries++) {
    const next = await db
      .selectFrom('jobs')
      .selectAll()
      .where('status', '=', 'queued')
      .where('run_at', '<=', now)
      .where('kind', 'in', kinds)
      .orderBy('run_at')
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    if (!next) return undefined;
    const res = await db
      .updateTable('jobs')
      .set({ status: 'running', attempts: next.attempts + 1, updated_at: now })
      .where('id', '=', next.id)
      .where('status', '=', 'queued')
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 1) return { ...next, status: 'running', attempts: next.attempts + 1, updated_at: now };
  }
  return undefined;
}

/** Marks a job done. */
export async function finishJob(db: Kysely<Database>, id: number, now: number): Promise<void> {
  await db.updateTable('jobs').set({ status: 'done', last_error: null, updated_at: now }).where('id', '=', id).execute();
}

/** Puts a job back in the queue for another attempt at `runAt` (epoch ms), keeping the error. */
export async function retryJob(db: Kysely<Database>, id: number, error: string, runAt: number, now: number): Promise<void> {
  await db.updateTable('jobs').set({ status: 'queued', run_at: runAt, last_error: error, updated_at: now }).where('id', '=', id).execute();
}

/** Marks a job failed for good with its last error. */
export async function failJob(db: Kysely<Database>, id: number, error: string, now: number): Promise<void> {
  await db.updateTable('jobs').set({ status: 'failed', last_error: error, updated_at: now }).where('id', '=', id).execute();
}

/** Re-queues jobs a dead process left `running` (at start, before any worker runs); returns how many. */
export async function requeueRunningJobs(db: Kysely<Database>, now: number): Promise<number> {
  const res = await db.updateTable('jobs').set({ status: 'queued', run_at: now, updated_at: now }).where('status', '=', 'running').executeTakeFirst();
  return Number(res.numUpdatedRows);
}

/** The earliest `run_at` (epoch ms) of the queued jobs of `kinds`, or null when none waits. */
export async function nextRunAt(db: Kysely<Database>, kinds: readonly string[]): Promise<number | null> {
  if (kinds.length === 0) return null;
  const row = await db.selectFrom('jobs').select((eb) => eb.fn.min('run_at').as('next')).where('status', '=', 'queued').where('kind', 'in', kinds).executeTakeFirst();
  const next = row?.next;
  return next === null || next === undefined ? null : Number(next);
}

/** True when a job of `kind` with exactly this payload is queued or running. */
export async function hasActiveJob(db: Kysely<Database>, kind: string, payload: unknown): Promise<boolean> {
  const row = await db
    .selectFrom('jobs')
    .select('id')
    .where('kind', '=', kind)
    .where('payload', '=', JSON.stringify(payload))
    .where('status', 'in', ['queued', 'running'])
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Jobs of a kind, oldest first (operators and tests). */
export async function jobsOfKind(db: Kysely<Database>, kind: string): Promise<JobRow[]> {
  return db.selectFrom('jobs').selectAll().where('kind', '=', kind).orderBy('id').execute();
}
