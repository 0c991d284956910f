import { describe, expect, it } from 'vitest';
import { allocCandles, type CandleColumns } from '../../src/core/candles.ts';
import { SeededRandom } from '../../src/core/rng.ts';
import { bucketStart, TIMEFRAME_MS, type Timeframe } from '../../src/core/timeframe.ts';
import { runBacktest } from '../../src/engine/backtest.ts';
import type { StrategyContext } from '../../src/strategy/context.ts';
import type { Indicator } from '../../src/strategy/indicators.ts';
import { Strategy } from '../../src/strategy/strategy.ts';
import { MIN, T0 } from '../helpers.ts';

/** Random-walk 1m candles with a missing stretch (a gap) to exercise buckets that end early. */
function walk(n: number, seed: number, gapAt: number, gapLen: number): CandleColumns {
  const rng = new SeededRandom(seed);
  const c = allocCandles(n);
  let p = 100;
  for (let i = 0; i < n; i++) {
    const o = p;
    p = Math.max(1, p + rng.normal());
    c.ts[i] = T0 + (i < gapAt ? i : i + gapLen) * MIN;
    c.open[i] = o;
    c.close[i] = p;
    c.high[i] = Math.max(o, p) + rng.next();
    c.low[i] = Math.min(o, p) - rng.next();
    c.volume[i] = 1 + rng.next();
  }
  return c;
}

interface Seen {
  i: number;
  tf: Timeframe;
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
  prevClose: number;
  length: number;
  complete: boolean;
  sma: number;
}

class Recorder extends Strategy {
  override readonly timeframes: Timeframe[] = ['1m', '15m', '1h', '4h'];
  readonly seen: Seen[] = [];
  private readonly smas = new Map<Timeframe, Indicator>();
  private i = -1;
  override onInit(ctx: StrategyContext): void {
    for (const tf of this.timeframes) this.smas.set(tf, ctx.indicators.sma(3, { timeframe: tf }));
  }
  onCandle(ctx: StrategyContext): void {
    this.i++;
    for (const tf of this.timeframes) {
      const v = ctx.candles(tf);
      this.seen.push({ i: this.i, tf, o: v.open(), h: v.high(), l: v.low(), c: v.close(), v: v.volume(), prevClose: v.close(1), length: v.length, complete: v.complete, sma: this.smas.get(tf)!.value });
      expect(Number.isNaN(v.close(v.length))).toBe(true); // beyond the history: nothing
    }
  }
}

/** What a strategy may know at base candle i, recomputed from candles 0..i only. */
function expected(c: CandleColumns, i: number, tf: Timeframe) {
  const buckets: { o: number; h: number; l: number; c: number; v: number; end: number; start: number }[] = [];
  for (let j = 0; j <= i; j++) {
    const b = bucketStart(c.ts[j]!, tf);
    const last = buckets[buckets.length - 1];
    if (!last || last.start !== b) buckets.push({ start: b, o: c.open[j]!, h: c.high[j]!, l: c.low[j]!, c: c.close[j]!, v: c.volume[j]!, end: c.ts[j]! });
    else {
      last.h = Math.max(last.h, c.high[j]!);
      last.l = Math.min(last.l, c.low[j]!);
      last.c = c.close[j]!;
      last.v += c.volume[j]!;
      last.end = c.ts[j]!;
    }
  }
  const cur = buckets[buckets.length - 1]!;
  const complete = cur.end + MIN >= cur.start + TIMEFRAME_MS[tf];
  // Buckets complete so far: all earlier ones, plus the current one when its last minute closed.
  const done = complete ? buckets : buckets.slice(0, -1);
  const last3 = done.slice(-3);
  const sma = last3.length === 3 ? (last3[0]!.c + last3[1]!.c + last3[2]!.c) / 3 : Number.NaN;
  return { ...cur, prevClose: buckets.length > 1 ? buckets[buckets.length - 2]!.c : Number.NaN, length: buckets.length, complete, sma };
}

describe('multi-timeframe views see only the past', () => {
  it('partial higher-timeframe candles and closed history match a recomputation from closed 1m candles', () => {
    const c = walk(1500, 7, 700, 95); // a 95-minute hole inside a 4h bucket
    const s = new Recorder();
    runBacktest({ strategy: s, candles: c, timeframe: '1m', exchange: 'test', symbol: 'X', initialBalance: 1000 });
    expect(s.seen.length).toBe(1500 * 4);
    for (const row of s.seen) {
      if (row.i % 7 !== 0 && row.i < 1490) continue; // a sample keeps the O(n²) recomputation quick
      const e = expected(c, row.i, row.tf);
      expect([row.o, row.h, row.l, row.c, row.length, row.complete]).toEqual([e.o, e.h, e.l, e.c, e.length, e.complete]);
      expect(row.v).toBeCloseTo(e.v, 9);
      if (Number.isNaN(e.prevClose)) expect(row.prevClose).toBeNaN();
      else expect(row.prevClose).toBe(e.prevClose);
      if (Number.isNaN(e.sma)) expect(row.sma).toBeNaN();
      else expect(row.sma).toBeCloseTo(e.sma, 9);
    }
  });
});
