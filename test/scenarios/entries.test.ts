import { describe, expect, it } from 'vitest';
import { cancel, openLong, openShort, type Signal } from '../../src/core/signals.ts';
import { runBacktest } from '../../src/engine/backtest.ts';
import { bars, scripted } from '../helpers.ts';
import { backtestInput, limitCancel, limitExpiry, limitGap, limitNextOpen, limitTouch, MIN, stopGap, stopThenStopLoss, T0 } from './feature-cases.ts';

const MAKER = 0.0002;
const TAKER = 0.0005;

describe('limit entries', () => {
  it('rest until a later candle trades through the limit, fill at the limit as a maker, and take no profit on the fill bar', () => {
    const r = runBacktest(backtestInput(limitTouch));
    expect(r.trades).toHaveLength(1);
    const t = r.trades[0]!;
    // Bar 3 (low 97) fills at 98; its high 107 is not a take-profit (it may have come before the fill); bar 4 is.
    expect(t).toMatchObject({ side: 'long', qty: 1, entryPrice: 98, exitPrice: 106, exitReason: 'take_profit', entryTime: T0 + 3 * MIN, exitTime: T0 + 4 * MIN });
    expect(t.fees).toBeCloseTo(98 * MAKER + 106 * MAKER, 12);
    expect(t.pnl).toBeCloseTo(8 - 98 * MAKER - 106 * MAKER, 12);
    expect(r.orders).toEqual([
      { id: 'ord-000001', label: null, side: 'long', type: 'limit', price: 98, positionSide: null, placedAt: T0 + 2 * MIN, status: 'filled', closedAt: T0 + 3 * MIN, fillPrice: 98, reason: null },
    ]);
    // Equity: flat until the fill, then marked at the close of bar 3 (99): +1 − the maker fee.
    expect(r.equity[2]).toBe(10_000);
    expect(r.equity[3]).toBeCloseTo(10_000 + 1 - 98 * MAKER, 10);
  });

  it('fill at the open when a candle opens beyond the limit, and check the whole candle after it', () => {
    const r = runBacktest(backtestInput(limitGap));
    const t = r.trades[0]!;
    expect(t).toMatchObject({ entryPrice: 96, exitPrice: 106, exitReason: 'take_profit', entryTime: T0 + 3 * MIN, exitTime: T0 + 3 * MIN });
    expect(t.pnl).toBeCloseTo(10 - 96 * MAKER - 106 * MAKER, 12);
    expect(r.orders?.[0]).toMatchObject({ status: 'filled', fillPrice: 96 });
  });

  for (const expiry of [{ expiresAfter: 2 }, { expiresIn: '2m' }] as const) {
    it(`expire unfilled (${JSON.stringify(expiry)}): a candle after the expiry does not fill them`, () => {
      const r = runBacktest(backtestInput(limitExpiry(expiry)));
      expect(r.trades).toEqual([]);
      expect(r.orders).toEqual([
        { id: 'ord-000001', label: null, side: 'long', type: 'limit', price: 98, positionSide: null, placedAt: T0 + 2 * MIN, status: 'expired', closedAt: T0 + 4 * MIN, fillPrice: null, reason: null },
      ]);
    });
  }

  it('with next-open fills are placed at the next open, and that candle can fill them', () => {
    const r = runBacktest(backtestInput(limitNextOpen));
    expect(r.orders?.[0]).toMatchObject({ placedAt: T0 + 2 * MIN, status: 'filled', closedAt: T0 + 2 * MIN, fillPrice: 98 });
    expect(r.trades[0]).toMatchObject({ entryPrice: 98, entryTime: T0 + 2 * MIN, exitPrice: 98.5, exitTime: T0 + 4 * MIN, exitReason: 'signal' });
  });

  it('stay open while not reached, and end with the data', () => {
    const r = runBacktest({ ...backtestInput(limitTouch), candles: bars([[100, 101, 99, 100], [100, 102, 99, 101], [101, 102, 99, 100]]) });
    expect(r.trades).toEqual([]);
    expect(r.orders?.[0]).toMatchObject({ status: 'canceled', reason: 'end of data', closedAt: T0 + 3 * MIN });
  });

  it('are listed by ctx.orders() and canceled by label', () => {
    const c = limitCancel;
    const input = backtestInput(c);
    const r = runBacktest(input);
    expect((input.strategy as unknown as { seen: unknown[] }).seen).toEqual([[{ id: 'ord-000001', label: 'dip', price: 98, side: 'long', type: 'limit' }], 0]);
    expect(r.trades).toEqual([]);
    expect(r.orders?.[0]).toMatchObject({ status: 'canceled', reason: 'canceled by the strategy', closedAt: T0 + 3 * MIN });
  });

  it('refuse options they do not know, and expiries without a resting order (nothing is silently ignored)', () => {
    expect(() => openLong({ qty: 1, stoploss: 95 } as never)).toThrow('openLong: unknown option "stoploss"; the options are percent, qty, stopLoss, takeProfit, trailingStop, limit, stop, expiresIn, expiresAfter, label, positionSide, symbol');
    expect(() => openShort({ qty: 1, expiresIn: '1h' })).toThrow('expiresIn / expiresAfter apply to resting entries: give limit or stop too');
    expect(() => openShort({ qty: 1, limit: 105, expiresIn: 'soon' })).toThrow(`expiresIn must be a positive duration in ms or like '15m', '4h', '2d', got "soon"`);
    expect((openLong({ qty: 1, limit: 98, expiresIn: '1.5h' }) as Extract<Signal, { kind: 'open' }>).entry).toEqual({ type: 'limit', price: 98, expiresInMs: 5_400_000, expiresAfter: null, label: null });
  });

  it('are refused on the side of the market that would fill at once, and a cancel of nothing is refused', () => {
    const r = runBacktest({
      ...backtestInput(limitTouch),
      strategy: scripted({ 1: [openLong({ qty: 1, limit: 101 }), openShort({ qty: 1, stop: 102 }), openLong({ qty: 1, limit: 98, stopLoss: 99 }), cancel('nope'), cancel()] }),
    });
    expect(r.rejections.map((x) => [x.reason, x.detail])).toEqual([
      ['invalid_levels', 'a limit buy at 101 is at or above the market 101 and would fill at once; use a market open or a stop'],
      ['invalid_levels', 'a stop sell at 102 is at or above the market 101 and would fill at once; use a market open or a limit'],
      ['invalid_levels', 'stop-loss 99 is on the wrong side of the entry 98'],
      ['no_order', 'no resting order nope'],
      ['no_order', 'cancel() with no resting order'],
    ]);
    expect(r.orders).toBeUndefined();
  });
});

describe('stop entries', () => {
  it('fill at the open when a candle gaps through the stop, with slippage and the taker fee', () => {
    const r = runBacktest(backtestInput(stopGap));
    const t = r.trades[0]!;
    // 93 × (1 − 0.001) = 92.907, on the 0.1 tick: 92.9.
    expect(t).toMatchObject({ side: 'short', entryPrice: 92.9, exitPrice: 90, exitReason: 'take_profit', entryTime: T0 + 3 * MIN, exitTime: T0 + 4 * MIN });
    expect(t.pnl).toBeCloseTo(2.9 - 92.9 * TAKER - 90 * MAKER, 10);
    expect(r.orders?.[0]).toMatchObject({ type: 'stop', status: 'filled', fillPrice: 93 });
  });

  it('take the stop-loss on the fill bar when the bar reaches it (it may have come after the trigger), counted as ambiguous', () => {
    const r = runBacktest(backtestInput(stopThenStopLoss));
    const t = r.trades[0]!;
    expect(t).toMatchObject({ entryPrice: 103, exitPrice: 100, exitReason: 'stop_loss', entryTime: T0 + 2 * MIN, exitTime: T0 + 2 * MIN });
    expect(t.pnl).toBeCloseTo(-3 - 103 * TAKER - 100 * TAKER, 10);
    expect(t.maxAdverse).toBe(0); // closed on its fill bar
    expect(r.summary.ambiguousCandles).toBe(1);
  });

  it('with finer cached candles, the finer candle of the trigger decides what follows it', () => {
    // Hourly bars; the 1m data shows the low came before the trigger, so the stop-loss is not hit.
    const H = 60 * MIN;
    const hourly = bars([[100, 101, 99, 100], [100, 102, 99, 101], [101, 104, 99.5, 102], [102, 103, 101, 102]], T0, H);
    const m1 = bars([[101, 101, 99.5, 100], [100, 104, 100.5, 103.5], [103.5, 103.5, 102, 102]], T0 + 2 * H);
    const r = runBacktest({
      ...backtestInput(stopThenStopLoss),
      candles: hourly,
      timeframe: '1h',
      finer: new Map([['1m', m1]]),
      strategy: scripted({ 1: openLong({ qty: 1, stop: 103, stopLoss: 100 }) }, { timeframes: ['1h'] }),
    });
    const t = r.trades[0]!;
    expect(t).toMatchObject({ entryPrice: 103, entryTime: T0 + 2 * H + MIN, exitReason: 'end_of_data', exitPrice: 102 });
    expect(r.summary.ambiguousCandles).toBe(0);
  });
});
