import { rangeCandles, type CandleColumns } from '../core/candles.ts';
import { HalyardError } from '../core/errors.ts';
import { TIMEFRAME_MS, type Timeframe } from '../core/timeframe.ts';
import { readCandles, type ReadRange } from './cache.ts';

/** A time range [from, to) in epoch ms. */
export interface Span {
  readonly from: number;
  readonly to: number;
}

/** How much of a requested range a cached series holds. */
export interface Coverage {
  /** What was asked for; an open end means the cache's own first or last candle. */
  readonly requested: Span;
  /** The part the cache holds (first candle's open to last candle's close), null when it holds none of it. */
  readonly covered: Span | null;
  /** The whole series in the file (first open to last close), null when the file is empty. */
  readonly cache: Span | null;
  /** Requested time the cache does not hold, before and after the covered part (ms). */
  readonly missingMs: number;
}

const DAY_MS = 86_400_000;

/** Coverage of `range` by a series whose open times are `ts[0..length)` (sorted) on timeframe `tf`. */
export function coverageOf(ts: Float64Array, length: number, tf: Timeframe, range: ReadRange): Coverage {
  const cache = length > 0 ? { from: ts[0] as number, to: (ts[length - 1] as number) + TIMEFRAME_MS[tf] } : null;
  const requested = { from: range.from ?? cache?.from ?? 0, to: range.to ?? cache?.to ?? 0 };
  const from = Math.max(requested.from, cache?.from ?? Infinity);
  const to = Math.min(requested.to, cache?.to ?? -Infinity);
  const covered = cache && to > from ? { from, to } : null;
  const total = Math.max(0, requested.to - requested.from);
  return { requested, covered, cache, missingMs: covered ? total - (covered.to - covered.from) : total };
}

/** Reads a cache file's candles in `range` with how much of the range the file covers. */
export async function readCovering(path: string, tf: Timeframe, range: ReadRange): Promise<{ candles: CandleColumns; coverage: Coverage }> {
  const all = await readCandles(path);
  const coverage = coverageOf(all.ts, all.length, tf, range);
  const candles = range.from === undefined && range.to === undefined ? all : rangeCandles(all, range.from ?? -Infinity, range.to ?? Infinity);
  return { candles, coverage };
}

const iso = (t: number): string => `${new Date(t).toISOString().slice(0, 16)}Z`;
const span = (s: Span): string => `${iso(s.from)} → ${iso(s.to)}`;
/** Days with up to two decimals (a few hours missing is 0.13 days, not 0). */
const days = (ms: number): string => `${Number((ms / DAY_MS).toFixed(2))}`;

/**
 * Checks that the cache holds the whole requested range of the `series` (e.g. `binance BTC/USDT:USDT 1h`).
 * Holding none of it is data_missing; holding part of it is data_missing too unless `allowPartial`, when
 * the answer is a warning line naming the covered range; a full cover answers null.
 */
export function checkCoverage(c: Coverage, series: string, allowPartial: boolean, run = 'the backtest', flag = '--from/--to'): string | null {
  if (c.missingMs <= 0 && c.covered) return null;
  const held = c.cache ? `the cache holds ${series} from ${span(c.cache)}` : `the cache holds no ${series} candles`;
  if (!c.covered) {
    throw new HalyardError('data_missing', `${held}, none of the requested ${span(c.requested)}: fetch or import that range (halyard data fetch / data import) or change ${flag}`, {
      requested: c.requested,
      cache: c.cache,
    });
  }
  const missing = `${days(c.missingMs)} of the ${days(c.requested.to - c.requested.from)} requested days (${span(c.requested)}) are missing`;
  if (!allowPartial) {
    throw new HalyardError('data_missing', `${held}: ${missing}; fetch or import them (halyard data fetch / data import), narrow ${flag}, or pass --allow-partial to run on ${span(c.covered)} only`, {
      requested: c.requested,
      covered: c.covered,
      missingMs: c.missingMs,
    });
  }
  return `warning: ${run} runs on ${span(c.covered)} only, what the cache holds of ${series}: ${missing}`;
}
