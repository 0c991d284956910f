import { describe, expect, it } from 'vitest';
import { SMA } from 'trading-signals';
import { SeededRandom } from '../core/rng.ts';
import { Atr, Ema, LibraryIndicator, Rsi, Sma, type Columns, type Indicator } from './indicators.ts';
import { SeriesCache } from './series-cache.ts';

function columns(n: number, seed: number): Columns {
  const r = new SeededRandom(seed);
  const close = new Float64Array(n);
  let p = 100;
  for (let i = 0; i < n; i++) close[i] = p += r.normal();
  const high = close.map((c) => c + 1);
  const low = close.map((c) => c - 1);
  return { length: n, open: close, high, low, close, volume: new Float64Array(n).fill(1) };
}

/** Every value an indicator shows at each cursor position, after `setup` prepared it; `step` runs before each candle. */
function walk(ind: Indicator, n: number, setup: (cursor: { i: number }) => void, step: (i: number) => void = () => {}): number[] {
  const cursor = { i: -1 };
  setup(cursor);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    step(i);
    cursor.i = i;
    out.push(ind.value, ind.previous);
  }
  return out;
}

describe('SeriesCache', () => {
  const n = 5000;
  const cols = columns(n, 9);
  const makers: (() => Indicator)[] = [() => new Sma(50), () => new Sma(7, 'hlc3'), () => new Ema(20), () => new Rsi(14), () => new Atr(10)];

  it('an adopted series shows the very values the indicator computes itself, window by window', () => {
    const cache = new SeriesCache(cols);
    for (const make of makers) {
      const own = make();
      // As the engine does: a window of 512 candles computed ahead of the cursor reaching it.
      const expected = walk(own, n, (cur) => own.beginPrecompute(cols, cur, 512), (i) => {
        if (i % 512 === 0) own.advance(i, Math.min(n, i + 512));
      });
      expect(expected.filter((x) => !Number.isNaN(x)).length).toBeGreaterThan(n);
      // Twice: the first computes the series, the second reads it.
      for (let k = 0; k < 2; k++) {
        const shared = make();
        expect(walk(shared, n, (cur) => expect(cache.adopt(shared, cols, cur)).toBe(true))).toEqual(expected);
      }
    }
    expect([cache.misses, cache.hits]).toEqual([makers.length, makers.length]);
  });

  it('crossings between adopted indicators read the shared series', () => {
    const cache = new SeriesCache(cols);
    const cursor = { i: -1 };
    const [a, b, c, d] = [new Sma(5), new Sma(20), new Sma(5), new Sma(20)];
    for (const ind of [a, b]) ind.precompute(cols, cursor);
    for (const ind of [c, d]) cache.adopt(ind, cols, cursor);
    let crossings = 0;
    for (let i = 0; i < n; i++) {
      cursor.i = i;
      expect(c.crossedAbove(d)).toBe(a.crossedAbove(b));
      expect(c.crossedBelow(d)).toBe(a.crossedBelow(b));
      if (a.crossedAbove(b)) crossings++;
    }
    expect(crossings).toBeGreaterThan(10);
  });

  it('shares nothing across other columns, nor a library indicator whose inputs it cannot name', () => {
    const cache = new SeriesCache(cols);
    expect(cache.adopt(new Sma(5), columns(n, 10), { i: -1 })).toBe(false);
    expect(cache.adopt(new LibraryIndicator(new SMA(5)), cols, { i: -1 })).toBe(false);
    expect(cache.misses + cache.hits).toBe(0);
  });

  it('drops the least recently used series past its bound', () => {
    const bytes = (n + 1) * 8;
    const cache = new SeriesCache(cols, bytes * 2);
    const cur = { i: -1 };
    for (const p of [2, 3, 2, 4]) cache.adopt(new Sma(p), cols, cur); // 3 is the least recently used when 4 arrives
    cache.adopt(new Sma(2), cols, cur);
    cache.adopt(new Sma(3), cols, cur);
    expect([cache.misses, cache.hits]).toEqual([4, 2]);
  });
});
