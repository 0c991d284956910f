import { describe, expect, it } from 'vitest';
import { EMA, RSI, SMA } from 'trading-signals';
import { Atr, Ema, LibraryIndicator, Rsi, Sma, type Columns, type Indicator } from './indicators.ts';
import { SeededRandom } from '../core/rng.ts';

function series(n: number): number[] {
  const r = new SeededRandom(3);
  const xs: number[] = [];
  let p = 100;
  for (let i = 0; i < n; i++) xs.push((p += r.normal()));
  return xs;
}

describe('streaming indicators agree with trading-signals', () => {
  const xs = series(3000);
  it('SMA', () => {
    const ours = new Sma(20);
    const lib = new SMA(20);
    xs.forEach((x, i) => {
      ours.push(x, x, x, x, 0);
      const r = lib.update(x, false);
      if (i < 19) expect(ours.value).toBeNaN();
      else expect(ours.value).toBeCloseTo(r as number, 9);
    });
    expect(ours.previous).not.toBe(ours.value);
  });
  it('EMA (seeded with the SMA like TA-Lib; trading-signals seeds with the first value, so compare once that has decayed)', () => {
    const ours = new Ema(10);
    const lib = new EMA(10);
    xs.forEach((x, i) => {
      ours.push(x, x, x, x, 0);
      const r = lib.update(x, false);
      if (i >= 300) expect(ours.value).toBeCloseTo(r as number, 6);
      if (i === 8) expect(ours.value).toBeNaN();
      if (i === 9) expect(ours.value).toBeCloseTo(xs.slice(0, 10).reduce((a, b) => a + b, 0) / 10, 9);
    });
  });
  it('RSI (Wilder)', () => {
    const ours = new Rsi(14);
    const lib = new RSI(14);
    let compared = 0;
    xs.forEach((x) => {
      ours.push(x, x, x, x, 0);
      const r = lib.update(x, false);
      if (r !== null && ours.ready) {
        expect(ours.value).toBeCloseTo(r, 6);
        compared++;
      }
    });
    expect(compared).toBeGreaterThan(2900);
  });
  it('ATR warms up after `period` candles and stays positive', () => {
    const a = new Atr(14);
    xs.forEach((x, i) => {
      a.push(x, x + 1, x - 1, x, 0);
      if (i < 13) expect(a.value).toBeNaN();
      else expect(a.value).toBeGreaterThan(0);
    });
  });
  it('wraps any trading-signals indicator', () => {
    const w = new LibraryIndicator(new SMA(5));
    [1, 2, 3, 4, 5, 6].forEach((x) => w.push(x, x, x, x, 0));
    expect(w.value).toBe(4);
    expect(w.crossedAbove(new Sma(1))).toBe(false);
  });
});

/** Candle columns with `xs` as open and close, high and low `spread` above and below. */
function columns(xs: readonly number[], spread: number): Columns {
  return { length: xs.length, open: Float64Array.from(xs), high: Float64Array.from(xs, (x) => x + spread), low: Float64Array.from(xs, (x) => x - spread), close: Float64Array.from(xs), volume: new Float64Array(xs.length) };
}

/** One of each kind of indicator, the SMA on close (a column pass) and on hl2 (pushed). */
const someIndicators = (): Indicator[] => [new Sma(30), new Sma(7, 'hl2'), new Ema(12), new Rsi(14), new Atr(10)];

/**
 * Pushes candle `i` to `streamed`, moves the cursor there and expects `pre` to read exactly the same values,
 * counts and crossings; true when the first indicator crossed above the third.
 */
function expectSameAt(i: number, cols: Columns, cursor: { i: number }, pre: readonly Indicator[], streamed: readonly Indicator[]): boolean {
  streamed.forEach((ind) => ind.push(cols.open[i]!, cols.high[i]!, cols.low[i]!, cols.close[i]!, 0));
  cursor.i = i;
  streamed.forEach((ind, k) => {
    expect(Object.is(pre[k]!.value, ind.value)).toBe(true);
    expect(Object.is(pre[k]!.previous, ind.previous)).toBe(true);
    expect(pre[k]!.count).toBe(ind.count);
  });
  expect(pre[0]!.crossedAbove(pre[2]!)).toBe(streamed[0]!.crossedAbove(streamed[2]!));
  expect(pre[0]!.crossedBelow(pre[2]!)).toBe(streamed[0]!.crossedBelow(streamed[2]!));
  return pre[0]!.crossedAbove(pre[2]!);
}

describe('precomputed indicators equal streamed ones', () => {
  it('SMA (column pass), EMA, RSI, ATR read at a cursor give exactly the pushed values', () => {
    const xs = series(2000);
    const cols = columns(xs, 1);
    const streamed = someIndicators();
    const pre = someIndicators();
    const cursor = { i: -1 };
    pre.forEach((ind) => ind.precompute(cols, cursor));
    let crossings = 0;
    expect(pre[0]!.value).toBeNaN(); // before the first candle nothing is visible
    for (let i = 0; i < xs.length; i++) if (expectSameAt(i, cols, cursor, pre, streamed)) crossings++;
    expect(crossings).toBeGreaterThan(5);
  });
});

describe('a library indicator in a backtest', () => {
  it("shows the result of the cursor's candle, never one computed ahead (whole series or window by window)", () => {
    const xs = series(600);
    const cols = columns(xs, 0);
    /** A library-shaped indicator whose result is an object (as MACD's is): the candle count and the close. */
    const make = () => {
      let n = 0;
      return new LibraryIndicator<{ n: number; close: number }>({ update: (close) => ({ n: ++n, close }) });
    };
    for (const window of [0, 1, 64]) {
      const pre = make();
      const cursor = { i: -1 };
      if (window === 0) pre.precompute(cols, cursor);
      else pre.beginPrecompute(cols, cursor, window);
      expect(pre.result).toBeNull(); // before the first candle, nothing
      for (let from = 0; from < xs.length; from += window || xs.length) {
        const to = Math.min(xs.length, from + (window || xs.length));
        if (window > 0) pre.advance(from, to);
        for (let i = from; i < to; i++) {
          cursor.i = i;
          expect(pre.result, `window ${window}, candle ${i}`).toEqual({ n: i + 1, close: xs[i] });
          expect(pre.value).toBeNaN(); // an object result is no number
        }
      }
    }
  });
});

describe('indicators precomputed window by window', () => {
  it('give exactly the pushed values, with windows of any size (the backtest computes a chunk ahead of its loop)', () => {
    const xs = series(1500);
    const cols = columns(xs, 1);
    for (const window of [1, 7, 64, 1500]) {
      const streamed = someIndicators();
      const pre = someIndicators();
      const cursor = { i: -1 };
      pre.forEach((ind) => ind.beginPrecompute(cols, cursor, window));
      let crossings = 0;
      for (let from = 0; from < xs.length; from += window) {
        const to = Math.min(xs.length, from + window);
        pre.forEach((ind) => ind.advance(from, to));
        for (let i = from; i < to; i++) if (expectSameAt(i, cols, cursor, pre, streamed)) crossings++;
      }
      expect(crossings).toBeGreaterThan(3);
    }
  });
});
