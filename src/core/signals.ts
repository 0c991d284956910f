import type { Side } from './types.ts';

/** How big an open is: a percentage of equity committed as margin, or a fixed quantity (base units). */
export type Size = { readonly percent: number } | { readonly qty: number };

/** Options of an open signal. Stop-loss and take-profit are absolute prices. */
export interface OpenOptions {
  /** Percentage of equity used as margin (notional = margin × leverage). */
  readonly percent?: number;
  /** Fixed quantity (base units); wins over `percent`. */
  readonly qty?: number;
  readonly stopLoss?: number;
  readonly takeProfit?: number;
  /** Hedge mode: the leg to open (defaults to the signal's side). */
  readonly positionSide?: Side;
  /** Symbol, when not the run's main symbol. */
  readonly symbol?: string;
}

/** A strategy's instruction. Frozen, tagged with `kind`. */
export type Signal =
  | { readonly kind: 'open'; readonly side: Side; readonly size: Size; readonly stopLoss: number | null; readonly takeProfit: number | null; readonly positionSide: Side | null; readonly symbol: string | null }
  | { readonly kind: 'close'; readonly positionId: string | null; readonly positionSide: Side | null; readonly symbol: string | null };

function open(side: Side, o: OpenOptions): Signal {
  const size: Size = o.qty !== undefined ? { qty: o.qty } : { percent: o.percent ?? 100 };
  return Object.freeze({
    kind: 'open',
    side,
    size,
    stopLoss: o.stopLoss ?? null,
    takeProfit: o.takeProfit ?? null,
    positionSide: o.positionSide ?? null,
    symbol: o.symbol ?? null,
  });
}

/** Open (or add to) a long position. */
export function openLong(o: OpenOptions = {}): Signal {
  return open('long', o);
}

/** Open (or add to) a short position. */
export function openShort(o: OpenOptions = {}): Signal {
  return open('short', o);
}

/**
 * Close a position by id, or every open position (of one hedge leg with `{ positionSide }`) when no id
 * is given.
 */
export function close(positionId?: string | { readonly positionSide: Side }): Signal {
  if (typeof positionId === 'object') return Object.freeze({ kind: 'close', positionId: null, positionSide: positionId.positionSide, symbol: null });
  return Object.freeze({ kind: 'close', positionId: positionId ?? null, positionSide: null, symbol: null });
}
