import { CANDLE_FIELDS, type CandleColumns } from '../core/candles.ts';
import type { Timeframe } from '../core/timeframe.ts';

/** Candle columns in one SharedArrayBuffer: column k of `CANDLE_FIELDS` at byte offset k × length × 8. */
export interface SharedColumns {
  readonly length: number;
  readonly buffer: SharedArrayBuffer;
}

/** The market a sweep runs on, as shared with its workers (the same memory in every thread). */
export interface SharedMarket {
  readonly exchange: string;
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly candles: SharedColumns;
  /** Finer series for the SL/TP drill-down, by timeframe. */
  readonly finer: readonly (readonly [Timeframe, SharedColumns])[];
}

/** Copies candle columns once into shared memory. */
export function shareColumns(c: CandleColumns): SharedColumns {
  const n = c.length;
  const buffer = new SharedArrayBuffer(Math.max(1, CANDLE_FIELDS.length * n * 8));
  CANDLE_FIELDS.forEach((f, k) => new Float64Array(buffer, k * n * 8, n).set(c[f].subarray(0, n)));
  return { length: n, buffer };
}

/** Candle columns viewing shared memory (no copy). */
export function columnsOf(s: SharedColumns): CandleColumns {
  const n = s.length;
  const col = (k: number): Float64Array => new Float64Array(s.buffer, k * n * 8, n);
  return { length: n, ts: col(0), open: col(1), high: col(2), low: col(3), close: col(4), volume: col(5), openInterest: col(6), cvd: col(7) };
}

/** The finer series of a shared market as columns, by timeframe. */
export function finerOf(m: SharedMarket): Map<Timeframe, CandleColumns> {
  return new Map(m.finer.map(([tf, s]) => [tf, columnsOf(s)]));
}
