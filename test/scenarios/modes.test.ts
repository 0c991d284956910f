import { describe, expect, it } from 'vitest';
import { close, openLong, openShort } from '../../src/core/signals.ts';
import { runBacktest } from '../../src/engine/backtest.ts';
import { bars, scripted } from '../helpers.ts';

const base = { initialBalance: 10_000, exchange: 'test', symbol: 'BTC/USDT:USDT', timeframe: '1m', makerFeeBps: 0, takerFeeBps: 0 } as const;
const candles = bars([
  [100, 100, 100, 100], // open long 1 @ 100
  [100, 100, 100, 110], // open short 1 @ 110
  [110, 110, 110, 105], // close short (hedge) / close all (one-way)
  [105, 105, 105, 120],
]);

describe('one-way mode', () => {
  it('an opposite open closes the position and opens the new one', () => {
    const r = runBacktest({ ...base, candles, strategy: scripted({ 0: openLong({ qty: 1 }), 1: openShort({ qty: 1 }), 2: close() }) });
    expect(r.trades.map((t) => [t.side, t.entryPrice, t.exitPrice, t.exitReason])).toEqual([
      ['long', 100, 110, 'flip'],
      ['short', 110, 105, 'signal'],
    ]);
    expect(r.summary.finalEquity).toBe(10_015);
  });
  it('positionSide is refused outside hedge mode (recorded, not thrown)', () => {
    const r = runBacktest({ ...base, candles, strategy: scripted({ 0: openLong({ qty: 1, positionSide: 'long' }) }) });
    expect(r.rejections[0]).toMatchObject({ reason: 'hedge_mode_required' });
  });
});

describe('hedge mode', () => {
  it('openShort leaves the long open; each leg closes on its own', () => {
    const r = runBacktest({
      ...base,
      candles,
      strategy: scripted({ 0: openLong({ qty: 1 }), 1: openShort({ qty: 1 }), 2: close({ positionSide: 'short' }) }, { mode: 'hedge' }),
    });
    // short 110 → 105 closed at bar 2 (+5); long 100 held to the end, closed at the last close 120 (+20).
    expect(r.trades.map((t) => [t.side, t.positionSide, t.entryPrice, t.exitPrice, t.exitReason])).toEqual([
      ['short', 'short', 110, 105, 'signal'],
      ['long', 'long', 100, 120, 'end_of_data'],
    ]);
    expect(r.summary.finalEquity).toBe(10_025);
    expect(r.config.positionMode).toBe('hedge');
  });
  it('an open on the other leg is refused', () => {
    const r = runBacktest({ ...base, candles, strategy: scripted({ 0: openLong({ qty: 1, positionSide: 'short' }) }, { mode: 'hedge' }) });
    expect(r.rejections[0]).toMatchObject({ reason: 'hedge_mode_required' });
  });
});
