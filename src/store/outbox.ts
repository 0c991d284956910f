import type { Kysely, Selectable, UpdateQueryBuilder, UpdateResult } from 'kysely';
import type { Claim } from './jobs.ts';
import type { Database, OutboxTable } from './schema.ts';

/** An outbox row: one engine event waiting for (or done with) delivery. */
export type OutboxRow = Selectable<OutboxTable>;

/** Outbox statuses: waiting, accepted by the receiver (2xx), refused for good. */
export const OUTBOX_STATUSES = ['pending', 'delivered', 'dead'] as const;
/** One outbox status. */
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

/** An event to enqueue. */
export interface NewOutboxEvent {
  readonly run_id: string;
  /** Standard Webhooks `webhook-id` (`msg_<run>_<seq>`), unique: the receiver's idempotency key. */
  readonly webhook_id: string;
  readonly event_type: string;
  /** The exact JSON body to sign and send. */
  readonly payload: string;
}

/** Rows per INSERT statement (9 columns each: far below SQLite's and PostgreSQL's parameter limits). */
const CHUNK = 500;

/**
 * Enqueues events as `pending`, due at `now` (epoch ms), in the given order (ids ascend with it). Pass the
 * caller's transaction as `db` to commit the events with the state change that produced them.
 */
export async function enqueueEvents(db: Kysely<Database>, rows: readonly NewOutboxEvent[], now: number): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    await db
      .insertInto('outbox')
      .values(
        rows.slice(i, i + CHUNK).map((r) => ({
          run_id: r.run_id,
          webhook_id: r.webhook_id,
          event_type: r.event_type,
          payload: r.payload,
          status: 'pending',
          attempts: 0,
          next_attempt_at: now,
          last_error: null,
          created_at: now,
        })),
      )
      .execute();
  }
}

/**
 * Pending events due at `now` (epoch ms), in id order, at most `limit`. An event waits while an earlier
 * event of its run is still pending and not yet due, so a retried event is never overtaken by the events
 * its run produced after it.
 */
export async function dueEvents(db: Kysely<Database>, now: number, limit: number): Promise<OutboxRow[]> {
  return db
    .selectFrom('outbox as o')
    .selectAll('o')
    .where('o.status', '=', 'pending')
    .where('o.next_attempt_at', '<=', now)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('outbox as e')
            .select('e.id')
            .whereRef('e.run_id', '=', 'o.run_id')
            .where('e.status', '=', 'pending')
            .whereRef('e.id', '<', 'o.id')
            .where('e.next_attempt_at', '>', now),
        ),
      ),
    )
    .orderBy('o.id')
    .limit(limit)
    .execute();
}

/**
 * PostgreSQL, several senders: claims up to `limit` due events for `claim`, in id order, a run at a time. A
 * sender takes a run by locking its first pending event (`FOR UPDATE SKIP LOCKED`, and only while no other
 * sender's claim on it is live), then claims the run's due events that no earlier waiting event holds back —
 * so one sender delivers a run at a time and runs stay in order across senders. A claim whose sender died
 * is taken again after `claim.leaseMs`.
 */
export async function claimDueEvents(db: Kysely<Database>, now: number, limit: number, claim: Claim): Promise<OutboxRow[]> {
  const rows = await db
    .with('heads', (qb) =>
      qb
        .selectFrom('outbox as o')
        .select('o.run_id')
        .where('o.status', '=', 'pending')
        .where('o.next_attempt_at', '<=', now)
        .where((w) => w.or([w('o.claim_until', 'is', null), w('o.claim_until', '<', now)]))
        .where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom('outbox as e').select('e.id').whereRef('e.run_id', '=', 'o.run_id').where('e.status', '=', 'pending').whereRef('e.id', '<', 'o.id'))),
        )
        .orderBy('o.id')
        .limit(limit)
        .forUpdate('o')
        .skipLocked(),
    )
    .updateTable('outbox')
    .set({ claimed_by: claim.holder, claim_until: now + claim.leaseMs })
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('outbox as x')
        .innerJoin('heads', 'heads.run_id', 'x.run_id')
        .select('x.id')
        .where('x.status', '=', 'pending')
        .where('x.next_attempt_at', '<=', now)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('outbox as e')
                .select('e.id')
                .whereRef('e.run_id', '=', 'x.run_id')
                .where('e.status', '=', 'pending')
                .whereRef('e.id', '<', 'x.id')
                .where('e.next_attempt_at', '>', now),
            ),
          ),
        )
        .orderBy('x.id')
        .limit(limit),
    )
    .returningAll()
    .execute();
  return rows.sort((a, b) => a.id - b.id);
}

/** Gives back claims not worked (a sender stopping mid-batch): the events are due for anyone again. */
export async function releaseEventClaims(db: Kysely<Database>, ids: readonly number[], holder: string): Promise<void> {
  if (ids.length === 0) return;
  await db.updateTable('outbox').set({ claimed_by: null, claim_until: null }).where('id', 'in', [...ids]).where('claimed_by', '=', holder).execute();
}

/** Only while the row is pending, and `holder`'s claim stands when given. */
function pendingOf<O>(q: UpdateQueryBuilder<Database, 'outbox', 'outbox', O>, id: number, holder?: string): UpdateQueryBuilder<Database, 'outbox', 'outbox', O> {
  const mine = q.where('id', '=', id).where('status', '=', 'pending');
  return holder === undefined ? mine : mine.where('claimed_by', '=', holder);
}

const done = (r: UpdateResult): boolean => Number(r.numUpdatedRows) === 1;

/** Marks an event delivered at `now` (epoch ms), counting the attempt. */
export async function markDelivered(db: Kysely<Database>, id: number, now: number, holder?: string): Promise<boolean> {
  return done(await pendingOf(db.updateTable('outbox').set((eb) => ({ status: 'delivered', delivered_at: now, attempts: eb('attempts', '+', 1), claimed_by: null, claim_until: null })), id, holder).executeTakeFirst());
}

/** Records a failed attempt: `attempts` so far, the next try at `nextAt` (epoch ms), and why it failed. */
export async function markRetry(db: Kysely<Database>, id: number, attempts: number, nextAt: number, error: string, holder?: string): Promise<boolean> {
  return done(await pendingOf(db.updateTable('outbox').set({ attempts, next_attempt_at: nextAt, last_error: error, claimed_by: null, claim_until: null }), id, holder).executeTakeFirst());
}

/** Marks an event refused for good (it is not sent again), counting the attempt. */
export async function markDead(db: Kysely<Database>, id: number, error: string, holder?: string): Promise<boolean> {
  return done(await pendingOf(db.updateTable('outbox').set((eb) => ({ status: 'dead', last_error: error, attempts: eb('attempts', '+', 1), claimed_by: null, claim_until: null })), id, holder).executeTakeFirst());
}

/** Events per status (of one run when given). */
export type OutboxStats = Record<OutboxStatus, number>;

/** How many events are pending, delivered and dead (of one run when given). */
export async function outboxStats(db: Kysely<Database>, runId?: string): Promise<OutboxStats> {
  let q = db.selectFrom('outbox').select(['status', (eb) => eb.fn.countAll<number | string>().as('n')]).groupBy('status');
  if (runId !== undefined) q = q.where('run_id', '=', runId);
  const stats: OutboxStats = { pending: 0, delivered: 0, dead: 0 };
  for (const r of await q.execute()) if (r.status in stats) stats[r.status as OutboxStatus] = Number(r.n);
  return stats;
}

/** One event by its webhook id, if any. */
export async function eventByWebhookId(db: Kysely<Database>, webhookId: string): Promise<OutboxRow | undefined> {
  return db.selectFrom('outbox').selectAll().where('webhook_id', '=', webhookId).executeTakeFirst();
}
