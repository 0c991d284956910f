import { allocCandles, type CandleColumns } from '../src/core/candles.ts';
import type { Signal } from '../src/core/signals.ts';
import type { Timeframe } from '../src/core/timeframe.ts';
import type { PositionMode } from '../src/core/types.ts';
import type { StrategyContext } from '../src/strategy/context.ts';
import { Strategy, type SignalOutput } from '../src/strategy/strategy.ts';

/** 2024-01-01T00:00Z, the start of every hand-made series. */
export const T0 = Date.UTC(2024, 0, 1);
export const MIN = 60_000;

/** Builds candles from [open, high, low, close] rows (volume 1), one every `stepMs` from `start`. */
export function bars(rows: readonly (readonly [number, number, number, number])[], start = T0, stepMs = MIN): CandleColumns {
  const c = allocCandles(rows.length);
  rows.forEach(([o, h, l, cl], i) => {
    c.ts[i] = start + i * stepMs;
    c.open[i] = o;
    c.high[i] = h;
    c.low[i] = l;
    c.close[i] = cl;
    c.volume[i] = 1;
  });
  return c;
}

/** A strategy that emits the given signals at given bar indices (the script of a scenario). */
export function scripted(script: Record<number, Signal | Signal[]>, opts: { mode?: PositionMode; timeframes?: Timeframe[] } = {}): Strategy {
  class Scripted extends Strategy {
    override readonly positionMode = opts.mode ?? 'oneway';
    override readonly timeframes = opts.timeframes ?? ['1m'];
    private i = -1;
    onCandle(_ctx: StrategyContext): SignalOutput {
      this.i++;
      return script[this.i];
    }
  }
  return new Scripted();
}
