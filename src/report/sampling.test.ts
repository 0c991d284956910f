import { describe, expect, it } from 'vitest';
import { allocCandles } from '../core/candles.ts';
import { drawdownCurve } from '../core/metrics.ts';
import { downsampleCandles, drawdownToBars, pickDisplayTimeframe, plotToBars, reduceToBars, sampleEquityCurve } from './sampling.ts';
import { FIXTURE_START, syntheticCandles } from './test-fixture.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

function ramp(n: number): Float64Array {
  const e = new Float64Array(n);
  for (let i = 0; i < n; i++) e[i] = 1000 + i;
  return e;
}

describe('sampleEquityCurve', () => {
  it('takes the last bar of each UTC hour for a run under 30 days, including a partial last hour', () => {
    const c = syntheticCandles(150, FIXTURE_START + 30 * MIN); // 00:30 .. 02:59
    const pts = sampleEquityCurve(c.ts, ramp(150), MIN);
    expect(pts.map((p) => (p.t - FIXTURE_START) / MIN)).toEqual([59, 119, 179]);
    expect(pts.map((p) => p.v)).toEqual([1029, 1089, 1149]);
    const cut = sampleEquityCurve(c.ts.subarray(0, 100), ramp(100), MIN);
    expect(cut.map((p) => (p.t - FIXTURE_START) / MIN)).toEqual([59, 119, 129]); // last bar always in
  });

  it('switches to the last bar of each UTC day at 30 days and more', () => {
    const n = 30 * 24; // exactly 30 days of 1h bars
    const c = syntheticCandles(n, FIXTURE_START, HOUR);
    const daily = sampleEquityCurve(c.ts, ramp(n), HOUR);
    expect(daily).toHaveLength(30);
    expect(daily[0]).toEqual({ t: FIXTURE_START + 23 * HOUR, v: 1023 });
    expect(daily.at(-1)).toEqual({ t: FIXTURE_START + (n - 1) * HOUR, v: 1000 + n - 1 });
    const hourly = sampleEquityCurve(c.ts.subarray(0, n - 1), ramp(n - 1), HOUR);
    expect(hourly).toHaveLength(n - 1);
  });

  it('is empty for an empty run', () => {
    expect(sampleEquityCurve(new Float64Array(0), new Float64Array(0), MIN)).toEqual([]);
  });
});

describe('downsampling for the chart', () => {
  it('keeps at most 3000 bars for a year of 1m candles (525,600) by aggregating to 4h', () => {
    const n = 525_600;
    const c = allocCandles(n);
    for (let i = 0; i < n; i++) {
      c.ts[i] = FIXTURE_START + i * MIN;
      c.open[i] = 100 + (i % 50);
      c.close[i] = 101 + (i % 50);
      c.high[i] = 102 + (i % 50);
      c.low[i] = 99 + (i % 50);
      c.volume[i] = 1;
    }
    expect(pickDisplayTimeframe(c.ts, '1m')).toBe('4h');
    const d = downsampleCandles(c, '1m');
    expect(d.timeframe).toBe('4h');
    expect(d.candles.length).toBeLessThanOrEqual(3000);
    expect(d.candles.length).toBe(365 * 6);
    expect(d.candles.volume[0]).toBe(240);
    expect(d.candles.high[0]).toBe(102 + 49);
    expect(d.sourceEnd.at(-1)).toBe(n);
  });

  it('keeps the base timeframe when it fits and picks the finest one that does otherwise', () => {
    expect(pickDisplayTimeframe(syntheticCandles(3000).ts, '1m')).toBe('1m');
    expect(pickDisplayTimeframe(syntheticCandles(3001).ts, '1m')).toBe('3m');
    // 5m base: 3m is not a multiple of 5m, so the next candidate is 15m.
    expect(pickDisplayTimeframe(syntheticCandles(4000, FIXTURE_START, 5 * MIN).ts, '5m')).toBe('15m');
    expect(pickDisplayTimeframe(syntheticCandles(5000, FIXTURE_START, DAY).ts, '1d')).toBe('1d');
  });

  it('counts buckets that hold data, so a long gap does not force a coarse timeframe', () => {
    const a = syntheticCandles(2000).ts;
    const b = syntheticCandles(2000, FIXTURE_START + 365 * DAY).ts;
    const ts = new Float64Array(4000);
    ts.set(a);
    ts.set(b, 2000);
    expect(pickDisplayTimeframe(ts, '1m')).toBe('3m'); // 2 × 667 buckets, though the span holds 175,000+
  });

  it('reduces equity to the last value and drawdown to the deepest value of each bar', () => {
    const values = Float64Array.from([5, 3, 4, 1, 2, 6]);
    const ends = Int32Array.from([2, 5, 6]);
    expect([...reduceToBars(values, ends, 'last')]).toEqual([3, 2, 6]);
    expect([...reduceToBars(values, ends, 'min')]).toEqual([3, 1, 6]);
  });

  it('gives each bar the deepest drawdown of its source bars without a whole drawdown curve, bit for bit', () => {
    let x = 1000;
    const equity = Float64Array.from({ length: 5000 }, (_, i) => (x += Math.sin(i * 0.37) * 13 + Math.cos(i * 0.011) * 7));
    const ends = Int32Array.from({ length: 50 }, (_, k) => Math.min(5000, (k + 1) * 100 + (k % 3)));
    ends[ends.length - 1] = 5000;
    const expected = reduceToBars(drawdownCurve(equity), ends, 'min');
    expect(expected.some((d) => d < -0.01)).toBe(true);
    expect([...drawdownToBars(equity, ends)]).toEqual([...expected]);
  });
});

describe('plotToBars', () => {
  it('takes the last value plotted within each display bar, NaN when the bar has none', () => {
    const v = Float64Array.from([1, 2, Number.NaN, Number.NaN, Number.NaN, 6, 7, Number.NaN]);
    const out = plotToBars(v, Int32Array.from([2, 5, 8]));
    expect(Array.from(out)).toEqual([2, Number.NaN, 7]);
  });
});
