import { nextOrderStatus, type OrderEvent, type OrderStatus } from '../../core/orders.ts';
import type { OrderSide } from '../../core/types.ts';
import type { VenueOrder, VenueOrderType } from '../../core/venue.ts';

/** The fields of a venue order that change while it lives. */
type Changing = 'status' | 'filledQty' | 'avgFillPrice' | 'fee';

/**
 * An order held by the simulated exchange: the venue order's fields (mutable where the order moves),
 * plus when it last moved and why it was canceled. `toVenueOrder` is a frozen copy of it.
 */
export interface SimOrder extends Omit<VenueOrder, Changing | 'clientId' | 'raw'> {
  readonly clientId: string;
  status: OrderStatus;
  /** Filled quantity (base units). */
  filledQty: number;
  /** Average fill price (quote), null before a fill. */
  avgFillPrice: number | null;
  /** Fee paid (quote). */
  fee: number;
  /** Epoch ms. */
  updatedAt: number;
  /** Why it was canceled or expired. */
  reason: string | null;
}

/** Moves a sim order through the core transition table. */
export function move(o: SimOrder, event: OrderEvent, ts: number, reason?: string): void {
  o.status = nextOrderStatus(o.status, event);
  o.updatedAt = ts;
  if (reason !== undefined) o.reason = reason;
}

/** True while the order rests in the book. */
export function isResting(o: SimOrder): boolean {
  return o.status === 'accepted' || o.status === 'partially_filled';
}

/** A frozen, normalised copy for callers (the raw payload is the sim's own record). */
export function toVenueOrder(o: SimOrder): VenueOrder {
  const { updatedAt: _updatedAt, reason: _reason, ...fields } = o;
  // Assigned, not `{ ...fields, raw }`: V8 (Node 20) builds a spread with properties after it several times slower.
  return Object.freeze(Object.assign(fields, { raw: Object.freeze({ ...o }) }));
}

/**
 * Whether a resting order executes at `price`, and at what price: a limit at its own price when the market
 * reaches it; a stop when the market moves through the trigger against the position (sell at or below,
 * buy at or above); a take-profit when it moves through in favour (sell at or above, buy at or below).
 * Triggered orders fill at the market (`price`).
 */
export function executionPrice(o: SimOrder, price: number): number | null {
  const buy = o.side === 'buy';
  if (o.type === 'limit' && o.price !== null) {
    if (buy ? price <= o.price : price >= o.price) return o.price;
    return null;
  }
  if (o.triggerPrice === null) return null;
  if (o.type === 'stop') return (buy ? price >= o.triggerPrice : price <= o.triggerPrice) ? price : null;
  if (o.type === 'take_profit') return (buy ? price <= o.triggerPrice : price >= o.triggerPrice) ? price : null;
  return null;
}

/** Why a trigger order would fire at once at `mark` (refused like the exchanges do), or null. */
export function immediateTrigger(type: VenueOrderType, side: OrderSide, trigger: number, mark: number): string | null {
  const buy = side === 'buy';
  if (type === 'stop' && (buy ? trigger <= mark : trigger >= mark)) return `a ${side} stop at ${trigger} would trigger immediately (market ${mark})`;
  if (type === 'take_profit' && (buy ? trigger >= mark : trigger <= mark)) return `a ${side} take-profit at ${trigger} would trigger immediately (market ${mark})`;
  return null;
}
