import { IdSequence } from '../core/ids.ts';
import { nextOrderStatus, type OrderEvent, type OrderStatus } from '../core/orders.ts';
import { roundPrice } from '../core/round.ts';
import type { Signal } from '../core/signals.ts';
import type { Side } from '../core/types.ts';
import type { RestingOrderView } from '../strategy/context.ts';
import type { OrderRecord } from './result.ts';

/** An open signal that carries a resting entry. */
export type EntrySignal = Extract<Signal, { kind: 'open' }> & { readonly entry: NonNullable<Extract<Signal, { kind: 'open' }>['entry']> };

/** A resting entry in the engine's book: what the strategy sees plus its status and the signal it came from. */
export interface RestingOrder extends RestingOrderView {
  candlesLeft: number | null;
  status: OrderStatus;
  /** The last price it rested at without filling (its placement price, then each close): the side the market comes from. */
  lastPrice: number;
  readonly signal: EntrySignal;
}

/** The JSON form of the book (a paper run stores it with its state). */
export interface RestingJson {
  readonly issued: number;
  readonly open: readonly RestingOrder[];
}

/**
 * The resting entries of a run: limit and stop orders placed by signals, waiting for a later candle to
 * reach them, in the order they were placed. Statuses move through the core order table (accepted, then
 * filled, canceled, expired or rejected); the orders that ended are kept as records for the results.
 */
export class RestingOrders {
  /** Open orders in placement order (the loop only reads its length). */
  readonly open: RestingOrder[] = [];
  readonly done: OrderRecord[] = [];
  private readonly ids = new IdSequence('ord');

  constructor(private readonly tick: number) {}

  /**
   * Places the entry of `sig` at market price `price` at `ts` (epoch ms). Returns why it is refused (a
   * limit or stop on the side of the market that would fill at once), or the order.
   */
  place(sig: EntrySignal, price: number, ts: number): RestingOrder | string {
    const e = sig.entry;
    const level = roundPrice(e.price, this.tick);
    const buy = sig.side === 'long';
    const limit = e.type === 'limit';
    // A buy limit rests below the market, a buy stop above it (sells mirrored); the other way it fills at once.
    const fillsNow = limit === buy ? level >= price : level <= price;
    if (fillsNow) {
      const where = limit === buy ? 'at or above' : 'at or below';
      return `a ${e.type} ${buy ? 'buy' : 'sell'} at ${level} is ${where} the market ${price} and would fill at once; use a market open${limit ? ' or a stop' : ' or a limit'}`;
    }
    const o: RestingOrder = {
      id: this.ids.next(),
      label: e.label,
      side: sig.side,
      type: e.type,
      price: level,
      size: sig.size,
      positionSide: sig.positionSide,
      placedAt: ts,
      expiresAt: e.expiresInMs === null ? null : ts + e.expiresInMs,
      candlesLeft: e.expiresAfter,
      status: nextOrderStatus('new', 'accept'),
      lastPrice: price,
      signal: sig,
    };
    this.open.push(o);
    return o;
  }

  /** Cancels the order with id or label `key` (every open order when null); returns how many it canceled. */
  cancel(key: string | null, ts: number, reason = 'canceled by the strategy'): number {
    let n = 0;
    for (let k = this.open.length - 1; k >= 0; k--) {
      const o = this.open[k] as RestingOrder;
      if (key === null || o.id === key || o.label === key) {
        this.end(k, 'cancel', ts, null, reason);
        n++;
      }
    }
    return n;
  }

  /**
   * Ends open order `k` at `ts` and records it: filled at `fillPrice`, canceled (by the strategy, or
   * refused by the executor when the market reached it: margin, levels; `reason` says which) or expired.
   */
  end(k: number, event: OrderEvent, ts: number, fillPrice: number | null, reason: string | null): void {
    const o = this.open[k] as RestingOrder;
    o.status = nextOrderStatus(o.status, event);
    this.open.splice(k, 1);
    this.done.push(record(o, ts, fillPrice, reason));
  }

  /** The book as JSON. */
  toJson(): RestingJson {
    return { issued: this.ids.issued, open: this.open };
  }

  /** Puts a stored book back (a resumed paper run). */
  restore(j: RestingJson): void {
    this.ids.resume(j.issued);
    this.open.length = 0;
    for (const o of j.open) this.open.push({ ...o });
  }
}

function record(o: RestingOrder, ts: number, fillPrice: number | null, reason: string | null): OrderRecord {
  const status = o.status === 'filled' || o.status === 'expired' ? o.status : 'canceled';
  return { id: o.id, label: o.label, side: o.side, type: o.type, price: o.price, positionSide: o.positionSide, placedAt: o.placedAt, status, closedAt: ts, fillPrice, reason };
}

/** Whether resting order `o` fills as the price falls to its level (a long limit, a short stop). */
export function fillsBelow(o: { readonly side: Side; readonly type: 'limit' | 'stop' }): boolean {
  return (o.side === 'long') === (o.type === 'limit');
}
