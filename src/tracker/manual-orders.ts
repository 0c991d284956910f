import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { ERROR_CODES, HalyardError, type ErrorCode } from '../core/errors.ts';
import type { Clock } from '../core/ports.ts';
import type { OrderSide, Side } from '../core/types.ts';
import type { VenueOrderRequest, VenueOrderType } from '../core/venue.ts';
import { clientOrderId } from '../exchange/client-id.ts';
import { venueSymbol } from '../exchange/symbols.ts';
import { parseTargetKey } from '../exchange/targets.ts';
import { insertIntents, intentByClientId, userIntent, type IntentRow, type NewIntent } from '../store/order-intents.ts';
import type { Database } from '../store/schema.ts';
import type { OrderDispatcher } from './dispatcher.ts';
import type { VenueRegistry } from './venue-registry.ts';
import { applyWebappFill } from './webapp-book.ts';

/** An order a user places from the API or the dashboard: a venue request without its client id. */
export interface ManualOrder extends Omit<VenueOrderRequest, 'clientId'> {
  readonly targetKey: string;
  /** The caller's idempotency key: the same key places one order, however often it is sent. */
  readonly clientKey?: string;
  /** Places a reduce-only stop at this trigger price for the filled quantity after the entry fills. */
  readonly stopLoss?: number;
  /** Places a reduce-only take-profit at this trigger price for the filled quantity after the entry fills. */
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
 */
export class ManualOrders {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly venues: VenueRegistry,
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
    const intent = await this.run(userId, { role: 'manual', clientId, targetKey: target.key, symbol, side: o.side, type: o.type, qty: o.qty, o });
    if (intent.status === 'filled') await this.afterFill(userId, intent, o);
    return { intent, created: true };
  }

  /** Books a filled order on the user's webapp position and, for an entry with levels, places its bracket. */
  private async afterFill(userId: number, intent: IntentRow, o: ManualOrder): Promise<void> {
    const price = intent.avg_fill_price;
    const filled = intent.filled_qty > 0 ? intent.filled_qty : intent.qty;
    if (price === null || !(filled > 0)) return;
    const positionSide = (intent.position_side as Side | null) ?? null;
    const reduceOnly = intent.reduce_only === 1 || (positionSide !== null && (positionSide === 'long') !== (intent.side === 'buy'));
    const touched = await applyWebappFill(this.db, userId, {
      targetKey: intent.target_key,
      symbol: intent.symbol,
      side: intent.side as OrderSide,
      positionSide,
      qty: filled,
      price,
      reduceOnly,
      stopLoss: o.stopLoss ?? null,
      takeProfit: o.takeProfit ?? null,
      ts: this.clock.now(),
    });
    await this.dropBracketsOfClosed(userId, intent, touched);
    if (reduceOnly || (o.stopLoss === undefined && o.takeProfit === undefined)) return;
    const exitSide: OrderSide = intent.side === 'buy' ? 'sell' : 'buy';
    // One-way: reduce-only when the venue holds this side (at least the fill); when it nets the fill with
    // another position the other way (a signal's), a reduce-only exit would be refused, so it is a plain one.
    const exitReduceOnly = positionSide !== null || (await this.venueHolds(userId, intent.target_key, intent.symbol, intent.side === 'buy' ? 'long' : 'short', filled));
    const legs: { role: string; type: VenueOrderType; trigger: number }[] = [];
    if (o.stopLoss !== undefined) legs.push({ role: 'stop_loss', type: 'stop', trigger: o.stopLoss });
    if (o.takeProfit !== undefined) legs.push({ role: 'take_profit', type: 'take_profit', trigger: o.takeProfit });
    for (const leg of legs) {
      const bracket: ManualOrder = {
        targetKey: intent.target_key,
        symbol: intent.symbol,
        side: exitSide,
        type: leg.type,
        qty: filled,
        triggerPrice: leg.trigger,
        ...(positionSide ? { positionSide } : exitReduceOnly ? { reduceOnly: true } : {}),
      };
      const clientId = clientOrderId([userId, intent.target_key, 'bracket', intent.client_id, leg.role]);
      try {
        await this.run(userId, { role: leg.role, clientId, targetKey: intent.target_key, symbol: intent.symbol, side: exitSide, type: leg.type, qty: filled, o: bracket });
      } catch (e) {
        throw new HalyardError('venue_rejected', `order ${intent.id} filled, but its ${leg.role.replace('_', '-')} was refused: ${(e as Error).message}`, { order_id: intent.id }, e);
      }
    }
  }

  /** Cancels one of the user's orders at its venue (recorded as a cancel intent of the user). */
  async cancel(userId: number, id: number): Promise<IntentRow> {
    const victim = await userIntent(this.db, userId, id);
    if (victim.action !== 'place') throw new HalyardError('invalid_input', `order ${id} is a cancel request, not an order`);
    if (!['open', 'pending', 'sending'].includes(victim.status)) throw new HalyardError('conflict', `order ${id} is ${victim.status}: nothing to cancel`);
    const clientId = clientOrderId([userId, victim.target_key, 'cancel', id, this.clock.now()]);
    const intent: NewIntent = {
      ...this.base(userId, victim.target_key, `${victim.target_key}|u${userId}|cancel|${clientId}`),
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
    return userIntent(this.db, userId, id);
  }

  /** Closes the venue's position of `symbol` on a target (one leg in hedge mode) with a reduce-only market order. */
  async closePosition(userId: number, targetKey: string, ticker: string, positionSide?: Side): Promise<ManualOutcome> {
    const target = parseTargetKey(targetKey);
    const symbol = venueSymbol(ticker, target.exchange);
    const venue = await this.venues.get(userId, target.key);
    const held = (await venue.fetchPositions([symbol])).filter((p) => p.symbol === symbol && (!positionSide || p.side === positionSide));
    const [p, other] = held;
    if (!p) throw new HalyardError('not_found', `no open ${symbol}${positionSide ? ` ${positionSide}` : ''} position on ${target.key}`);
    if (other) throw new HalyardError('invalid_input', `${symbol} has a long and a short leg on ${target.key}: say position_side`);
    const hedge = p.positionSide !== null;
    const clientId = clientOrderId([userId, target.key, 'close', symbol, p.side, this.clock.now()]);
    const o: ManualOrder = { targetKey: target.key, symbol, side: p.side === 'long' ? 'sell' : 'buy', type: 'market', qty: p.qty, ...(hedge ? { positionSide: p.side } : { reduceOnly: true }) };
    const intent = await this.run(userId, { role: 'close', clientId, targetKey: target.key, symbol, side: o.side, type: 'market', qty: p.qty, o });
    if (intent.status === 'filled') await this.afterFill(userId, intent, o);
    return { intent, created: true };
  }

  /**
   * Closes one position opened from the dashboard with a market order of its size the other way. The
   * venue nets it with whatever else it holds on the symbol (a signal's position, say), so only this
   * position's share goes; reduce-only unless that would cap it.
   */
  async closeWebappPosition(userId: number, targetKey: string, positionId: string): Promise<ManualOutcome> {
    const target = parseTargetKey(targetKey);
    const row = await this.db
      .selectFrom('positions')
      .selectAll()
      .where('id', '=', positionId)
      .where('user_id', '=', userId)
      .where('target_key', '=', target.key)
      .where('status', '=', 'open')
      .executeTakeFirst();
    if (!row) throw new HalyardError('not_found', `no open position ${positionId} on ${target.key}`);
    if (row.source !== 'webapp') throw new HalyardError('invalid_input', `position ${positionId} was not opened from the dashboard (source ${row.source}): close the venue's position of its symbol instead (no position_id)`);
    const symbol = venueSymbol(row.symbol, target.exchange);
    const side: OrderSide = row.side === 'long' ? 'sell' : 'buy';
    const leg = (row.position_side as Side | null) ?? null;
    const reduceOnly = leg === null && (await this.venueHolds(userId, target.key, symbol, row.side as Side, row.qty));
    const clientId = clientOrderId([userId, target.key, 'close', positionId, this.clock.now()]);
    const o: ManualOrder = { targetKey: target.key, symbol, side, type: 'market', qty: row.qty, ...(leg ? { positionSide: leg } : reduceOnly ? { reduceOnly: true } : {}) };
    const intent = await this.run(userId, { role: 'close', clientId, targetKey: target.key, symbol, side, type: 'market', qty: row.qty, o });
    if (intent.status === 'filled') await this.afterFill(userId, intent, o);
    return { intent, created: true };
  }

  /**
   * True when the venue's one-way position of `symbol` is on `side` with at least `qty`, so a reduce-only
   * order of that size the other way is taken; false when the venue nets it with a position the other way.
   */
  private async venueHolds(userId: number, targetKey: string, symbol: string, side: Side, qty: number): Promise<boolean> {
    const venue = await this.venues.get(userId, targetKey);
    const held = (await venue.fetchPositions([symbol])).find((p) => p.symbol === symbol && p.positionSide === null);
    return held !== undefined && held.side === side && held.qty >= qty;
  }

  /** When a fill closed the user's dashboard position, its resting stop-loss / take-profit orders go too (the venue may still hold the symbol for others). */
  private async dropBracketsOfClosed(userId: number, intent: IntentRow, touched: readonly string[]): Promise<void> {
    if (touched.length === 0) return;
    const closed = await this.db.selectFrom('positions').select('id').where('id', 'in', [...touched]).where('status', '=', 'closed').execute();
    if (closed.length === 0) return;
    let q = this.db
      .selectFrom('order_intents')
      .select('id')
      .where('user_id', '=', userId)
      .where('target_key', '=', intent.target_key)
      .where('symbol', '=', intent.symbol)
      .where('source', '=', 'webapp')
      .where('role', 'in', ['stop_loss', 'take_profit'])
      .where('action', '=', 'place')
      .where('status', 'in', ['open', 'pending']);
    q = intent.position_side === null ? q.where('position_side', 'is', null) : q.where('position_side', '=', intent.position_side);
    for (const b of await q.execute()) await this.cancel(userId, b.id).catch(() => undefined);
  }

  private base(userId: number, targetKey: string, groupKey: string) {
    return { user_id: userId, target_key: targetKey, recorder_id: null, signal_id: null, group_key: groupKey, source: 'webapp', opened_by: 'user' } as const;
  }

  private async run(
    userId: number,
    x: { role: string; clientId: string; targetKey: string; symbol: string; side: OrderSide; type: VenueOrderType; qty: number; o: ManualOrder },
  ): Promise<IntentRow> {
    const intent: NewIntent = {
      ...this.base(userId, x.targetKey, `${x.targetKey}|u${userId}|${x.role}|${x.clientId}`),
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
