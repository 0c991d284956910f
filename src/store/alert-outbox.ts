import type { Kysely, Selectable } from 'kysely';
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

/** Marks an alert delivered at `now` (epoch ms), counting the attempt. */
export async function markAlertDelivered(db: Kysely<Database>, id: number, now: number): Promise<void> {
  await db
    .updateTable('alerts')
    .set((eb) => ({ status: 'delivered', delivered_at: now, attempts: eb('attempts', '+', 1) }))
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .execute();
}

/** Records a failed attempt: `attempts` so far, the next try at `nextAt` (epoch ms), and why it failed. */
export async function markAlertRetry(db: Kysely<Database>, id: number, attempts: number, nextAt: number, error: string): Promise<void> {
  await db.updateTable('alerts').set({ attempts, next_attempt_at: nextAt, last_error: error }).where('id', '=', id).where('status', '=', 'pending').execute();
}

/** Marks an alert given up (it is not sent again), counting the attempt. */
export async function markAlertDead(db: Kysely<Database>, id: number, error: string): Promise<void> {
  await db
    .updateTable('alerts')
    .set((eb) => ({ status: 'dead', last_error: error, attempts: eb('attempts', '+', 1) }))
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .execute();
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

