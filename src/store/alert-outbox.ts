import type { Kysely, Selectable, UpdateQueryBuilder, UpdateResult } from 'kysely';
import type { Claim } from './jobs.ts';
import type { AlertsTable, Database } from './schema.ts';

/** An alert row: one alert for one channel, waiting for (or done with) delivery. */
export type AlertRow = Selectable<AlertsTable>;

/** Alert statuses: waiting, taken by the channel, given up (refused, or out of attempts). */
export const ALERT_STATUSES = ['pending', 'delivered', 'dead'] as const;
/** One alert status. */
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** An alert to enqueue. */
export interface NewAlert {
  /** What is ordered together (`run:<run id>`). */
  readonly stream: string;
  /** `trade_opened`, `trade_closed`, … */
  readonly kind: string;
  /** The message (Discord markdown). */
  readonly text: string;
}

/** The stream of a paper run's alerts. */
export function runStream(runId: string): string {
  return `run:${runId}`;
}

/** Rows per INSERT statement (10 columns each: far below both dialects' parameter limits). */
const CHUNK = 400;

/**
 * Enqueues `alerts` as `pending`, due at `now` (epoch ms): one row per alert and channel, in the given
 * order (ids ascend with it). Pass the caller's transaction as `db` to commit them with the state change
 * they announce. With no channel nothing is written.
 */
export async function enqueueAlerts(db: Kysely<Database>, alerts: readonly NewAlert[], channels: readonly string[], now: number): Promise<void> {
  const rows = alerts.flatMap((a) =>
    channels.map((channel) => ({ stream: a.stream, channel, kind: a.kind, text: a.text, status: 'pending', attempts: 0, next_attempt_at: now, last_error: null, created_at: now })),
  );
  for (let i = 0; i < rows.length; i += CHUNK) await db.insertInto('alerts').values(rows.slice(i, i + CHUNK)).execute();
}

/**
 * Pending alerts of `channels` due at `now` (epoch ms), in id order, at most `limit` (of `stream` when
 * given). An alert waits while an earlier alert of its stream and channel is pending and not yet due, so a
 * retried alert is never overtaken by the ones written after it.
 */
export async function dueAlerts(db: Kysely<Database>, channels: readonly string[], now: number, limit: number, stream?: string): Promise<AlertRow[]> {
  if (channels.length === 0) return [];
  let q = db
    .selectFrom('alerts as a')
    .selectAll('a')
    .where('a.status', '=', 'pending')
    .where('a.channel', 'in', [...channels])
    .where('a.next_attempt_at', '<=', now)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('alerts as e')
            .select('e.id')
            .whereRef('e.stream', '=', 'a.stream')
            .whereRef('e.channel', '=', 'a.channel')
            .where('e.status', '=', 'pending')
            .whereRef('e.id', '<', 'a.id')
            .where('e.next_attempt_at', '>', now),
        ),
      ),
    );
  if (stream !== undefined) q = q.where('a.stream', '=', stream);
  return q.orderBy('a.id').limit(limit).execute();
}

/** What a sender claims on a shared (PostgreSQL) alert table. */
export interface AlertClaimQuery {
  readonly channels: readonly string[];
  /** Due at or before this (epoch ms): the pass's own time. */
  readonly dueBy: number;
  /** Epoch ms now: claims end `claim.leaseMs` after it, and claims older than it are expired. */
  readonly now: number;
  readonly limit: number;
  readonly claim: Claim;
  /** Only this stream's alerts, when given. */
  readonly stream?: string;
}

/**
 * PostgreSQL, several senders: claims up to `q.limit` due alerts, in id order, a stream and channel at a
 * time. A sender takes a stream's channel by locking its first pending alert (`FOR UPDATE SKIP LOCKED`, and
 * only while no other sender's claim on it is live), then claims its due alerts that no earlier waiting
 * alert holds back — so order holds across senders. A claim whose sender died is taken again after
 * `claim.leaseMs`.
 */
export async function claimDueAlerts(db: Kysely<Database>, q: AlertClaimQuery): Promise<AlertRow[]> {
  if (q.channels.length === 0) return [];
  const rows = await db
    .with('heads', (qb) => {
      let h = qb
        .selectFrom('alerts as a')
        .select(['a.stream', 'a.channel'])
        .where('a.status', '=', 'pending')
        .where('a.channel', 'in', [...q.channels])
        .where('a.next_attempt_at', '<=', q.dueBy)
        .where((w) => w.or([w('a.claim_until', 'is', null), w('a.claim_until', '<', q.now)]))
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('alerts as e')
                .select('e.id')
                .whereRef('e.stream', '=', 'a.stream')
                .whereRef('e.channel', '=', 'a.channel')
                .where('e.status', '=', 'pending')
                .whereRef('e.id', '<', 'a.id'),
            ),
          ),
        );
      if (q.stream !== undefined) h = h.where('a.stream', '=', q.stream);
      return h.orderBy('a.id').limit(q.limit).forUpdate('a').skipLocked();
    })
    .updateTable('alerts')
    .set({ claimed_by: q.claim.holder, claim_until: q.now + q.claim.leaseMs })
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('alerts as x')
        .innerJoin('heads', (j) => j.onRef('heads.stream', '=', 'x.stream').onRef('heads.channel', '=', 'x.channel'))
        .select('x.id')
        .where('x.status', '=', 'pending')
        .where('x.next_attempt_at', '<=', q.dueBy)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('alerts as e')
                .select('e.id')
                .whereRef('e.stream', '=', 'x.stream')
                .whereRef('e.channel', '=', 'x.channel')
                .where('e.status', '=', 'pending')
                .whereRef('e.id', '<', 'x.id')
                .where('e.next_attempt_at', '>', q.dueBy),
            ),
          ),
        )
        .orderBy('x.id')
        .limit(q.limit),
    )
    .returningAll()
    .execute();
  return rows.sort((a, b) => a.id - b.id);
}

/** Gives back claims not worked (a sender stopping mid-batch): the alerts are due for anyone again. */
export async function releaseAlertClaims(db: Kysely<Database>, ids: readonly number[], holder: string): Promise<void> {
  if (ids.length === 0) return;
  await db.updateTable('alerts').set({ claimed_by: null, claim_until: null }).where('id', 'in', [...ids]).where('claimed_by', '=', holder).execute();
}

/** When the next pending alert of `stream` on `channels` is due (epoch ms), or null when none is pending. */
export async function nextAlertDue(db: Kysely<Database>, stream: string, channels: readonly string[]): Promise<number | null> {
  if (channels.length === 0) return null;
  const r = await db
    .selectFrom('alerts')
    .select((eb) => eb.fn.min('next_attempt_at').as('at'))
    .where('stream', '=', stream)
    .where('status', '=', 'pending')
    .where('channel', 'in', [...channels])
    .executeTakeFirst();
  return r?.at === null || r?.at === undefined ? null : Number(r.at);
}

/** Only while the row is pending, and `holder`'s claim stands when given. */
function pendingOf<O>(q: UpdateQueryBuilder<Database, 'alerts', 'alerts', O>, id: number, holder?: string): UpdateQueryBuilder<Database, 'alerts', 'alerts', O> {
  const mine = q.where('id', '=', id).where('status', '=', 'pending');
  return holder === undefined ? mine : mine.where('claimed_by', '=', holder);
}

const done = (r: UpdateResult): boolean => Number(r.numUpdatedRows) === 1;

/** Marks an alert delivered at `now` (epoch ms), counting the attempt. */
export async function markAlertDelivered(db: Kysely<Database>, id: number, now: number, holder?: string): Promise<boolean> {
  return done(await pendingOf(db.updateTable('alerts').set((eb) => ({ status: 'delivered', delivered_at: now, attempts: eb('attempts', '+', 1), claimed_by: null, claim_until: null })), id, holder).executeTakeFirst());
}

/** Records a failed attempt: `attempts` so far, the next try at `nextAt` (epoch ms), and why it failed. */
export async function markAlertRetry(db: Kysely<Database>, id: number, attempts: number, nextAt: number, error: string, holder?: string): Promise<boolean> {
  return done(await pendingOf(db.updateTable('alerts').set({ attempts, next_attempt_at: nextAt, last_error: error, claimed_by: null, claim_until: null }), id, holder).executeTakeFirst());
}

/** Marks an alert given up (it is not sent again), counting the attempt. */
export async function markAlertDead(db: Kysely<Database>, id: number, error: string, holder?: string): Promise<boolean> {
  return done(await pendingOf(db.updateTable('alerts').set((eb) => ({ status: 'dead', last_error: error, attempts: eb('attempts', '+', 1), claimed_by: null, claim_until: null })), id, holder).executeTakeFirst());
}

/** Alerts per status (of one stream when given). */
export type AlertStats = Record<AlertStatus, number>;

/** How many alerts are pending, delivered and dead (of one stream when given). */
export async function alertStats(db: Kysely<Database>, stream?: string): Promise<AlertStats> {
  let q = db.selectFrom('alerts').select(['status', (eb) => eb.fn.countAll<number | string>().as('n')]).groupBy('status');
  if (stream !== undefined) q = q.where('stream', '=', stream);
  const stats: AlertStats = { pending: 0, delivered: 0, dead: 0 };
  for (const r of await q.execute()) if (r.status in stats) stats[r.status as AlertStatus] = Number(r.n);
  return stats;
}

/** A stream's alerts in id order (every channel and status). */
export async function streamAlerts(db: Kysely<Database>, stream: string): Promise<AlertRow[]> {
  return db.selectFrom('alerts').selectAll().where('stream', '=', stream).orderBy('id').execute();
}

