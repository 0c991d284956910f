import { HalyardError } from './errors.ts';
import type { OrderSide, Side } from './types.ts';

/** Order type. */
export type OrderType = 'market' | 'limit' | 'stop';

/** Order status; moves only through ORDER_TRANSITIONS. */
export type OrderStatus = 'new' | 'submitted' | 'accepted' | 'partially_filled' | 'filled' | 'canceled' | 'rejected' | 'expired';

/** Events that move an order. */
export type OrderEvent = 'submit' | 'accept' | 'reject' | 'partial_fill' | 'fill' | 'cancel' | 'expire';

/** An order. Quantities in base units, prices in quote; `positionSide` only in hedge mode. */
export interface Order {
  readonly id: string;
  readonly clientId: string;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly type: OrderType;
  readonly qty: number;
  /** Limit price (limit) or trigger price (stop); null for market. */
  readonly price: number | null;
  readonly positionSide: Side | null;
  readonly reduceOnly: boolean;
  status: OrderStatus;
  filledQty: number;
  /** Volume-weighted average fill price (NaN before the first fill). */
  avgFillPrice: number;
  readonly createdAt: number;
  updatedAt: number;
  /** Why the order was rejected or canceled, when it was. */
  reason: string | null;
}

/** The transition table: (status, event) → next status. Anything not listed is refused. */
export const ORDER_TRANSITIONS: Readonly<Record<OrderStatus, Partial<Record<OrderEvent, OrderStatus>>>> = Object.freeze({
  new: { submit: 'submitted', reject: 'rejected', accept: 'accepted', cancel: 'canceled' },
  submitted: { accept: 'accepted', reject: 'rejected', fill: 'filled', partial_fill: 'partially_filled', cancel: 'canceled' },
  accepted: { partial_fill: 'partially_filled', fill: 'filled', cancel: 'canceled', expire: 'expired' },
  partially_filled: { partial_fill: 'partially_filled', fill: 'filled', cancel: 'canceled', expire: 'expired' },
  filled: {},
  canceled: {},
  rejected: {},
  expired: {},
});

/** The status after `event`, or a HalyardError('conflict') when the table does not allow it. */
export function nextOrderStatus(status: OrderStatus, event: OrderEvent): OrderStatus {
  const next = ORDER_TRANSITIONS[status][event];
  if (!next) throw new HalyardError('conflict', `order cannot ${event} while ${status}`, { status, event });
  return next;
}

/** True when no further event can move the order. */
export function isTerminal(status: OrderStatus): boolean {
  return Object.keys(ORDER_TRANSITIONS[status]).length === 0;
}

/** Applies a transition in place (updating `updatedAt` and the reason). */
export function transition(order: Order, event: OrderEvent, ts: number, reason?: string): Order {
  order.status = nextOrderStatus(order.status, event);
  order.updatedAt = ts;
  if (reason !== undefined) order.reason = reason;
  return order;
}
