import { describe, expect, it } from 'vitest';
import { close, openLong, openShort } from '../../src/core/signals.ts';
import { runBacktest, type BacktestInput } from '../../src/engine/backtest.ts';
import { bars, MIN, scripted, T0 } from '../helpers.ts';

const costs = { makerFeeBps: 2, takerFeeBps: 5, slippageBps: 0, initialBalance: 10_000, exchange: 'test', symbol: 'BTC/USDT:USDT', timeframe: '1m' } as const;
type Extra = Partial<BacktestInput> & Pick<BacktestInput, 'strategy' | 'candles'>;
const run = (x: Extra) => runBacktest({ ...costs, ...x });

describe('fills at the signal close (default)', () => {
  const candles = bars([
    [100, 101, 99, 100],
    [100, 102, 99, 101], // signal: long 1 @ close 101, SL 95, TP 110
    [101, 105, 100, 104],
    [104, 111, 103, 109], // TP 110 hit
    [109, 110, 108, 109],
  ]);
  it('enters at the close, exits at the take-profit with maker fee', () => {
    const r = run({ candles, strategy: scripted({ 1: openLong({ qty: 1, stopLoss: 95, takeProfit: 110 }) }) });
    expect(r.trades).toHaveLength(1);
    const t = r.trades[0]!;
    expect(t).toMatchObject({ side: 'long', qty: 1, entryPrice: 101, exitPrice: 110, exitReason: 'take_profit', entryTime: T0 + 2 * MIN, exitTime: T0 + 3 * MIN });
    expect(t.grossPnl).toBeCloseTo(9, 10);
    expect(t.fees).toBeCloseTo(101 * 0.0005 + 110 * 0.0002, 10); // 0.0505 + 0.022
    expect(t.pnl).toBeCloseTo(8.9275, 10);
    expect(r.summary.finalEquity).toBeCloseTo(10_008.9275, 8);
    expect(r.equity[1]).toBeCloseTo(10_000 - 0.0505, 10);
    expect(r.equity[2]).toBeCloseTo(10_000 - 0.0505 + 3, 10); // marked at close 104
    expect(r.summary.exposure).toBeCloseTo(2 / 5, 10); // open at the end of bars 1 and 2
  });

  it('next-open fills at the following open, never at the signal candle', () => {
    const c2 = bars([
      [100, 101, 99, 100],
      [100, 102, 99, 101],
      [102, 105, 100, 104], // fill at this open: 102
      [104, 111, 103, 109],
    ]);
    const r = run({ candles: c2, fill: 'next-open', strategy: scripted({ 1: openLong({ qty: 1, stopLoss: 95, takeProfit: 110 }) }) });
    const t = r.trades[0]!;
    expect([t.entryPrice, t.entryTime, t.exitPrice]).toEqual([102, T0 + 2 * MIN, 110]);
    expect(t.pnl).toBeCloseTo(8 - 102 * 0.0005 - 110 * 0.0002, 10);
  });

  it('a candle that opens beyond the stop fills at the open, with slippage against the trader', () => {
    const c3 = bars([
      [100, 101, 99, 100],
      [100, 102, 99, 101],
      [94, 96, 93, 95], // gap below SL 95
    ]);
    const r = run({ candles: c3, slippageBps: 10, strategy: scripted({ 1: openLong({ qty: 1, stopLoss: 95, takeProfit: 110 }) }) });
    const t = r.trades[0]!;
    expect(t.entryPrice).toBeCloseTo(101.101, 10);
    expect(t.exitPrice).toBeCloseTo(93.906, 10);
    expect(t.exitReason).toBe('stop_loss');
    expect(t.pnl).toBeCloseTo(93.906 - 101.101 - 101.101 * 0.0005 - 93.906 * 0.0005, 10);
  });

  it('a close signal exits at the close with taker fee; percent sizing uses equity × leverage', () => {
    const c4 = bars([
      [100, 101, 99, 100], // long 10 % of 10,000 at 2x → notional 2,000 → 20 @ 100
      [100, 102, 99, 101],
      [101, 103, 100, 102], // close @ 102
    ]);
    const r = run({ candles: c4, leverage: 2, lot: 0.001, strategy: scripted({ 0: openLong({ percent: 10 }), 2: close() }) });
    const t = r.trades[0]!;
    // 10 % of equity 10,000 → 1,000 margin → 2,000 notional at 2x → 20 units at 100.
    expect([t.qty, t.entryPrice, t.exitPrice, t.exitReason]).toEqual([20, 100, 102, 'signal']);
    expect(t.grossPnl).toBeCloseTo(40, 10);
    expect(t.fees).toBeCloseTo(20 * 100 * 0.0005 + 20 * 102 * 0.0005, 10);
  });

  it('funding is paid every 8 h at 00/08/16 UTC by positions held then (long pays a positive rate)', () => {
    const start = Date.UTC(2024, 0, 1, 7, 57);
    const c5 = bars(
      [
        [100, 100, 100, 100], // 07:57 long 2 @ 100
        [100, 100, 100, 100], // 07:58
        [100, 100, 100, 100], // 07:59
        [100, 100, 100, 100], // 08:00 funding at open 100: 2 × 100 × 0.0001 = 0.02 paid
        [100, 100, 100, 100], // 08:01 close
      ],
      start,
    );
    const r = run({ candles: c5, funding: 0.0001, makerFeeBps: 0, takerFeeBps: 0, strategy: scripted({ 0: openLong({ qty: 2 }), 4: close() }) });
    expect(r.trades[0]!.funding).toBeCloseTo(-0.02, 12);
    expect(r.summary.funding).toBeCloseTo(-0.02, 12);
    expect(r.summary.finalEquity).toBeCloseTo(10_000 - 0.02, 10);
    const s = run({ candles: c5, funding: 0.0001, makerFeeBps: 0, takerFeeBps: 0, strategy: scripted({ 0: openShort({ qty: 2 }), 4: close() }) });
    expect(s.trades[0]!.funding).toBeCloseTo(0.02, 12);
  });

  it('a funding series applies the rate in force at each funding time', () => {
    // Candles every hour from 07:00 to 17:00 UTC; long 1 @ 100 held throughout; closes at 100.
    const start = Date.UTC(2024, 0, 1, 7);
    const rows = Array.from({ length: 11 }, () => [100, 100, 100, 100] as [number, number, number, number]);
    const hourly = bars(rows, start, 60 * MIN);
    // 0.0003 from 06:00 (in force at 08:00), -0.0001 from 12:00 (in force at 16:00): long pays 0.03, receives 0.01.
    const funding = { ts: Float64Array.from([Date.UTC(2024, 0, 1, 6), Date.UTC(2024, 0, 1, 12)]), rate: Float64Array.from([0.0003, -0.0001]) };
    const r = run({ candles: hourly, timeframe: '1h', funding, makerFeeBps: 0, takerFeeBps: 0, strategy: scripted({ 0: openLong({ qty: 1 }), 10: close() }, { timeframes: ['1h'] }) });
    expect(r.trades[0]!.funding).toBeCloseTo(-0.03 + 0.01, 12);
    expect(r.config.funding).toBe('series');
  });

  it('an order beyond the margin is a rejected event, not a throw', () => {
    const c6 = bars([
      [100, 101, 99, 100],
      [100, 101, 99, 100],
    ]);
    const r = run({ candles: c6, initialBalance: 100, strategy: scripted({ 0: openLong({ qty: 10 }) }) });
    expect(r.trades).toHaveLength(0);
    expect(r.rejections).toHaveLength(1);
    expect(r.rejections[0]).toMatchObject({ reason: 'insufficient_margin', side: 'long' });
    expect(r.summary.rejectedOrders).toBe(1);
    expect(r.summary.finalEquity).toBe(100);
    const ok = run({ candles: c6, initialBalance: 100, leverage: 20, strategy: scripted({ 0: openLong({ qty: 10 }) }) });
    expect(ok.rejections).toHaveLength(0);
    expect(ok.trades).toHaveLength(1); // closed at the end of data
    expect(ok.trades[0]!.exitReason).toBe('end_of_data');
  });

  it('isolated margin: a long at 10x is liquidated at entry × (1 − 1/10 + mmr) unless its stop comes first', () => {
    const c7 = bars([
      [100, 100, 100, 100], // long 1 @ 100, 10x → liquidation 90.5
      [99, 99.5, 90, 91],
    ]);
    const r = run({ candles: c7, initialBalance: 1000, leverage: 10, maintenanceMarginRate: 0.005, strategy: scripted({ 0: openLong({ qty: 1 }) }) });
    expect(r.trades[0]).toMatchObject({ exitReason: 'liquidation', exitPrice: 90.5 });
    expect(r.summary.liquidations).toBe(1);
    const sl = run({ candles: c7, initialBalance: 1000, leverage: 10, strategy: scripted({ 0: openLong({ qty: 1, stopLoss: 92 }) }) });
    expect(sl.trades[0]).toMatchObject({ exitReason: 'stop_loss', exitPrice: 92 });
    expect(sl.summary.liquidations).toBe(0);
  });

  it('refuses a stop-loss on the wrong side of the entry', () => {
    const r = run({ candles: bars([[100, 101, 99, 100]]), strategy: scripted({ 0: openLong({ qty: 1, stopLoss: 105 }) }) });
    expect(r.rejections[0]).toMatchObject({ reason: 'invalid_levels' });
  });
});
