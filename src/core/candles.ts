import { HalyardError } from './errors.ts';
import { bucketStart, TIMEFRAME_MS, type Timeframe } from './timeframe.ts';

/** Names of the candle columns, in storage order. */
export const CANDLE_FIELDS = ['ts', 'open', 'high', 'low', 'close', 'volume', 'openInterest', 'cvd'] as const;

/** One candle column name. */
export type CandleField = (typeof CANDLE_FIELDS)[number];

/**
 * Candles as columns. `ts` is the open time in epoch ms (UTC); prices in quote currency; volume in base
 * units; `openInterest` in base units (NaN when unknown); `cvd` cumulative volume delta in base units.
 */
export interface CandleColumns {
  readonly length: number;
  readonly ts: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
  readonly openInterest: Float64Array;
  readonly cvd: Float64Array;
}

/** Allocates `n` candles of zeroed columns (open interest NaN). */
export function allocCandles(n: number): CandleColumns {
  const oi = new Float64Array(n);
  oi.fill(Number.NaN);
  return {
    length: n,
    ts: new Float64Array(n),
    open: new Float64Array(n),
    high: new Float64Array(n),
    low: new Float64Array(n),
    close: new Float64Array(n),
    volume: new Float64Array(n),
    openInterest: oi,
    cvd: new Float64Array(n),
  };
}

/** A zero-copy view of rows [start, end) of `c`. */
export function sliceCandles(c: CandleColumns, start: number, end: number): CandleColumns {
  const s = Math.max(0, start);
  const e = Math.min(c.length, Math.max(s, end));
  return {
    length: e - s,
    ts: c.ts.subarray(s, e),
    open: c.open.subarray(s, e),
    high: c.high.subarray(s, e),
    low: c.low.subarray(s, e),
    close: c.close.subarray(s, e),
    volume: c.volume.subarray(s, e),
    openInterest: c.openInterest.subarray(s, e),
    cvd: c.cvd.subarray(s, e),
  };
}

/** Index of the first candle with `ts >= t` (binary search; `c.length` when none). */
export function lowerBound(ts: Float64Array, t: number): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((ts[mid] as number) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Candles with open time in [from, to) as a zero-copy view. */
export function rangeCandles(c: CandleColumns, from: number, to: number): CandleColumns {
  return sliceCandles(c, lowerBound(c.ts, from), lowerBound(c.ts, to));
}

/** A run of missing candles: `from` is the first missing open time, `count` how many are missing. */
export interface Gap {
  readonly from: number;
  readonly to: number;
  readonly count: number;
}

/** Missing candles in `c` for a series of timeframe `tf` (reported, never filled). */
export function findGaps(c: CandleColumns, tf: Timeframe): Gap[] {
  const step = TIMEFRAME_MS[tf];
  const gaps: Gap[] = [];
  for (let i = 1; i < c.length; i++) {
    const prev = c.ts[i - 1] as number;
    const cur = c.ts[i] as number;
    if (cur - prev > step) gaps.push({ from: prev + step, to: cur, count: Math.round((cur - prev) / step) - 1 });
  }
  return gaps;
}

/** Throws when timestamps are not strictly increasing or OHLC is inconsistent. */
export function validateCandles(c: CandleColumns, label: string): void {
  for (let i = 0; i < c.length; i++) {
    if (i > 0 && (c.ts[i] as number) <= (c.ts[i - 1] as number)) {
      throw new HalyardError('data_corrupt', `${label}: timestamps not strictly increasing at row ${i}`, { row: i, ts: c.ts[i] });
    }
    const o = c.open[i] as number;
    const h = c.high[i] as number;
    const l = c.low[i] as number;
    const cl = c.close[i] as number;
    if (!(l <= Math.min(o, cl) && h >= Math.max(o, cl) && l > 0)) {
      throw new HalyardError('data_corrupt', `${label}: inconsistent OHLC at row ${i} (o=${o} h=${h} l=${l} c=${cl})`, { row: i, ts: c.ts[i] });
    }
  }
}

/**
 * Aggregates finer candles into `tf` buckets aligned to UTC midnight. Every bucket that has at least one
 * source candle is emitted (so the last one may be incomplete); `sourceEnd[k]` is the index just past
 * bucket k's last source candle.
 */
export function aggregateCandles(c: CandleColumns, tf: Timeframe): CandleColumns & { readonly sourceEnd: Int32Array } {
  const n = c.length;
  const ms = TIMEFRAME_MS[tf];
  // First pass: count buckets (a new bucket starts at the first candle at or past the current one's end).
  let buckets = 0;
  let end = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const t = c.ts[i] as number;
    if (t >= end) {
      buckets++;
      end = bucketStart(t, tf) + ms;
    }
  }
  const out = allocCandles(buckets);
  const sourceEnd = new Int32Array(buckets);
  let k = -1;
  end = Number.NEGATIVE_INFINITY;
  let hi = 0;
  let lo = 0;
  let vol = 0;
  for (let i = 0; i < n; i++) {
    const t = c.ts[i] as number;
    const h = c.high[i] as number;
    const l = c.low[i] as number;
    if (t >= end) {
      if (k >= 0) {
        out.high[k] = hi;
        out.low[k] = lo;
        out.volume[k] = vol;
      }
      k++;
      const b = bucketStart(t, tf);
      end = b + ms;
      out.ts[k] = b;
      out.open[k] = c.open[i] as number;
      hi = h;
      lo = l;
      vol = 0;
    } else {
      if (h > hi) hi = h;
      if (l < lo) lo = l;
    }
    vol += c.volume[i] as number;
    out.close[k] = c.close[i] as number;
    out.openInterest[k] = c.openInterest[i] as number;
    out.cvd[k] = c.cvd[i] as number;
    sourceEnd[k] = i + 1;
  }
  if (k >= 0) {
    out.high[k] = hi;
    out.low[k] = lo;
    out.volume[k] = vol;
  }
  return { ...out, sourceEnd };
}

/**
 * Cumulative volume delta from per-candle signed volume. With `takerBuy` (taker-buy base volume) the delta
 * is exact: `2 * takerBuy - volume`; without it the approximation `volume * sign(close - open)`.
 */
export function computeCvd(c: CandleColumns, takerBuy?: Float64Array, start = 0): void {
  let acc = start;
  for (let i = 0; i < c.length; i++) {
    const v = c.volume[i] as number;
    const d = takerBuy ? 2 * (takerBuy[i] as number) - v : v * Math.sign((c.close[i] as number) - (c.open[i] as number));
    acc += d;
    c.cvd[i] = acc;
  }
}
