import { describe, expect, it } from 'vitest';
import { aggregateCandles, allocCandles, computeCvd, findGaps, rangeCandles } from './candles.ts';
import { bucketStart, TIMEFRAME_MS } from './timeframe.ts';

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;

function minutes(idx: number[]): ReturnType<typeof allocCandles> {
  const c = allocCandles(idx.length);
  idx.forEach((m, i) => {
    c.ts[i] = T0 + m * MIN;
    c.open[i] = 100 + m;
    c.high[i] = 101 + m;
    c.low[i] = 99 + m;
    c.close[i] = 100.5 + m;
    c.volume[i] = 1;
  });
  return c;
}

describe('candle columns', () => {
  it('aggregates into buckets aligned to UTC midnight, across a gap', () => {
    // minutes 0..9, then a hole, then 14..19: 5m buckets 0, 5, (10 has none), 10→ minute 14, 15
    const c = minutes([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 14, 15, 16, 17, 18, 19]);
    const a = aggregateCandles(c, '5m');
    expect(Array.from(a.ts).map((t) => (t - T0) / MIN)).toEqual([0, 5, 10, 15]);
    expect(Array.from(a.open)).toEqual([100, 105, 114, 115]);
    expect(Array.from(a.high)).toEqual([105, 110, 115, 120]);
    expect(Array.from(a.low)).toEqual([99, 104, 113, 114]);
    expect(Array.from(a.close)).toEqual([104.5, 109.5, 114.5, 119.5]);
    expect(Array.from(a.volume)).toEqual([5, 5, 1, 5]);
    expect(Array.from(a.sourceEnd)).toEqual([5, 10, 11, 16]);
  });

  it('bucket starts for every timeframe divide a day', () => {
    const t = Date.UTC(2024, 2, 5, 13, 47, 0);
    expect(bucketStart(t, '4h')).toBe(Date.UTC(2024, 2, 5, 12));
    expect(bucketStart(t, '1d')).toBe(Date.UTC(2024, 2, 5));
    expect(bucketStart(t, '15m')).toBe(Date.UTC(2024, 2, 5, 13, 45));
    for (const ms of Object.values(TIMEFRAME_MS)) expect(86_400_000 % ms).toBe(0);
  });

  it('reports gaps and slices ranges without copying', () => {
    const c = minutes([0, 1, 2, 10, 11]);
    expect(findGaps(c, '1m')).toEqual([{ from: T0 + 3 * MIN, to: T0 + 10 * MIN, count: 7 }]);
    const r = rangeCandles(c, T0 + MIN, T0 + 11 * MIN);
    expect(Array.from(r.ts).map((t) => (t - T0) / MIN)).toEqual([1, 2, 10]);
    expect(r.close.buffer).toBe(c.close.buffer);
  });

  it('CVD: exact from taker-buy volume, else volume × sign(close − open)', () => {
    const c = minutes([0, 1, 2]);
    c.close[1] = 90; // red candle
    computeCvd(c);
    expect(Array.from(c.cvd)).toEqual([1, 0, 1]);
    computeCvd(c, Float64Array.from([0.75, 0.25, 0.5]));
    expect(Array.from(c.cvd)).toEqual([0.5, 0, 0]);
  });
});
