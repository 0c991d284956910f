import { HalyardError } from './errors.ts';

/** Supported timeframes, finest first. */
export const TIMEFRAMES = ['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '12h', '1d'] as const;

/** A candle timeframe. */
export type Timeframe = (typeof TIMEFRAMES)[number];

const MINUTE = 60_000;

/** Length of each timeframe in milliseconds. */
export const TIMEFRAME_MS: Readonly<Record<Timeframe, number>> = Object.freeze({
  '1m': MINUTE,
  '3m': 3 * MINUTE,
  '5m': 5 * MINUTE,
  '15m': 15 * MINUTE,
  '30m': 30 * MINUTE,
  '1h': 60 * MINUTE,
  '2h': 120 * MINUTE,
  '4h': 240 * MINUTE,
  '6h': 360 * MINUTE,
  '12h': 720 * MINUTE,
  '1d': 1440 * MINUTE,
});

/** Timeframes the SL/TP drill-down walks through, coarsest first (ARCHITECTURE.md: 4h → 1h → 15m → 5m → 1m). */
export const DRILL_DOWN_ORDER: readonly Timeframe[] = Object.freeze(['4h', '1h', '15m', '5m', '1m'] as Timeframe[]);

/** True when `s` names a supported timeframe. */
export function isTimeframe(s: string): s is Timeframe {
  return (TIMEFRAMES as readonly string[]).includes(s);
}

/** Parses a timeframe name, throwing a clear error for anything else. */
export function parseTimeframe(s: string): Timeframe {
  if (!isTimeframe(s)) {
    throw new HalyardError('invalid_input', `unknown timeframe "${s}"; use one of ${TIMEFRAMES.join(' ')}`, { timeframe: s });
  }
  return s;
}

/** Open time (epoch ms) of the `tf` bucket holding `ts`; buckets are aligned to UTC midnight. */
export function bucketStart(ts: number, tf: Timeframe): number {
  const ms = TIMEFRAME_MS[tf];
  return ts - (((ts % ms) + ms) % ms);
}

/** Timeframes finer than `tf` in drill-down order (coarsest first). */
export function finerDrillDown(tf: Timeframe): Timeframe[] {
  const ms = TIMEFRAME_MS[tf];
  return DRILL_DOWN_ORDER.filter((t) => TIMEFRAME_MS[t] < ms);
}
