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

/** A strategy's instruction. Frozen, tagged with `kind`; every open signal has every field (one shape: fast to read). */
export type Signal =
  | {
      readonly kind: 'open';
      readonly side: Side;
      readonly size: Size;
      readonly stopLoss: number | null;
      readonly takeProfit: number | null;
      readonly positionSide: Side | null;
      readonly symbol: string | null;
      /** Take-profit ladder, nearest first (then `takeProfit` is null), or null. */
      readonly targets: readonly TakeProfitTarget[] | null;
      readonly trailing: TrailingStop | null;
      /** A resting entry's order, or null for a market open. */
      readonly entry: EntryOrder | null;
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

/** The option names of `openLong` / `openShort`. */
const OPEN_OPTIONS = ['percent', 'qty', 'stopLoss', 'takeProfit', 'trailingStop', 'limit', 'stop', 'expiresIn', 'expiresAfter', 'label', 'positionSide', 'symbol'] as const;

function entryOrder(limit: number | undefined, stop: number | undefined, expiresIn: number | string | undefined, expiresAfter: number | undefined, label: string | undefined): EntryOrder | null {
  if (limit === undefined && stop === undefined) {
    if (expiresIn !== undefined || expiresAfter !== undefined) throw new HalyardError('invalid_input', 'expiresIn / expiresAfter apply to resting entries: give limit or stop too');
    return null;
  }
  if (limit !== undefined && stop !== undefined) throw new HalyardError('invalid_input', 'an entry is either a limit or a stop order: give one of limit / stop');
  const type = limit !== undefined ? 'limit' : 'stop';
  const price = positive(limit ?? stop, type) as number;
  if (expiresAfter !== undefined && !(Number.isInteger(expiresAfter) && expiresAfter >= 1)) throw new HalyardError('invalid_input', `expiresAfter must be a whole number of candles >= 1, got ${expiresAfter}`);
  return Object.freeze({
    type,
    price,
    expiresInMs: expiresIn === undefined ? null : parseDuration(expiresIn, 'expiresIn'),
    expiresAfter: expiresAfter ?? null,
    label: label ?? null,
  });
}

/**
 * An open signal from the options a strategy gave, read by their own keys (an unknown option is refused,
 * naming it). Options objects are often built with spread syntax (`{ ...size, stopLoss }`), which gives
 * each one a new hidden class: reading every known option then missed V8's inline cache once per option
 * the object does not hold, while reading only the keys it holds costs less than the five reads before
 * these options existed (callgrind on the year backtest: 3 % fewer instructions than that commit).
 */
function open(side: Side, o: OpenOptions): Signal {
  let percent: number | undefined;
  let qty: number | undefined;
  let stopLoss: number | undefined;
  let takeProfit: OpenOptions['takeProfit'];
  let trailingStop: TrailingStopOptions | undefined;
  let limit: number | undefined;
  let stop: number | undefined;
  let expiresIn: number | string | undefined;
  let expiresAfter: number | undefined;
  let label: string | undefined;
  let positionSide: Side | undefined;
  let symbol: string | undefined;
  for (const k of Object.keys(o)) {
    switch (k) {
      case 'percent': percent = o.percent; break;
      case 'qty': qty = o.qty; break;
      case 'stopLoss': stopLoss = o.stopLoss; break;
      case 'takeProfit': takeProfit = o.takeProfit; break;
      case 'trailingStop': trailingStop = o.trailingStop; break;
      case 'limit': limit = o.limit; break;
      case 'stop': stop = o.stop; break;
      case 'expiresIn': expiresIn = o.expiresIn; break;
      case 'expiresAfter': expiresAfter = o.expiresAfter; break;
      case 'label': label = o.label; break;
      case 'positionSide': positionSide = o.positionSide; break;
      case 'symbol': symbol = o.symbol; break;
      default: throw new HalyardError('invalid_input', `${side === 'long' ? 'openLong' : 'openShort'}: unknown option "${k}"; the options are ${OPEN_OPTIONS.join(', ')}`);
    }
  }
  const size: Size = qty !== undefined ? { qty } : { percent: percent ?? 100 };
  return Object.freeze({
    kind: 'open',
    side,
    size,
    stopLoss: stopLoss ?? null,
    takeProfit: typeof takeProfit === 'number' ? takeProfit : null,
    positionSide: positionSide ?? null,
    symbol: symbol ?? null,
    targets: takeProfit !== undefined && typeof takeProfit !== 'number' ? ladder(side, takeProfit) : null,
    trailing: trailingStop ? trailing(trailingStop) : null,
    entry: entryOrder(limit, stop, expiresIn, expiresAfter, label),
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
