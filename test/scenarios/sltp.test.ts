import { describe, expect, it } from 'vitest';
import type { CandleColumns } from '../../src/core/candles.ts';
import { openLong, openShort } from '../../src/core/signals.ts';
import type { Timeframe } from '../../src/core/timeframe.ts';
import { runBacktest } from '../../src/engine/backtest.ts';
import type { SlTpPolicy } from '../../src/engine/result.ts';
import { bars, MIN, scripted, T0 } from '../helpers.ts';

const HOUR = 60 * MIN;
const base = { initialBalance: 10_000, exchange: 'test', symbol: 'BTC/USDT:USDT', makerFeeBps: 0, takerFeeBps: 0 } as const;

function longBoth(third: [number, number, number, number], policy: SlTpPolicy) {
  const candles = bars([
    [100, 101, 99, 100],
    [100, 102, 99, 101], // long @ 101, SL 95, TP 110
    third,
  ]);
  return runBacktest({ ...base, timeframe: '1m', candles, slTpPolicy: policy, strategy: scripted({ 1: openLong({ qty: 1, stopLoss: 95, takeProfit: 110 }) }) });
}

describe('SL and TP both inside one candle with no finer data', () => {
  it('conservative takes the stop and counts the candle as ambiguous', () => {
    const r = longBoth([101, 112, 94, 105], 'conservative');
    expect(r.trades[0]).toMatchObject({ exitReason: 'stop_loss', exitPrice: 95 });
    expect(r.summary.ambiguousCandles).toBe(1);
    expect(r.summary.drilledDownCandles).toBe(0);
  });
  it('candle-direction: a green candle went low first (stop), a red one high first (take)', () => {
    expect(longBoth([101, 112, 94, 105], 'candle-direction').trades[0]!.exitReason).toBe('stop_loss');
    const red = longBoth([101, 112, 94, 97], 'candle-direction');
    expect(red.trades[0]).toMatchObject({ exitReason: 'take_profit', exitPrice: 110 });
    expect(red.summary.ambiguousCandles).toBe(1);
  });
  it('a short mirrors it: green candle → take-profit first under candle-direction', () => {
    const candles = bars([
      [100, 101, 99, 100],
      [100, 102, 99, 101], // short @ 101, SL 107, TP 95
      [101, 108, 94, 105], // green: O-L-H-C → low (TP) first
    ]);
    const r = runBacktest({ ...base, timeframe: '1m', candles, slTpPolicy: 'candle-direction', strategy: scripted({ 1: openShort({ qty: 1, stopLoss: 107, takeProfit: 95 }) }) });
    expect(r.trades[0]).toMatchObject({ exitReason: 'take_profit', exitPrice: 95 });
  });
});

describe('SL/TP drill-down into finer cached data', () => {
  // Hourly base: long @ 101 at the close of hour 1; hour 2 touches both SL 95 and TP 110.
  const hourly = bars(
    [
      [100, 101, 99, 100],
      [100, 102, 99, 101],
      [101, 112, 94, 97],
    ],
    T0,
    HOUR,
  );
  const strategy = () => scripted({ 1: openLong({ qty: 1, stopLoss: 95, takeProfit: 110 }) }, { timeframes: ['1h'] });
  const run = (finer: Map<Timeframe, CandleColumns>) => runBacktest({ ...base, timeframe: '1h', candles: hourly, finer, strategy: strategy() });

  it('1m data shows the take-profit came first', () => {
    const m1 = bars(
      [
        [101, 111, 100, 110.5], // TP first
        [110, 110, 94, 97],
      ],
      T0 + 2 * HOUR,
    );
    const r = run(new Map([['1m', m1]]));
    expect(r.trades[0]).toMatchObject({ exitReason: 'take_profit', exitPrice: 110 });
    expect(r.summary).toMatchObject({ ambiguousCandles: 0, drilledDownCandles: 1 });
    expect(r.config.drillDown).toEqual(['1m']);
  });

  it('walks 15m then 1m when the 15m candle is itself ambiguous', () => {
    const m15 = bars(
      [
        [101, 112, 94, 97], // both again
        [97, 98, 96, 97],
      ],
      T0 + 2 * HOUR,
      15 * MIN,
    );
    const m1 = bars([[101, 101.5, 94.5, 95]], T0 + 2 * HOUR); // SL first
    const r = run(
      new Map([
        ['15m', m15],
        ['1m', m1],
      ]),
    );
    expect(r.trades[0]).toMatchObject({ exitReason: 'stop_loss', exitPrice: 95 });
    expect(r.summary).toMatchObject({ ambiguousCandles: 0, drilledDownCandles: 1 });
  });

  it('falls back to the policy at the finest level and counts it', () => {
    const m1 = bars([[101, 112, 94, 97]], T0 + 2 * HOUR); // both inside the only 1m candle
    const r = run(new Map([['1m', m1]]));
    expect(r.trades[0]!.exitReason).toBe('stop_loss');
    expect(r.summary.ambiguousCandles).toBe(1);
  });

  it('without finer data the hourly candle is ambiguous', () => {
    const r = run(new Map());
    expect(r.summary.ambiguousCandles).toBe(1);
    expect(r.config.drillDown).toEqual([]);
  });
});
