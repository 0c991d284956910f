/** Direction of a position (or a hedge-mode leg). */
export type Side = 'long' | 'short';

/** Direction of an order or fill. */
export type OrderSide = 'buy' | 'sell';

/** One-way (netting: one position per symbol) or hedge (a long and a short leg per symbol). */
export type PositionMode = 'oneway' | 'hedge';

/** Where a position's changes came from. */
export type PositionSource = 'engine' | 'signal' | 'webapp' | 'exchange';

/** +1 for long, -1 for short. */
export function sideSign(side: Side): 1 | -1 {
  return side === 'long' ? 1 : -1;
}

/** The order side that opens or adds to a position of `side`. */
export function openingOrderSide(side: Side): OrderSide {
  return side === 'long' ? 'buy' : 'sell';
}

/** The position side an order of `side` opens in one-way mode. */
export function sideOfOrder(side: OrderSide): Side {
  return side === 'buy' ? 'long' : 'short';
}
