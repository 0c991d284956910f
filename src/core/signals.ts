import { HalyardError } from './errors.ts';
import type { Side } from './types.ts';

/** How big an open is: a percentage of equity committed as margin, or a fixed quantity (base units). */
export type Size = { readonly percent: number } | { readonly qty: number };

/** One take-profit of a ladder: an absolute price (quote) and the fraction of the entry quantity it closes (0–1]. */
export interface TakeProfitTarget {
  readonly price: number;
  readonly fraction: number;
}

/**
 * A trailing stop: it follows the best price since activation at `distance` (quote) or `percent` (% of
 * that price) behind it, and only ever moves in the trader's favour. Without `activation` (an absolute
 * price) it is active from the entry.
 */
export interface TrailingStopOptions {
  readonly distance?: number;
  readonly percent?: number;
  readonly activation?: number;
}

/** A trailing stop as carried by a signal: exactly one of `distance` (quote) / `percent` (%) is set. */
export interface TrailingStop {
  readonly distance: number | null;
  readonly percent: number | null;
  /** Absolute price the best price must reach before the stop trails (null: at once). */
  readonly activation: number | null;
}

/** A resting entry: a limit (at `price` or better) or a stop (triggered at `price`) with an optional expiry. */
export interface EntryOrder {
  readonly type: 'limit' | 'stop';
  /** Limit or trigger price (quote). */
  readonly price: number;
  /** Time the order rests before it expires (ms), or null. */
  readonly expiresInMs: number | null;
  /** Base candles the order rests before it expires, or null. */
  readonly expiresAfter: number | null;
  /** A name the strategy chooses, usable with `cancel(label)`. */
  readonly label: string | null;
}

/** Options of an open signal. Stop-loss and take-profit are absolute prices. */
export interface OpenOptions {
  /** Percentage of equity used as margin (notional = margin × leverage). */
  readonly percent?: number;
  /** Fixed quantity (base units); wins over `percent`. */
  readonly qty?: number;
  readonly stopLoss?: number;
  /** One price, or a ladder of targets whose fractions of the entry quantity sum to at most 1. */
  readonly takeProfit?: number | readonly TakeProfitTarget[];
  /** Trailing stop (beside or instead of `stopLoss`: the stop in force is the tighter of the two). */
  readonly trailingStop?: TrailingStopOptions;
  /** Rest as a limit order at this price (buy below / sell above the market) instead of a market order. */
  readonly limit?: number;
  /** Rest as a stop order triggered at this price (buy above / sell below the market). */
  readonly stop?: number;
  /** Cancel the resting order after this long: ms, or text like `'90m'`, `'4h'`, `'2d'`. */
  readonly expiresIn?: number | string;
  /** Cancel the resting order after this many base candles without a fill. */
  readonly expiresAfter?: number;
  /** A name for the resting order (`cancel(label)` finds it). */
  readonly label?: string;
  /** Hedge mode: the leg to open (defaults to the signal's side). */
  readonly positionSide?: Side;
  /** Symbol, when not the run's main symbol. */
  readonly symbol?: string;
}

/** Options of a reduce signal: a fraction (0–1] of the open quantity, or a quantity (base units). */
export interface ReduceOptions {
  /** The position's side (one-way: checked against the open position; hedge: the leg). */
  readonly side?: Side;
  readonly fraction?: number;
  readonly qty?: number;
}

/** A strategy's instruction. Frozen, tagged with `kind`; open signals carry the optional parts only when used. */
export type Signal =
  | {
      readonly kind: 'open';
      readonly side: Side;
      readonly size: Size;
      readonly stopLoss: number | null;
      readonly takeProfit: number | null;
      readonly positionSide: Side | null;
      readonly symbol: string | null;
      /** Take-profit ladder, nearest first (then `takeProfit` is null). */
      readonly targets?: readonly TakeProfitTarget[];
      readonly trailing?: TrailingStop;
      /** Present for a resting entry. */
      readonly entry?: EntryOrder;
    }
  | { readonly kind: 'close'; readonly positionId: string | null; readonly positionSide: Side | null; readonly symbol: string | null }
  | { readonly kind: 'reduce'; readonly side: Side | null; readonly fraction: number | null; readonly qty: number | null }
  | { readonly kind: 'cancel'; readonly orderId: string | null };

const DURATION_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** A duration in ms from a number of ms or text like `'90s'`, `'15m'`, `'4h'`, `'2d'`, `'1w'`. */
export function parseDuration(v: number | string, what: string): number {
  const ms = typeof v === 'number' ? v : (() => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$/.exec(v);
    return m ? Number(m[1]) * (DURATION_MS[m[2] as string] as number) : Number.NaN;
  })();
  if (!(ms > 0) || !Number.isFinite(ms)) throw new HalyardError('invalid_input', `${what} must be a positive duration in ms or like '15m', '4h', '2d', got ${JSON.stringify(v)}`);
  return ms;
}

function positive(v: number | undefined, what: string): number | null {
  if (v === undefined) return null;
  if (!(v > 0) || !Number.isFinite(v)) throw new HalyardError('invalid_input', `${what} must be a positive number, got ${v}`);
  return v;
}

/** A ladder checked (prices > 0, fractions in (0, 1] summing to at most 1) and sorted nearest the entry first. */
function ladder(side: Side, targets: readonly TakeProfitTarget[]): readonly TakeProfitTarget[] {
  if (targets.length === 0) throw new HalyardError('invalid_input', 'takeProfit: give a price or at least one { price, fraction } target');
  let sum = 0;
  for (const t of targets) {
    positive(t.price, 'takeProfit price');
    if (!(t.fraction > 0 && t.fraction <= 1)) throw new HalyardError('invalid_input', `takeProfit fraction must be in (0, 1], got ${t.fraction}`);
    sum += t.fraction;
  }
  if (sum > 1 + 1e-9) throw new HalyardError('invalid_input', `takeProfit fractions sum to ${Number(sum.toFixed(9))}; they must sum to at most 1`);
  const sorted = targets.map((t) => Object.freeze({ price: t.price, fraction: t.fraction }));
  sorted.sort((a, b) => (side === 'long' ? a.price - b.price : b.price - a.price));
  return Object.freeze(sorted);
}

function trailing(o: TrailingStopOptions): TrailingStop {
  const distance = positive(o.distance, 'trailingStop.distance');
  const percent = positive(o.percent, 'trailingStop.percent');
  if ((distance === null) === (percent === null)) throw new HalyardError('invalid_input', 'trailingStop needs exactly one of distance (quote) or percent');
  if (percent !== null && percent >= 100) throw new HalyardError('invalid_input', `trailingStop.percent must be below 100, got ${percent}`);
  return Object.freeze({ distance, percent, activation: positive(o.activation, 'trailingStop.activation') });
}

function entryOrder(o: OpenOptions): EntryOrder | undefined {
  if (o.limit === undefined && o.stop === undefined) {
    if (o.expiresIn !== undefined || o.expiresAfter !== undefined) throw new HalyardError('invalid_input', 'expiresIn / expiresAfter apply to resting entries: give limit or stop too');
    return undefined;
  }
  if (o.limit !== undefined && o.stop !== undefined) throw new HalyardError('invalid_input', 'an entry is either a limit or a stop order: give one of limit / stop');
  const type = o.limit !== undefined ? 'limit' : 'stop';
  const price = positive(o.limit ?? o.stop, type) as number;
  const after = o.expiresAfter;
  if (after !== undefined && !(Number.isInteger(after) && after >= 1)) throw new HalyardError('invalid_input', `expiresAfter must be a whole number of candles >= 1, got ${after}`);
  return Object.freeze({
    type,
    price,
    expiresInMs: o.expiresIn === undefined ? null : parseDuration(o.expiresIn, 'expiresIn'),
    expiresAfter: after ?? null,
    label: o.label ?? null,
  });
}

function open(side: Side, o: OpenOptions): Signal {
  const size: Size = o.qty !== undefined ? { qty: o.qty } : { percent: o.percent ?? 100 };
  const tp = o.takeProfit;
  const targets = tp !== undefined && typeof tp !== 'number' ? ladder(side, tp) : undefined;
  const entry = entryOrder(o);
  return Object.freeze({
    kind: 'open',
    side,
    size,
    stopLoss: o.stopLoss ?? null,
    takeProfit: typeof tp === 'number' ? tp : null,
    positionSide: o.positionSide ?? null,
    symbol: o.symbol ?? null,
    ...(targets ? { targets } : {}),
    ...(o.trailingStop ? { trailing: trailing(o.trailingStop) } : {}),
    ...(entry ? { entry } : {}),
  });
}

/** Open (or add to) a long position: at market, or resting with `limit` / `stop`. */
export function openLong(o: OpenOptions = {}): Signal {
  return open('long', o);
}

/** Open (or add to) a short position: at market, or resting with `limit` / `stop`. */
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

/**
 * Reduce the open position (hedge: the leg `side`) at market by a `fraction` of its open quantity or by
 * `qty` base units; rounded down to the lot, and a reduce of everything closes it.
 */
export function reduce(o: ReduceOptions): Signal {
  const fraction = o.fraction ?? null;
  const qty = o.qty ?? null;
  if ((fraction === null) === (qty === null)) throw new HalyardError('invalid_input', 'reduce needs exactly one of fraction (0–1] or qty (base units)');
  if (fraction !== null && !(fraction > 0 && fraction <= 1)) throw new HalyardError('invalid_input', `reduce fraction must be in (0, 1], got ${fraction}`);
  if (qty !== null) positive(qty, 'reduce qty');
  return Object.freeze({ kind: 'reduce', side: o.side ?? null, fraction, qty });
}

/** Cancel a resting entry by its id or label (see `ctx.orders()`), or every resting entry when none is given. */
export function cancel(orderId?: string): Signal {
  return Object.freeze({ kind: 'cancel', orderId: orderId ?? null });
}
