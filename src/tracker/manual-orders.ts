import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { ERROR_CODES, HalyardError, type ErrorCode } from '../core/errors.ts';
import type { Clock } from '../core/ports.ts';
import type { OrderSide } from '../core/types.ts';
import { tickerOf } from '../core/instrument.ts';
import type { VenueOrderRequest, VenueOrderType } from '../core/venue.ts';
import { clientOrderId } from '../exchange/client-id.ts';
import { venueSymbol } from '../exchange/symbols.ts';
import { parseTargetKey } from '../exchange/targets.ts';
import { insertIntents, intentByClientId, userIntent, type IntentRow, type NewIntent } from '../store/order-intents.ts';
import type { Database } from '../store/schema.ts';
import type { OrderDispatcher } from './dispatcher.ts';
import { webappBase } from './fill-booking.ts';

/** An order a user places from the API or the dashboard: a venue request without its client id. */
export interface ManualOrder extends Omit<VenueOrderRequest, 'clientId'> {
  readonly targetKey: string;
  /** The caller's idempotency key: the same key places one order, however often it is sent. */
  readonly clientKey?: string;
  /** A stop-loss trigger (quote): once the entry fills, the dashboard position's bracket rests at it for the whole position. */
  readonly stopLoss?: number;
  /** A take-profit trigger (quote): once the entry fills, the dashboard position's bracket rests at it for the whole position. */
  readonly takeProfit?: number;
}

/** What placing or canceling led to: the intent row and whether it is new. */
export interface ManualOutcome {
  readonly intent: IntentRow;
  /** False when an earlier request with the same key already placed it. */
  readonly created: boolean;
}

function toErrorCode(s: string | null): ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(s ?? '') ? (s as ErrorCode) : 'venue_error';
}

/**
 * Orders from the API: placed through the venue of the user's target, recorded as intents with
 * `source = webapp` and `opened_by = user`, so they show beside the signal orders and survive a restart.
 * Their fills are booked on the ledger by `bookFills` (through the dispatcher's `settle`), whenever seen.
 */
export class ManualOrders {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dispatcher: OrderDispatcher,
    private readonly clock: Clock,
  ) {}

  /** Places an order now; refusals throw with the venue's reason (the intent stays visible). */
  async place(userId: number, o: ManualOrder): Promise<ManualOutcome> {
    const target = parseTargetKey(o.targetKey);
    const symbol = venueSymbol(o.symbol, target.exchange);
    if (!(o.qty > 0) || !Number.isFinite(o.qty)) throw new HalyardError('invalid_input', `qty must be > 0, got ${o.qty}`);
    if (o.type === 'limit' && o.price === undefined) throw new HalyardError('invalid_input', 'a limit order needs price');
    if ((o.type === 'stop' || o.type === 'take_profit') && o.triggerPrice === undefined) throw new HalyardError('invalid_input', `a ${o.type} order needs trigger_price`);
    const clientId = clientOrderId([userId, target.key, 'api', o.clientKey ?? `${this.clock.now()}-${randomBytes(8).toString('hex')}`]);
    const existing = await intentByClientId(this.db, target.key, clientId);
    if (existing) {
      if (existing.user_id !== userId) throw new HalyardError('conflict', 'this client order id is taken');
      return { intent: existing, created: false };
    }
    checkBracket(o);
    await this.checkReduce(userId, target.key, o);
    const intent = await this.placeIntent(userId, { role: 'manual', clientId, targetKey: target.key, symbol, side: o.side, type: o.type, qty: o.qty, o });
    const settled = await this.dispatcher.settle(userId, target.key);
    await this.throwIfBracketRefused(intent, settled.written);
    return { intent: await userIntent(this.db, userId, intent.id), created: true };
  }

  /**
   * A reduce order from the dashboard reduces the user's dashboard position, never a signal's or an
   * engine's share of the venue's position (those close from their own row): refused when it is larger.
   */
  private async checkReduce(userId: number, targetKey: string, o: ManualOrder): Promise<void> {
    const closingLeg = o.positionSide !== undefined && (o.positionSide === 'long') !== (o.side === 'buy');
    const hasLevels = o.stopLoss !== undefined || o.takeProfit !== undefined;
    if (!o.reduceOnly && !closingLeg && !hasLevels) return;
    const ticker = tickerOf(o.symbol);
    const rows = await this.db
      .selectFrom('positions')
      .select(['side', 'qty', 'position_side'])
      .where('user_id', '=', userId)
      .where('target_key', '=', targetKey)
      .where('source', '=', 'webapp')
      .where('status', '=', 'open')
      .where('symbol', '=', ticker)
      .execute();
    const mine = rows.find((r) => (o.positionSide ? r.position_side === o.positionSide : r.position_side === null));
    const reducible = mine && (mine.side === 'long') !== (o.side === 'buy') ? mine.qty : 0;
    if (hasLevels && (closingLeg || reducible > 0)) {
      throw new HalyardError('invalid_input', `a ${o.side} of ${ticker} on ${targetKey} reduces your ${mine?.side ?? ''} dashboard position: stop_loss / take_profit go with an order that opens or adds, not one that reduces`);
    }
    if (!o.reduceOnly && !closingLeg) return;
    if (o.qty > reducible + 1e-12) {
      const held = mine ? `your dashboard position is ${mine.side} ${mine.qty}` : 'you hold no dashboard position there';
      throw new HalyardError('invalid_input', `a reduce-only ${o.side} of ${o.qty} ${ticker}${o.positionSide ? ` (${o.positionSide} leg)` : ''} on ${targetKey} is more than it can reduce: ${held}; close a signal's or an engine's position from its own row`);
    }
  }

  /** The API answers a filled entry whose stop-loss or take-profit the venue refused with that refusal. */
  private async throwIfBracketRefused(entry: IntentRow, written: readonly number[]): Promise<void> {
    if (written.length === 0) return;
    const refused = await this.db.selectFrom('order_intents').selectAll().where('id', 'in', [...written]).where('action', '=', 'place').where('status', 'in', ['rejected', 'failed']).execute();
    const first = refused[0];
    if (!first) return;
    throw new HalyardError('venue_rejected', `order ${entry.id} filled, but its ${first.role.replace('_', '-')} was refused: ${first.last_error ?? first.status}`, { order_id: entry.id });
  }

  /** Cancels one of the user's orders at its venue (recorded as a cancel intent of the user). */
  async cancel(userId: number, id: number): Promise<IntentRow> {
    const victim = await userIntent(this.db, userId, id);
    if (victim.action !== 'place') throw new HalyardError('invalid_input', `order ${id} is a cancel request, not an order`);
    if (!['open', 'pending', 'sending'].includes(victim.status)) throw new HalyardError('conflict', `order ${id} is ${victim.status}: nothing to cancel`);
    const clientId = clientOrderId([userId, victim.target_key, 'cancel', id, this.clock.now()]);
    const intent: NewIntent = {
      ...webappBase(userId, victim.target_key, `${victim.target_key}|u${userId}|cancel|${clientId}`),
      action: 'cancel',
      role: 'manual',
      cancels_intent_id: id,
      client_id: clientId,
      symbol: victim.symbol,
      side: victim.side,
      type: victim.type,
      qty: 0,
      price: null,
      trigger_price: null,
      position_side: victim.position_side,
      reduce_only: 0,
    };
    const [cid] = await insertIntents(this.db, [intent], this.clock.now());
    const done = await this.dispatcher.workNow(cid ?? 0);
    if (done.status !== 'done') throw new HalyardError(toErrorCode(done.last_error_code), `cancel of order ${id} failed: ${done.last_error ?? done.status}`);
    // Canceling a dashboard position's stop-loss or take-profit removes that level: it is not drawn again.
    if (victim.position_id !== null && (victim.role === 'stop_loss' || victim.role === 'take_profit')) {
      await this.db
        .updateTable('positions')
        .set(victim.role === 'stop_loss' ? { stop_loss: null } : { take_profit: null })
        .where('id', '=', victim.position_id)
        .where('user_id', '=', userId)
        .execute();
    }
    // A part filled before the cancel is booked now.
    await this.dispatcher.settle(userId, victim.target_key);
    return userIntent(this.db, userId, id);
  }

  /**
   * Records an order of the user (or one acting on a position: `positionId`) and works it now. Refusals
   * throw with the venue's reason; the intent stays visible either way.
   */
  async placeIntent(
    userId: number,
    x: { role: string; clientId: string; targetKey: string; symbol: string; side: OrderSide; type: VenueOrderType; qty: number; o: ManualOrder; positionId?: string },
  ): Promise<IntentRow> {
    const intent: NewIntent = {
      ...webappBase(userId, x.targetKey, `${x.targetKey}|u${userId}|${x.role}|${x.clientId}`),
      action: 'place',
      role: x.role,
      cancels_intent_id: null,
      client_id: x.clientId,
      symbol: x.symbol,
      side: x.side,
      type: x.type,
      qty: x.qty,
      price: x.o.price ?? null,
      trigger_price: x.o.triggerPrice ?? null,
      position_side: x.o.positionSide ?? null,
      reduce_only: x.o.reduceOnly ? 1 : 0,
      position_id: x.positionId ?? null,
      stop_loss: x.o.stopLoss ?? null,
      take_profit: x.o.takeProfit ?? null,
    };
    const [id] = await insertIntents(this.db, [intent], this.clock.now());
    const done = await this.dispatcher.workNow(id ?? 0);
    if (done.status === 'rejected' || done.status === 'failed') {
      throw new HalyardError(toErrorCode(done.last_error_code), `order ${done.id} ${done.status}: ${done.last_error ?? 'no reason given'}`, { order_id: done.id });
    }
    return done;
  }
}

/** Levels that cannot work are refused before anything is sent: a long's stop under its take-profit, and the other way round. */
function checkBracket(o: ManualOrder): void {
  const { stopLoss: sl, takeProfit: tp } = o;
  for (const [name, v] of [['stop_loss', sl], ['take_profit', tp]] as const) {
    if (v !== undefined && !(v > 0 && Number.isFinite(v))) throw new HalyardError('invalid_input', `${name} must be a price > 0, got ${v}`);
  }
  if (o.reduceOnly && (sl !== undefined || tp !== undefined)) throw new HalyardError('invalid_input', 'a reduce-only order takes no stop_loss / take_profit');
  const long = o.positionSide ? o.positionSide === 'long' : o.side === 'buy';
  if (sl !== undefined && tp !== undefined && (long ? sl >= tp : sl <= tp)) {
    throw new HalyardError('invalid_input', `a ${long ? 'long' : 'short'} needs stop_loss ${long ? 'below' : 'above'} take_profit (got ${sl} and ${tp})`);
  }
  const ref = o.type === 'limit' ? o.price : undefined;
  if (ref !== undefined) {
    if (sl !== undefined && (long ? sl >= ref : sl <= ref)) throw new HalyardError('invalid_input', `stop_loss ${sl} is on the wrong side of the limit price ${ref} for a ${long ? 'long' : 'short'}`);
    if (tp !== undefined && (long ? tp <= ref : tp >= ref)) throw new HalyardError('invalid_input', `take_profit ${tp} is on the wrong side of the limit price ${ref} for a ${long ? 'long' : 'short'}`);
  }
}
