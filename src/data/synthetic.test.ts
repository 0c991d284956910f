import { describe, expect, it } from 'vitest';
import { CANDLE_FIELDS, findGaps, validateCandles, type CandleColumns } from '../core/candles.ts';
import { SYNTHETIC_DEFAULT_FROM, syntheticCandles } from './synthetic.ts';

const WEEK = 7 * 1440;

/** Log returns close-to-close. */
function returns(c: CandleColumns): Float64Array {
  const r = new Float64Array(c.length - 1);
  for (let i = 1; i < c.length; i++) r[i - 1] = Math.log((c.close[i] as number) / (c.close[i - 1] as number));
  return r;
}

/** Sample autocorrelation of `x` at `lag`. */
function autocorrelation(x: Float64Array, lag: number): number {
  const mean = x.reduce((s, v) => s + v, 0) / x.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < x.length; i++) {
    den += ((x[i] as number) - mean) ** 2;
    if (i >= lag) num += ((x[i] as number) - mean) * ((x[i - lag] as number) - mean);
  }
  return num / den;
}

describe('syntheticCandles', () => {
  const c = syntheticCandles({ seed: 7, count: 8 * WEEK });

  it('is a pure function of its seed', () => {
    const differing = (a: CandleColumns, b: CandleColumns, f: (typeof CANDLE_FIELDS)[number]): number =>
      a[f].reduce((n, v, i) => n + (Object.is(v, b[f][i]) ? 0 : 1), 0);
    const again = syntheticCandles({ seed: 7, count: 8 * WEEK });
    for (const f of CANDLE_FIELDS) expect(differing(again, c, f), f).toBe(0);
    const other = syntheticCandles({ seed: 8, count: 8 * WEEK });
    expect(differing(other, c, 'close')).toBeGreaterThan(c.length / 2);
    expect(differing(other, c, 'volume')).toBeGreaterThan(c.length / 2);
  });

  it('starts where asked, 1m apart, without gaps', () => {
    expect(c.length).toBe(8 * WEEK);
    expect(c.ts[0]).toBe(SYNTHETIC_DEFAULT_FROM);
    expect(c.open[0]).toBe(30_000);
    expect(findGaps(c, '1m')).toEqual([]);
    const h = syntheticCandles({ seed: 1, count: 48, from: Date.UTC(2020, 4, 1), startPrice: 100, timeframe: '1h' });
    expect(h.ts[1]! - h.ts[0]!).toBe(3_600_000);
    expect(h.open[0]).toBe(100);
    expect(() => syntheticCandles({ seed: 1, count: 2, from: 30_000 })).toThrow(/aligned/);
  });

  it('has consistent OHLC on a 0.1 tick, opens at the previous close, volumes on 0.001', () => {
    validateCandles(c, 'synthetic');
    const offTick: number[] = [];
    for (let i = 0; i < c.length; i++) {
      for (const f of ['open', 'high', 'low', 'close'] as const) {
        const p = c[f][i] as number;
        if (Math.round(p * 10) / 10 !== p) offTick.push(i);
      }
      if (Math.round((c.volume[i] as number) * 1000) / 1000 !== c.volume[i]) offTick.push(i);
      if (i > 0 && c.open[i] !== c.close[i - 1]) offTick.push(i);
    }
    expect(offTick).toEqual([]);
  });

  it('has some zero-volume bars, and they are flat', () => {
    const quiet = [...c.volume.keys()].filter((i) => c.volume[i] === 0);
    expect(quiet.length).toBeGreaterThan(0);
    expect(quiet.length).toBeLessThan(c.length / 1000);
    for (const i of quiet) expect(c.high[i]).toBe(c.low[i]);
  });

  it('clusters volatility: absolute returns are clearly autocorrelated, raw returns barely', () => {
    const r = returns(c);
    expect(autocorrelation(r.map(Math.abs), 1)).toBeGreaterThan(0.1);
    expect(Math.abs(autocorrelation(r, 1))).toBeLessThan(0.05);
  });

  it('has BTC-like scale: annualised volatility between 20 % and 100 %, fat tails', () => {
    const r = returns(c);
    const sd = Math.sqrt(r.reduce((s, v) => s + v * v, 0) / r.length);
    expect(sd * Math.sqrt(525_600)).toBeGreaterThan(0.2);
    expect(sd * Math.sqrt(525_600)).toBeLessThan(1);
    const kurtosis = r.reduce((s, v) => s + v ** 4, 0) / r.length / sd ** 4;
    expect(kurtosis).toBeGreaterThan(3.5);
  });

  it('trades more in busy hours than in quiet ones, and more on weekdays', () => {
    const byHour = new Float64Array(24);
    let weekday = 0;
    let weekend = 0;
    for (let i = 0; i < c.length; i++) {
      const t = c.ts[i] as number;
      byHour[new Date(t).getUTCHours()]! += c.volume[i] as number;
      const d = new Date(t).getUTCDay();
      if (d === 0 || d === 6) weekend += c.volume[i] as number;
      else weekday += c.volume[i] as number;
    }
    expect(byHour[14]! / byHour[4]!).toBeGreaterThan(1.5);
    expect(weekday / 5 / (weekend / 2)).toBeGreaterThan(1.2);
  });

  it('keeps open interest positive and slow, and CVD the running sum of signed volume', () => {
    let acc = 0;
    let maxStep = 0;
    let maxCvdError = 0;
    for (let i = 0; i < c.length; i++) {
      if (i > 0) maxStep = Math.max(maxStep, Math.abs((c.openInterest[i] as number) / (c.openInterest[i - 1] as number) - 1));
      acc += (c.volume[i] as number) * Math.sign((c.close[i] as number) - (c.open[i] as number));
      maxCvdError = Math.max(maxCvdError, Math.abs((c.cvd[i] as number) - acc));
    }
    expect(c.openInterest.every((x) => x > 0)).toBe(true);
    expect(maxStep).toBeLessThan(0.01);
    expect(maxStep).toBeGreaterThan(0);
    expect(maxCvdError).toBeLessThan(1e-6);
  });
});
