import type { Kysely, Selectable } from 'kysely';
import { dialectOf } from './dialect.ts';
import type { Database, JobsTable } from './schema.ts';

/** A stored job row. */
export type JobRow = Selectable<JobsTable>;

/** Who claims queued rows and for how long (ms): after it, a claim whose worker died is taken again. */
export interface Claim {
  readonly holder: string;
  readonly leaseMs: number;
}

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
export async function claimDueJob(db: Kysely<Database>, kinds: readonly string[], now: number, claim?: Claim): Promise<JobRow | undefined> {
  if (kinds.length === 0) return undefined;
  if (claim && dialectOf(db) === 'postgres') return claimDueJobSkipLocked(db, kinds, now, claim);
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

/**
 * PostgreSQL, several servers: the first due job — queued, or running under a claim that expired (its
 * server died) — locked with `FOR UPDATE SKIP LOCKED`, so concurrent workers each get a different row
 * without waiting, and marked running under `claim` in the same statement.
 */
async function claimDueJobSkipLocked(db: Kysely<Database>, kinds: readonly string[], now: number, claim: Claim): Promise<JobRow | undefined> {
  return db
    .updateTable('jobs')
    .set((eb) => ({ status: 'running', attempts: eb('attempts', '+', 1), updated_at: now, claimed_by: claim.holder, claim_until: now + claim.leaseMs }))
    .where('id', '=', (eb) =>
      eb
        .selectFrom('jobs')
        .select('id')
        .where('kind', 'in', [...kinds])
        .where((w) =>
          w.or([
            w.and([w('status', '=', 'queued'), w('run_at', '<=', now)]),
            // Left running by a server that stopped renewing its claim (or by one from before claims).
            w.and([w('status', '=', 'running'), w.or([w('claim_until', 'is', null), w('claim_until', '<', now)])]),
          ]),
        )
        .orderBy('run_at')
        .orderBy('id')
        .limit(1)
        .forUpdate()
        .skipLocked(),
    )
    .returningAll()
    .executeTakeFirst();
}

/** Keeps `holder`'s claim on a running job until `until` (epoch ms); false when the claim is no longer its own. */
export async function extendJobClaim(db: Kysely<Database>, id: number, holder: string, until: number): Promise<boolean> {
  const res = await db.updateTable('jobs').set({ claim_until: until }).where('id', '=', id).where('status', '=', 'running').where('claimed_by', '=', holder).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/** Marks a job done (only while `holder`'s claim stands, when given); false when it was not. */
export async function finishJob(db: Kysely<Database>, id: number, now: number, holder?: string): Promise<boolean> {
  return settle(db, id, { status: 'done', last_error: null, updated_at: now }, holder);
}

/** Puts a job back in the queue for another attempt at `runAt` (epoch ms), keeping the error. */
export async function retryJob(db: Kysely<Database>, id: number, error: string, runAt: number, now: number, holder?: string): Promise<boolean> {
  return settle(db, id, { status: 'queued', run_at: runAt, last_error: error, updated_at: now }, holder);
}

/** Marks a job failed for good with its last error. */
export async function failJob(db: Kysely<Database>, id: number, error: string, now: number, holder?: string): Promise<boolean> {
  return settle(db, id, { status: 'failed', last_error: error, updated_at: now }, holder);
}

/** Ends a claim: a worker whose claim was taken over (it stalled past the lease) changes nothing. */
async function settle(db: Kysely<Database>, id: number, patch: { status: string; last_error: string | null; updated_at: number; run_at?: number }, holder?: string): Promise<boolean> {
  let q = db
    .updateTable('jobs')
    .set({ ...patch, claimed_by: null, claim_until: null })
    .where('id', '=', id);
  if (holder !== undefined) q = q.where('status', '=', 'running').where('claimed_by', '=', holder);
  return Number((await q.executeTakeFirst()).numUpdatedRows) === 1;
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
