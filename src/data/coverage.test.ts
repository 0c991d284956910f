import { describe, expect, it } from 'vitest';
import { isHalyardError } from '../core/errors.ts';
import { checkCoverage, coverageOf } from './coverage.ts';

const H = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);
/** Open times of `n` hourly candles from T0 + `start` hours. */
const hours = (start: number, n: number): Float64Array => Float64Array.from({ length: n }, (_, i) => T0 + (start + i) * H);

describe('coverageOf', () => {
  const ts = hours(0, 48); // the cache holds [T0, T0 + 48 h)

  it('an open range is what the cache holds: nothing missing', () => {
    expect(coverageOf(ts, 48, '1h', {})).toEqual({ requested: { from: T0, to: T0 + 48 * H }, covered: { from: T0, to: T0 + 48 * H }, cache: { from: T0, to: T0 + 48 * H }, missingMs: 0 });
  });

  it('counts what lies before the first and past the last candle, not what lies inside', () => {
    expect(coverageOf(ts, 48, '1h', { from: T0 + 2 * H, to: T0 + 10 * H }).missingMs).toBe(0);
    expect(coverageOf(ts, 48, '1h', { from: T0 - 5 * H, to: T0 + 60 * H })).toMatchObject({ covered: { from: T0, to: T0 + 48 * H }, missingMs: 17 * H });
    expect(coverageOf(ts, 48, '1h', { to: T0 + 50 * H })).toMatchObject({ requested: { from: T0 }, missingMs: 2 * H });
  });

  it('a range beside the cache, or an empty cache, covers nothing', () => {
    expect(coverageOf(ts, 48, '1h', { from: T0 + 100 * H, to: T0 + 110 * H })).toMatchObject({ covered: null, missingMs: 10 * H });
    expect(coverageOf(new Float64Array(0), 0, '1h', { from: T0, to: T0 + H })).toMatchObject({ covered: null, cache: null, missingMs: H });
  });
});

describe('checkCoverage', () => {
  const ts = hours(0, 24 * 5);
  const partial = coverageOf(ts, ts.length, '1h', { from: T0, to: T0 + 30 * 24 * H });

  it('passes a full cover without a word', () => {
    expect(checkCoverage(coverageOf(ts, ts.length, '1h', { from: T0, to: T0 + 24 * H }), 'x', false)).toBeNull();
  });

  it('refuses a partial cover naming both ranges and the missing days, or warns with --allow-partial', () => {
    let err: unknown;
    try {
      checkCoverage(partial, 'binance BTC/USDT:USDT 1h', false);
    } catch (e) {
      err = e;
    }
    expect(isHalyardError(err, 'data_missing')).toBe(true);
    expect((err as Error).message).toBe(
      'the cache holds binance BTC/USDT:USDT 1h from 2024-01-01T00:00Z → 2024-01-06T00:00Z: 25 of the 30 requested days (2024-01-01T00:00Z → 2024-01-31T00:00Z) are missing; fetch or import them (halyard data fetch / data import), narrow --from/--to, or pass --allow-partial to run on 2024-01-01T00:00Z → 2024-01-06T00:00Z only',
    );
    expect(checkCoverage(partial, 'binance BTC/USDT:USDT 1h', true)).toBe(
      'warning: the backtest runs on 2024-01-01T00:00Z → 2024-01-06T00:00Z only, what the cache holds of binance BTC/USDT:USDT 1h: 25 of the 30 requested days (2024-01-01T00:00Z → 2024-01-31T00:00Z) are missing',
    );
  });

  it('refuses a range the cache holds none of, even with --allow-partial', () => {
    expect(() => checkCoverage(coverageOf(ts, ts.length, '1h', { from: T0 + 200 * H, to: T0 + 210 * H }), 'x', true)).toThrow(/none of the requested/);
  });
});
