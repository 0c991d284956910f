import type { Kysely } from 'kysely';
import { isHalyardError, type ErrorCode, errorMessage } from '../core/errors.ts';
import type { Clock } from '../core/ports.ts';
import type { Venue, VenueOrder } from '../core/venue.ts';
import { backoffMs, isTransient, type RetryPolicy } from '../exchange/retry.ts';
import { SimVenue } from '../exchange/sim/index.ts';
import { DEFAULT_SIM_INSTRUMENTS, instrumentOf } from '../exchange/sim/instruments.ts';
import { intentById, openBracketIntents, saveVenuePositions, targetIntents, updateIntent, venueRequestOf, type IntentRow } from '../store/order-intents.ts';
import type { Database } from '../store/schema.ts';
import { sideSign } from '../core/types.ts';
import { attributedOn } from './attributed.ts';

/** Prices of the signals behind `rows` (signal id → price). */
export async function signalPrices(db: Kysely<Database>, rows: readonly IntentRow[]): Promise<Map<number, number>> {
  const ids = [...new Set(rows.map((r) => r.signal_id).filter((x): x is number => x !== null))];
  if (ids.length === 0) return new Map();
  const found = await db.selectFrom('signals').select(['id', 'price']).where('id', 'in', ids).execute();
  return new Map(found.filter((r) => r.price !== null).map((r) => [r.id, r.price as number]));
}

/** Something the dispatcher logs. */
export interface DispatchLog {
  warn(obj: object, msg: string): void;
}

/** Intent status of a venue order. */
export function intentStatusOf(o: VenueOrder): string {
  switch (o.status) {
    case 'filled':
      return 'filled';
    case 'canceled':
    case 'expired':
      return 'canceled';
    case 'rejected':
      return 'rejected';
    default:
      return 'open';
  }
}

/** Venue refusals that end an intent as `rejected` (anything else that is final ends it `failed`). */
export const REFUSALS: readonly ErrorCode[] = ['venue_rejected', 'invalid_input', 'not_found'];

/**
 * How a one-way reduce-only market exit of a signal goes: `as_planned`; `plain` when it would be cut short
 * because the venue nets the signal's position with others (a dashboard position the other way), so it goes
 * as a plain order of its full size and the venue moves by exactly what the signal's position did; `gone`
 * when the venue no longer holds the share (its stop-loss or take-profit filled there): nothing is sent.
 */
export async function cappedByNetting(
  db: Kysely<Database>,
  venue: Venue,
  i: Pick<IntentRow, 'reduce_only' | 'position_side' | 'source' | 'type' | 'symbol' | 'side' | 'qty' | 'user_id' | 'target_key'>,
): Promise<'as_planned' | 'plain' | 'gone'> {
  if (i.reduce_only !== 1 || i.position_side !== null || i.source !== 'signal' || i.type !== 'market') return 'as_planned';
  const held = (await venue.fetchPositions([i.symbol])).find((p) => p.symbol === i.symbol && p.positionSide === null);
  const reducible = held && (held.side === 'long') !== (i.side === 'buy') ? held.qty : 0;
  if (reducible + 1e-9 >= i.qty) return 'as_planned';
  // The venue holds less than the exit on its side. Either it nets this share with another position the
  // other way (then the venue is the ledger plus this share: send it in full, plain), or the share is
  // gone already (its bracket filled: the venue is the ledger: send nothing). Otherwise leave it as planned.
  const venueNet = held ? sideSign(held.side) * held.qty : 0;
  const ledger = (await attributedOn(db, i.user_id, i.target_key, i.symbol, null)).net;
  const share = i.side === 'sell' ? i.qty : -i.qty;
  // Venues report whole lots; the ledger keeps float sums: a difference under one lot is rounding.
  let lot = 0;
  try {
    lot = instrumentOf(DEFAULT_SIM_INSTRUMENTS, i.symbol).lot;
  } catch {
    lot = 0;
  }
  const tol = Math.max(lot * 0.999, 1e-6 * Math.abs(share));
  const plain = Math.abs(venueNet - (ledger + share)) <= tol;
  const gone = Math.abs(venueNet - ledger) <= tol;
  if (plain && !gone) return 'plain';
  if (gone && !plain) return 'gone';
  return 'as_planned';
}

/**
 * Works one intent against its venue: looks it up by client id when it may have landed already, marks it
 * `sending` (committed first for a real venue), places or cancels, and records the venue's answer — or
 * the failure, pending again with backoff when it is transient. Also snapshots a target's venue.
 */
export class IntentWorker {
  /** Intents being worked right now (a pass and an API call never work the same intent at once). */
  private readonly inFlight = new Set<number>();

  constructor(
    private readonly clock: Clock,
    private readonly policy: RetryPolicy,
    private readonly log?: DispatchLog,
  ) {}

  /** True while intent `id` is being worked. */
  busy(id: number): boolean {
    return this.inFlight.has(id);
  }

  /** True while any intent is being worked. */
  idle(): boolean {
    return this.inFlight.size === 0;
  }

  /** Works one intent; `prices` (signal id → price) means the rows were read inside this pass's transaction. */
  async work(db: Kysely<Database>, venue: Venue, i: IntentRow, prices?: ReadonlyMap<number, number>): Promise<IntentRow> {
    if (this.inFlight.has(i.id)) return i;
    this.inFlight.add(i.id);
    try {
      // The row may have moved since it was listed (an API call worked it): work what is stored now.
      const fresh = prices ? i : await intentById(db, i.id);
      if (!fresh || (fresh.status !== 'pending' && fresh.status !== 'sending')) return fresh ?? i;
      return await this.workUnlocked(db, venue, fresh, prices);
    } catch (e) {
      return this.fail(db, i, e);
    } finally {
      this.inFlight.delete(i.id);
    }
  }

  private async workUnlocked(db: Kysely<Database>, venue: Venue, i: IntentRow, prices?: ReadonlyMap<number, number>): Promise<IntentRow> {
    if (i.action === 'cancel') return this.cancel(db, venue, i);
    const inProcess = venue instanceof SimVenue;
    if (inProcess && i.signal_id !== null) {
      // The simulated exchange fills at the signal's price: it is the market the signal saw.
      const price = prices ? prices.get(i.signal_id) : (await signalPrices(db, [i])).get(i.signal_id);
      if (price !== undefined) await venue.setPrice(i.symbol, price);
    }
    // In-process the lookup is free, and a pass that read this intent before another pass committed it finds it landed.
    if (inProcess || i.status === 'sending' || i.attempts > 0) {
      const landed = await venue.fetchOrderByClientId(i.client_id, i.symbol);
      if (landed) return this.record(db, i, landed);
    }
    const want = i.position_side !== null ? 'hedge' : 'oneway';
    if (venue.positionMode() !== want) await venue.setPositionMode(want);
    const netting = await cappedByNetting(db, venue, i);
    if (netting === 'gone') {
      return updateIntent(db, i.id, { status: 'canceled', attempts: i.attempts + 1, last_error: 'not sent: the venue no longer holds this share (its stop-loss or take-profit filled there)', last_error_code: 'conflict', next_attempt_at: null }, this.clock.now());
    }
    const capped = netting === 'plain';
    // Committed before the request leaves, so a crash mid-send is found and looked up, never resent blindly.
    const patch = { status: 'sending', attempts: i.attempts + 1, next_attempt_at: null, ...(capped ? { reduce_only: 0 } : {}) };
    const sending = inProcess ? { ...i, ...patch } : await updateIntent(db, i.id, patch, this.clock.now());
    try {
      const order = await venue.createOrder(venueRequestOf(capped ? { ...i, reduce_only: 0 } : i));
      return await this.record(db, sending, order);
    } catch (e) {
      if (isHalyardError(e, 'conflict')) {
        const landed = await venue.fetchOrderByClientId(i.client_id, i.symbol);
        if (landed) return this.record(db, sending, landed);
      }
      return this.fail(db, sending, e);
    }
  }

  /** Cancels one intent's order (`cancels_intent_id`) or the group's previous bracket. */
  private async cancel(db: Kysely<Database>, venue: Venue, i: IntentRow): Promise<IntentRow> {
    const errors: string[] = [];
    let victims: IntentRow[];
    if (i.cancels_intent_id !== null) {
      const one = await intentById(db, i.cancels_intent_id);
      if (one && (one.status === 'pending' || (one.status === 'sending' && !(await venue.fetchOrderByClientId(one.client_id, one.symbol))))) {
        await updateIntent(db, one.id, { status: 'canceled', last_error: 'canceled before it reached the venue', next_attempt_at: null }, this.clock.now());
      }
      victims = one && one.status === 'open' ? [one] : [];
    } else {
      victims = await openBracketIntents(db, i.group_key, i.id);
    }
    for (const b of victims) {
      try {
        await this.record(db, b, await venue.cancelOrder(b.venue_order_id ?? '', b.symbol));
      } catch (e) {
        if (!isHalyardError(e, 'not_found')) {
          errors.push(`${b.role} ${b.client_id}: ${errorMessage(e)}`);
          continue;
        }
        // Gone already: filled, or canceled by the venue when the position closed. Record what it became.
        const now = await venue.fetchOrderByClientId(b.client_id, b.symbol).catch(() => null);
        await updateIntent(db, b.id, now ? this.outcome(now) : { status: 'canceled' }, this.clock.now());
      }
    }
    if (errors.length > 0) return this.fail(db, i, new Error(errors.join('; ')), true);
    return updateIntent(db, i.id, { status: 'done', attempts: i.attempts + 1, last_error: null, last_error_code: null }, this.clock.now());
  }

  private outcome(o: VenueOrder): Partial<IntentRow> {
    return { status: intentStatusOf(o), venue_order_id: o.id, filled_qty: o.filledQty, avg_fill_price: o.avgFillPrice, raw: JSON.stringify(o.raw ?? null), last_error: null, last_error_code: null, next_attempt_at: null };
  }

  private record(db: Kysely<Database>, i: IntentRow, o: VenueOrder): Promise<IntentRow> {
    return updateIntent(db, i.id, { ...this.outcome(o), attempts: Math.max(i.attempts, 1) }, this.clock.now());
  }

  /**
   * Records a failure: transient ones (the shared `isTransient`, or any error that is not ours, e.g. the
   * database hiccuping) go back to pending with backoff until attempts run out; the rest are final.
   */
  async fail(db: Kysely<Database>, i: IntentRow, e: unknown, transient = false): Promise<IntentRow> {
    const now = this.clock.now();
    const retryable = transient || isTransient(e) || !isHalyardError(e);
    const attempts = Math.max(i.attempts, 1);
    const why = errorMessage(e);
    const code = isHalyardError(e) ? e.code : 'venue_unavailable';
    if (retryable && attempts < this.policy.maxAttempts) {
      const wait = Math.max(1, backoffMs(attempts, this.policy));
      return updateIntent(db, i.id, { status: 'pending', attempts, last_error: why, last_error_code: code, next_attempt_at: now + wait }, now);
    }
    const status = !retryable && isHalyardError(e) && REFUSALS.includes(e.code) ? 'rejected' : 'failed';
    this.log?.warn({ intent: i.id, target: i.target_key, err: why }, `order ${status}`);
    return updateIntent(db, i.id, { status, attempts, last_error: why, last_error_code: code, next_attempt_at: null }, now);
  }

  /**
   * Brings resting orders up to date (a stop that triggered, a bracket the venue canceled) and records the
   * venue's positions beside the signal positions; returns how many resting orders it found done. Best
   * effort: a failure is logged and retried next time.
   */
  async snapshot(db: Kysely<Database>, venue: Venue, userId: number, targetKey: string): Promise<number> {
    let moved = 0;
    try {
      for (const i of await targetIntents(db, userId, targetKey, ['open'])) {
        if (this.inFlight.has(i.id)) continue;
        const o = await venue.fetchOrderByClientId(i.client_id, i.symbol);
        if (o && intentStatusOf(o) !== 'open') {
          await this.record(db, i, o);
          moved += 1;
        }
      }
      const positions = await venue.fetchPositions();
      const now = this.clock.now();
      if (db.isTransaction) await saveVenuePositions(db, userId, targetKey, positions, now);
      else await db.transaction().execute((trx) => saveVenuePositions(trx, userId, targetKey, positions, now));
    } catch (e) {
      this.log?.warn({ target: targetKey, err: errorMessage(e) }, 'venue position snapshot failed');
    }
    return moved;
  }
}
