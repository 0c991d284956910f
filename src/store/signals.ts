import { sql, type Insertable, type Kysely, type Selectable } from 'kysely';
import { insertStatement, statement } from './compiled.ts';
import type { IntentRow } from './order-intents.ts';
import { pageOf, type Page } from './paging.ts';
import type { Database, SignalsTable } from './schema.ts';

/** A stored signal delivery. */
export type SignalRow = Selectable<SignalsTable>;
/** A signal delivery to store. */
export type NewSignalRow = Insertable<SignalsTable>;

const INSERT_SIGNAL = insertStatement(
  'signals',
  ['recorder_id', 'user_id', 'received_at', 'format', 'action', 'ticker', 'qty', 'price', 'signal_time', 'order_id', 'target_size', 'position_side', 'stop_loss', 'take_profit', 'dedupe_key', 'outcome', 'reason', 'raw_body', 'content_type'],
  (q) => q.returning('id'),
);

/** Appends a delivery; returns its id. */
export async function insertSignal(db: Kysely<Database>, row: NewSignalRow): Promise<number> {
  const r = await INSERT_SIGNAL(db, {
    recorder_id: row.recorder_id,
    user_id: row.user_id,
    received_at: row.received_at,
    format: row.format,
    action: row.action,
    ticker: row.ticker,
    qty: row.qty ?? null,
    price: row.price ?? null,
    signal_time: row.signal_time ?? null,
    order_id: row.order_id ?? null,
    target_size: row.target_size ?? null,
    position_side: row.position_side ?? null,
    stop_loss: row.stop_loss ?? null,
    take_profit: row.take_profit ?? null,
    dedupe_key: row.dedupe_key,
    outcome: row.outcome,
    reason: row.reason ?? null,
    raw_body: row.raw_body,
    content_type: row.content_type ?? null,
  });
  return r.rows[0]!.id;
}

// `accepted` is written into the SQL: SQLite prepares a statement anew each time a parameter that a
// partial index's condition (`signals_dedupe`: outcome = 'accepted') depends on is bound.
const ACCEPTED_BY_KEY = statement((db, recorderId: number, dedupeKey: string) =>
  db.selectFrom('signals').select('id').where('recorder_id', '=', recorderId).where('dedupe_key', '=', dedupeKey).where('outcome', '=', sql.lit('accepted')),
);

/** The accepted signal of a recorder with this dedupe key, if any. */
export async function acceptedByKey(db: Kysely<Database>, recorderId: number, dedupeKey: string): Promise<number | undefined> {
  return (await ACCEPTED_BY_KEY(db, recorderId, dedupeKey)).rows[0]?.id;
}

const DELIVERY_CHECK = statement((db, recorderId: number, secret: string, now: number, dedupeKey: string) =>
  db.selectNoFrom((eb) => [
    eb
      .selectFrom('recorders')
      .select('id')
      .where('id', '=', recorderId)
      .where('deleted_at', 'is', null)
      .where((w) => w.or([w('secret', '=', secret), w.and([w('previous_secret', '=', secret), w('previous_secret_until', '>', now)])]))
      .as('live'),
    eb.selectFrom('signals').select('id').where('recorder_id', '=', recorderId).where('dedupe_key', '=', dedupeKey).where('outcome', '=', sql.lit('accepted')).as('duplicate_of'),
  ]),
);

/** What a webhook delivery's transaction checks first: its recorder still answers its secret, and whether it repeats an accepted signal. */
export interface DeliveryCheck {
  /** The recorder is live and `secret` is its secret (or the one a rotation replaced, within its grace) at `now`. */
  readonly live: boolean;
  /** The accepted signal of the recorder with the delivery's dedupe key, if any. */
  readonly duplicateOf: number | undefined;
}

/**
 * One statement for what a delivery by `secret` to recorder `recorderId` checks inside its transaction:
 * whether the secret still opens that recorder at `now` (epoch ms; as `recorderBySecret` would answer) and
 * the accepted signal with `dedupeKey`, if any.
 */
export async function checkDelivery(db: Kysely<Database>, recorderId: number, secret: string, now: number, dedupeKey: string): Promise<DeliveryCheck> {
  const r = (await DELIVERY_CHECK(db, recorderId, secret, now, dedupeKey)).rows[0];
  return { live: r?.live != null, duplicateOf: r?.duplicate_of ?? undefined };
}

/** Filters of the signal log (all optional); pages go backwards from `before` (an id). */
export interface SignalQuery {
  readonly userId: number;
  readonly recorderId?: number;
  readonly ticker?: string;
  readonly outcome?: string;
  readonly action?: string;
  /** Only ids below this (the `next` cursor of the previous page). */
  readonly before?: number;
  readonly limit: number;
}

/** One page of a user's signal log, newest first, and the cursor of the next page. */
export async function listSignals(db: Kysely<Database>, q: SignalQuery): Promise<Page<SignalRow>> {
  let query = db.selectFrom('signals').selectAll().where('user_id', '=', q.userId);
  if (q.recorderId !== undefined) query = query.where('recorder_id', '=', q.recorderId);
  if (q.ticker !== undefined) query = query.where('ticker', '=', q.ticker);
  if (q.outcome !== undefined) query = query.where('outcome', '=', q.outcome);
  if (q.action !== undefined) query = query.where('action', '=', q.action);
  if (q.before !== undefined) query = query.where('id', '<', q.before);
  return pageOf(await query.orderBy('id', 'desc').limit(q.limit + 1).execute(), q.limit);
}

/** A recorder's accepted signals in arrival order, a page at a time (for rebuilds). */
export async function acceptedSignalsPage(db: Kysely<Database>, recorderId: number, afterId: number, limit: number): Promise<SignalRow[]> {
  return db
    .selectFrom('signals')
    .selectAll()
    .where('recorder_id', '=', recorderId)
    .where('outcome', '=', 'accepted')
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();
}

/**
 * How a signal went on one linked target, summarised from its orders: `filled`, `partially_filled`,
 * `pending` (queued or waiting to retry), `open` (resting at the venue), `canceled`, `failed`,
 * `rejected`, or `nothing_to_do` (the signal did not change what the target holds).
 */
export type ExecutionStatus = 'filled' | 'partially_filled' | 'pending' | 'open' | 'canceled' | 'failed' | 'rejected' | 'nothing_to_do';

/** A signal's execution on one target. */
export interface SignalExecution {
  /** `exchange:env`. */
  readonly target: string;
  readonly status: ExecutionStatus;
  /** Why it failed, was rejected or waits to retry (the venue's or the server's words); null otherwise. */
  readonly reason: string | null;
  /** Orders the signal made there (market orders and brackets; bracket cancels that went through are left out). */
  readonly orders: number;
  /** Base units the signal's main orders asked for (its market orders; its brackets when it only moved levels). */
  readonly qty: number;
  /** Base units of those that filled. */
  readonly filled_qty: number;
  /** Average fill price of those (quote), null before a fill. */
  readonly avg_fill_price: number | null;
  /** Epoch ms of the next try of a pending order, null otherwise. */
  readonly next_attempt_at: number | null;
}

/** The fields of an order intent that its signal's execution summary reads. */
export type ExecutionIntent = Pick<IntentRow, 'id' | 'target_key' | 'action' | 'role' | 'status' | 'qty' | 'filled_qty' | 'avg_fill_price' | 'last_error' | 'next_attempt_at'>;

const BRACKET_ROLES = new Set(['stop_loss', 'take_profit']);
const EPS = 1e-12;

/** The error of an intent, naming the order when it is not the signal's market order ("stop loss: …"). */
function reasonOf(i: ExecutionIntent): string | null {
  if (i.last_error === null) return null;
  const what = i.action === 'cancel' ? 'bracket cancel' : BRACKET_ROLES.has(i.role) ? i.role.replace('_', ' ') : null;
  return what ? `${what}: ${i.last_error}` : i.last_error;
}

/**
 * One target's execution of a signal from the signal's intents there (ids ascending). A failure or a
 * refusal anywhere wins (the trader has to act), then an order still queued, then what the main orders
 * became: the market orders, or the brackets when the signal only moved its stop-loss / take-profit.
 */
export function summarizeExecution(target: string, intents: readonly ExecutionIntent[]): SignalExecution {
  const relevant = intents.filter((i) => !(i.action === 'cancel' && i.status === 'done'));
  const places = relevant.filter((i) => i.action === 'place');
  const markets = places.filter((i) => !BRACKET_ROLES.has(i.role));
  const main = markets.length > 0 ? markets : places;
  const asked = main.reduce((a, i) => a + i.qty, 0);
  const filled = main.reduce((a, i) => a + i.filled_qty, 0);
  const cost = main.reduce((a, i) => a + (i.avg_fill_price !== null ? i.avg_fill_price * i.filled_qty : 0), 0);
  const base = { target, orders: relevant.length, qty: asked, filled_qty: filled, avg_fill_price: filled > EPS ? cost / filled : null, next_attempt_at: null };
  const bad = relevant.find((i) => i.status === 'failed') ?? relevant.find((i) => i.status === 'rejected');
  if (bad) return { ...base, status: bad.status === 'failed' ? 'failed' : 'rejected', reason: reasonOf(bad) };
  const waiting = relevant.find((i) => i.status === 'pending' || i.status === 'sending');
  if (waiting) return { ...base, status: 'pending', reason: reasonOf(waiting), next_attempt_at: waiting.next_attempt_at };
  if (main.length === 0) return { ...base, status: 'nothing_to_do', reason: null };
  if (main.every((i) => i.status === 'filled')) return { ...base, status: 'filled', reason: null };
  if (filled > EPS) return { ...base, status: 'partially_filled', reason: null };
  if (main.some((i) => i.status === 'open')) return { ...base, status: 'open', reason: null };
  const canceled = main.find((i) => i.status === 'canceled');
  return { ...base, status: canceled ? 'canceled' : 'open', reason: canceled ? reasonOf(canceled) : null };
}

/** What the execution listing needs of a signal. */
type ExecutionSignal = Pick<SignalRow, 'id' | 'recorder_id' | 'outcome'>;

/**
 * The execution of each signal per target, for one page of the log in two queries (the signals' intents,
 * their recorders' links): every target the signal made orders on, plus each target its recorder is
 * linked to now as `nothing_to_do` when the signal was accepted but moved nothing there. Rejected and
 * duplicate signals execute nowhere (an empty list).
 */
export async function signalExecutions(db: Kysely<Database>, userId: number, signals: readonly ExecutionSignal[]): Promise<Map<number, SignalExecution[]>> {
  const out = new Map<number, SignalExecution[]>(signals.map((s) => [s.id, []]));
  if (signals.length === 0) return out;
  const [intents, links] = await Promise.all([
    db
      .selectFrom('order_intents')
      .select(['id', 'signal_id', 'target_key', 'action', 'role', 'status', 'qty', 'filled_qty', 'avg_fill_price', 'last_error', 'next_attempt_at'])
      .where('user_id', '=', userId)
      .where(
        'signal_id',
        'in',
        signals.map((s) => s.id),
      )
      .orderBy('id')
      .execute(),
    db
      .selectFrom('recorder_targets')
      .select(['recorder_id', 'target_key'])
      .where('recorder_id', 'in', [...new Set(signals.map((s) => s.recorder_id))])
      .orderBy('target_key')
      .execute(),
  ]);
  const bySignal = new Map<number, Map<string, ExecutionIntent[]>>();
  for (const i of intents) {
    if (i.signal_id === null) continue;
    const targets = bySignal.get(i.signal_id) ?? new Map<string, ExecutionIntent[]>();
    bySignal.set(i.signal_id, targets);
    const list = targets.get(i.target_key) ?? [];
    targets.set(i.target_key, list);
    list.push(i);
  }
  for (const s of signals) {
    const targets = bySignal.get(s.id) ?? new Map<string, ExecutionIntent[]>();
    const keys = s.outcome === 'accepted' ? links.filter((l) => l.recorder_id === s.recorder_id).map((l) => l.target_key) : [];
    for (const k of [...targets.keys()].sort()) if (!keys.includes(k)) keys.push(k);
    out.set(
      s.id,
      keys.map((k) => summarizeExecution(k, targets.get(k) ?? [])),
    );
  }
  return out;
}
