import type { Balances, Order, Position } from 'ccxt';
import type { OrderStatus } from '../../core/orders.ts';
import type { OrderSide, Side } from '../../core/types.ts';
import type { VenueBalance, VenueOrder, VenueOrderType, VenuePosition } from '../../core/venue.ts';
import type { CcxtProfile } from './profile.ts';

/** What the caller already knows of an order (the request it sent), used where the exchange's answer is partial. */
export interface OrderFallback {
  readonly id?: string;
  readonly clientId?: string | null;
  readonly symbol?: string;
  readonly side?: OrderSide;
  readonly type?: VenueOrderType;
  readonly qty?: number;
  readonly price?: number | null;
  readonly triggerPrice?: number | null;
  readonly positionSide?: Side | null;
  readonly reduceOnly?: boolean;
}

function num(x: unknown): number | undefined {
  return typeof x === 'number' && Number.isFinite(x) ? x : undefined;
}

/** A relative tolerance for "filled the whole amount" on float quantities. */
const FULL = 1 - 1e-9;

/**
 * Our status of a ccxt order. ccxt's `closed` also covers "partially filled, then canceled" (Bybit
 * PartiallyFilledCanceled), which is `canceled` with a fill here; `open` splits into accepted and
 * partially filled; no status (an order acknowledgement) is read from the fill.
 */
export function statusOf(o: Order, qty: number, filled: number): OrderStatus {
  switch (o.status) {
    case 'open':
      return filled > 0 ? 'partially_filled' : 'accepted';
    case 'closed':
      // a partial fill that then closed was canceled with its fill; no fill figure at all reads as done
      return filled > 0 && filled < qty * FULL ? 'canceled' : 'filled';
    case 'canceled':
    case 'canceling':
      return 'canceled';
    case 'expired':
      return 'expired';
    case 'rejected':
      return 'rejected';
    default:
      if (qty > 0 && filled >= qty * FULL) return 'filled';
      return filled > 0 ? 'partially_filled' : 'accepted';
  }
}

/**
 * A ccxt order as our VenueOrder: the trader's fields from ccxt's unified structure, the order type and
 * hedge leg from the exchange's own fields (through the profile), `raw` = ccxt's `info`.
 * `clientIdOf` maps the exchange's client id back to ours (Hyperliquid's cloid is a hash of ours).
 */
export function toVenueOrder(o: Order, profile: CcxtProfile, clientIdOf: (venueId: string) => string, now: number, fb: OrderFallback = {}): VenueOrder {
  const type = profile.orderType(o) ?? fb.type ?? 'market';
  const qty = num(o.amount) ?? fb.qty ?? 0;
  const filled = num(o.filled) ?? 0;
  const trigger = num(o.triggerPrice) ?? num(o.stopLossPrice) ?? num(o.takeProfitPrice) ?? fb.triggerPrice ?? null;
  const avg = num(o.average);
  const venueCid = o.clientOrderId ?? undefined;
  return Object.freeze({
    id: o.id ?? fb.id ?? '',
    clientId: venueCid ? clientIdOf(venueCid) : (fb.clientId ?? null),
    symbol: o.symbol ?? fb.symbol ?? '',
    side: o.side === 'buy' || o.side === 'sell' ? o.side : (fb.side ?? 'buy'),
    type,
    qty,
    price: type === 'limit' ? (num(o.price) ?? fb.price ?? null) : null,
    triggerPrice: type === 'stop' || type === 'take_profit' ? trigger : null,
    positionSide: profile.orderLeg(o) ?? fb.positionSide ?? null,
    reduceOnly: o.reduceOnly ?? fb.reduceOnly ?? false,
    status: statusOf(o, qty, filled),
    filledQty: filled,
    avgFillPrice: avg !== undefined && avg > 0 ? avg : null,
    fee: num(o.fee?.cost) ?? null,
    createdAt: num(o.timestamp) ?? now,
    raw: o.info as unknown,
  });
}

/** True when the exchange's answer lacks what a VenueOrder needs (an acknowledgement with ids only). */
export function isPartial(o: Order): boolean {
  return !o.symbol || (o.side !== 'buy' && o.side !== 'sell') || num(o.amount) === undefined || !o.status;
}

/** A ccxt position as our VenuePosition, or null when it is flat (exchanges list empty legs too). */
export function toVenuePosition(p: Position, profile: CcxtProfile): VenuePosition | null {
  const qty = Math.abs(num(p.contracts) ?? 0) * (num(p.contractSize) ?? 1);
  if (!(qty > 0) || (p.side !== 'long' && p.side !== 'short') || !p.symbol) return null;
  return Object.freeze({
    symbol: p.symbol,
    side: p.side,
    positionSide: profile.positionLeg(p),
    qty,
    entryPrice: num(p.entryPrice) ?? 0,
    markPrice: num(p.markPrice) ?? null,
    unrealizedPnl: num(p.unrealizedPnl) ?? null,
    liquidationPrice: num(p.liquidationPrice) ?? null,
    raw: p.info as unknown,
  });
}

/** ccxt balances as ours, for the settlement currencies the exchange reports; `raw` = the whole answer. */
export function toVenueBalances(b: Balances, currencies: readonly string[]): VenueBalance[] {
  const out: VenueBalance[] = [];
  for (const currency of currencies) {
    const entry = b[currency];
    if (!entry) continue;
    const total = num(entry.total);
    const free = num(entry.free);
    const used = num(entry.used);
    if (total === undefined && free === undefined) continue;
    const t = total ?? (free ?? 0) + (used ?? 0);
    const f = free ?? t - (used ?? 0);
    out.push(Object.freeze({ currency, total: t, free: f, used: used ?? t - f, raw: b.info as unknown }));
  }
  return out;
}
