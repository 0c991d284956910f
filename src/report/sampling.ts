import { aggregateCandles, type CandleColumns } from '../core/candles.ts';
import type { SeriesPoint } from '../core/results.ts';
import { bucketStart, TIMEFRAME_MS, TIMEFRAMES, type Timeframe } from '../core/timeframe.ts';

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Runs shorter than this (ms) get an hourly equity curve in results.json; longer ones a daily one. */
export const HOURLY_CURVE_MAX_SPAN = 30 * DAY;

/** Default cap on the number of bars (and equity points) drawn in the HTML report. */
export const MAX_CHART_BARS = 3000;

/**
 * Equity at the last bar of each UTC hour (run span < 30 days) or of each UTC day (otherwise). `t` is that
 * bar's open time (epoch ms); its equity is at the bar's close. The last bar is always included.
 */
export function sampleEquityCurve(ts: Float64Array, equity: Float64Array, barMs: number): SeriesPoint[] {
  const n = Math.min(ts.length, equity.length);
  if (n === 0) return [];
  const span = (ts[n - 1] as number) + barMs - (ts[0] as number);
  const bucket = span < HOURLY_CURVE_MAX_SPAN ? HOUR : DAY;
  const out: SeriesPoint[] = [];
  for (let i = 0; i < n; i++) {
    const t = ts[i] as number;
    const isLast = i === n - 1 || Math.floor((ts[i + 1] as number) / bucket) !== Math.floor(t / bucket);
    if (isLast) out.push({ t, v: equity[i] as number });
  }
  return out;
}

/** Number of distinct `tf` buckets the (sorted) open times fall into; stops counting once past `limit`. */
export function countBuckets(ts: Float64Array, tf: Timeframe, limit = Number.POSITIVE_INFINITY): number {
  let count = 0;
  let last = Number.NaN;
  for (let i = 0; i < ts.length && count <= limit; i++) {
    const b = bucketStart(ts[i] as number, tf);
    if (b !== last) {
      count++;
      last = b;
    }
  }
  return count;
}

/**
 * The finest timeframe, no finer than `base`, whose bucket count over `ts` is at most `maxBars`
 * (the coarsest timeframe, 1d, when none is small enough).
 */
export function pickDisplayTimeframe(ts: Float64Array, base: Timeframe, maxBars = MAX_CHART_BARS): Timeframe {
  const baseMs = TIMEFRAME_MS[base];
  const n = ts.length;
  if (n <= maxBars) return base;
  // Without gaps the bucket count is exact from the span; with gaps it has to be counted (stopping early).
  const contiguous = (ts[n - 1] as number) - (ts[0] as number) === (n - 1) * baseMs;
  const candidates = TIMEFRAMES.filter((tf) => TIMEFRAME_MS[tf] > baseMs && TIMEFRAME_MS[tf] % baseMs === 0);
  for (const tf of candidates) {
    const spanBuckets = (bucketStart(ts[n - 1] as number, tf) - bucketStart(ts[0] as number, tf)) / TIMEFRAME_MS[tf] + 1;
    if (spanBuckets <= maxBars || (!contiguous && countBuckets(ts, tf, maxBars) <= maxBars)) return tf;
  }
  return '1d';
}

/** Candles to draw: `candles` aggregated to the timeframe `pickDisplayTimeframe` chooses. */
export interface DisplayCandles {
  readonly timeframe: Timeframe;
  readonly candles: CandleColumns;
  /** For each display bar, the index one past its last source candle. */
  readonly sourceEnd: Int32Array;
}

/** Aggregates `candles` (of timeframe `base`) so that at most `maxBars` bars remain (pure). */
export function downsampleCandles(candles: CandleColumns, base: Timeframe, maxBars = MAX_CHART_BARS): DisplayCandles {
  const timeframe = pickDisplayTimeframe(candles.ts, base, maxBars);
  if (timeframe === base) {
    const sourceEnd = new Int32Array(candles.length);
    for (let i = 0; i < candles.length; i++) sourceEnd[i] = i + 1;
    return { timeframe, candles, sourceEnd };
  }
  const agg = aggregateCandles(candles, timeframe);
  return { timeframe, candles: agg, sourceEnd: agg.sourceEnd };
}

/**
 * Reduces a per-source-bar series to one value per display bar: the last value (`'last'`, for equity) or
 * the minimum (`'min'`, for drawdown, so the deepest point survives downsampling).
 */
export function reduceToBars(values: Float64Array, sourceEnd: Int32Array, mode: 'last' | 'min'): Float64Array {
  const out = new Float64Array(sourceEnd.length);
  let start = 0;
  for (let k = 0; k < sourceEnd.length; k++) {
    const end = sourceEnd[k] as number;
    if (mode === 'last') {
      out[k] = end > 0 ? (values[end - 1] as number) : Number.NaN;
    } else {
      let m = Number.POSITIVE_INFINITY;
      for (let i = start; i < end; i++) if ((values[i] as number) < m) m = values[i] as number;
      out[k] = m;
    }
    start = end;
  }
  return out;
}

/**
 * The deepest drawdown (fraction below the running peak, <= 0) within each display bar: what
 * `reduceToBars(drawdownCurve(equity), sourceEnd, 'min')` gives, without a curve as long as the run.
 */
export function drawdownToBars(equity: Float64Array, sourceEnd: Int32Array): Float64Array {
  const out = new Float64Array(sourceEnd.length);
  let peak = Number.NEGATIVE_INFINITY;
  let start = 0;
  for (let k = 0; k < sourceEnd.length; k++) {
    const end = sourceEnd[k] as number;
    let m = Number.POSITIVE_INFINITY;
    for (let i = start; i < end; i++) {
      const e = equity[i] as number;
      if (e > peak) peak = e;
      const dd = peak > 0 ? e / peak - 1 : 0;
      if (dd < m) m = dd;
    }
    out[k] = m;
    start = end;
  }
  return out;
}

/** Index of the display bar holding time `t` (epoch ms): the last bar whose open time is <= `t`, or 0. */
export function barIndexAt(barTs: Float64Array, t: number): number {
  let lo = 0;
  let hi = barTs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((barTs[mid] as number) <= t) lo = mid + 1;
    else hi = mid;
  }
  return Math.max(0, lo - 1);
}

/**
 * A plotted series (one value per source bar, NaN for none) on the display bars: the last value plotted
 * within each display bar, as its close is the last source close — NaN when the bar has none.
 */
export function plotToBars(values: Float64Array, sourceEnd: Int32Array): Float64Array {
  const out = new Float64Array(sourceEnd.length).fill(Number.NaN);
  let start = 0;
  for (let k = 0; k < sourceEnd.length; k++) {
    const end = sourceEnd[k] as number;
    for (let i = end - 1; i >= start; i--) {
      const v = values[i] as number;
      if (!Number.isNaN(v)) {
        out[k] = v;
        break;
      }
    }
    start = end;
  }
  return out;
}
