import { describe, expect, it } from 'vitest';
import { openLong, reduce } from '../../src/core/signals.ts';
import { runBacktest } from '../../src/engine/backtest.ts';
import { bars, scripted } from '../helpers.ts';
import { backtestInput, hedgeLegs, ladder, ladderOneBar, MIN, partialReduce, T0, trailActivation, trailAfterLimit, trailPercent } from './feature-cases.ts';

const MAKER = 0.0002;
const TAKER = 0.0005;

describe('trailing stops', () => {
  it('activate at their price, ratchet only after each bar, and exit as trailing_stop', () => {
    const input = backtestInput(trailActivation);
    const r = runBacktest(input);
    // The stop the strategy sees after each bar: none until the bar that reaches 104 (best 105 → 103),
    // then 105 after the bar with the high 107 — that bar itself was checked against 103 (its low 104).
    expect((input.strategy as unknown as { seen: unknown[] }).seen).toEqual([null, null, null, 103, 105, null, null]);
    const t = r.trades[0]!;
    expect(t).toMatchObject({ entryPrice: 101, exitPrice: 105, exitReason: 'trailing_stop', entryTime: T0 + 2 * MIN, exitTime: T0 + 5 * MIN });
    expect(t.pnl).toBeCloseTo(4 - 101 * TAKER - 105 * TAKER, 10);
  });

  it('by percent on a short: 1 % above the lowest low, on the tick', () => {
    const t = runBacktest(backtestInput(trailPercent)).trades[0]!;
    // Entry 100 → stop 101; after the bar with the low 98: 98.98 → 99.0 on the 0.1 tick; hit by the 99.2 high.
    expect(t).toMatchObject({ side: 'short', entryPrice: 100, exitPrice: 99, exitReason: 'trailing_stop', exitTime: T0 + 3 * MIN });
  });

  it('of an entry filled inside a bar: that bar moves them only with what came after the fill (not its high)', () => {
    const t = runBacktest(backtestInput(trailAfterLimit)).trades[0]!;
    // Had the 107 high of the fill bar counted, the stop would have been 105 and the next bar would have exited there.
    expect(t).toMatchObject({ entryPrice: 98, exitPrice: 97.5, exitReason: 'trailing_stop', entryTime: T0 + 3 * MIN, exitTime: T0 + 5 * MIN });
  });

  it('never loosen a tighter fixed stop-loss, which then exits as stop_loss', () => {
    const candles = bars([
      [100, 101, 99, 100],
      [100, 101, 99.5, 100], // long 1 at 100, SL 99, trailing 5 (would be 95)
      [100, 101, 98.5, 99], // SL 99
    ]);
    const r = runBacktest({ ...backtestInput(trailPercent), candles, strategy: scripted({ 1: openLong({ qty: 1, stopLoss: 99, trailingStop: { distance: 5 } }) }) });
    expect(r.trades[0]).toMatchObject({ exitPrice: 99, exitReason: 'stop_loss' });
  });
});

describe('several take-profits', () => {
  it('close their fractions of the entry at each level, then the stop-loss takes the rest; each exit is recorded', () => {
    const r = runBacktest(backtestInput(ladder));
    expect(r.trades).toHaveLength(1);
    const t = r.trades[0]!;
    expect(t).toMatchObject({ qty: 3, entryPrice: 100, exitPrice: 102, exitReason: 'stop_loss', exitTime: T0 + 4 * MIN });
    expect(t.exits).toEqual([
      { ts: T0 + 2 * MIN, price: 104, qty: 1, reason: 'take_profit' },
      { ts: T0 + 3 * MIN, price: 106, qty: 1, reason: 'take_profit' },
      { ts: T0 + 4 * MIN, price: 96, qty: 1, reason: 'stop_loss' },
    ]);
    expect(t.grossPnl).toBeCloseTo(4 + 6 - 4, 10);
    expect(t.fees).toBeCloseTo(300 * TAKER + 104 * MAKER + 106 * MAKER + 96 * TAKER, 10);
    expect(r.summary.finalEquity).toBeCloseTo(10_000 + 6 - t.fees, 8);
  });

  it('both inside one bar: nearest first, then the next', () => {
    const t = runBacktest(backtestInput(ladderOneBar)).trades[0]!;
    expect(t.exits).toEqual([
      { ts: T0 + 2 * MIN, price: 104, qty: 1, reason: 'take_profit' },
      { ts: T0 + 2 * MIN, price: 106, qty: 1, reason: 'take_profit' },
      { ts: T0 + 4 * MIN, price: 105, qty: 1, reason: 'signal' },
    ]);
    expect(t.exitReason).toBe('signal');
  });

  it('the stop-loss and the first target inside one bar: the stop takes all (conservative), once counted', () => {
    const candles = bars([
      [100, 101, 99, 100],
      [100, 101, 99.5, 100],
      [100, 105, 95, 100],
    ]);
    const r = runBacktest({ ...backtestInput(ladder), candles });
    expect(r.trades[0]).toMatchObject({ exitPrice: 96, exitReason: 'stop_loss', qty: 3 });
    expect(r.trades[0]!.exits).toBeUndefined();
    expect(r.summary.ambiguousCandles).toBe(1);
  });

  it('are refused when their fractions sum to more than 1, or a target is on the wrong side', () => {
    expect(() => openLong({ qty: 1, takeProfit: [{ price: 104, fraction: 0.6 }, { price: 106, fraction: 0.5 }] })).toThrow('takeProfit fractions sum to 1.1; they must sum to at most 1');
    const r = runBacktest({ ...backtestInput(ladder), strategy: scripted({ 1: openLong({ qty: 1, takeProfit: [{ price: 104, fraction: 0.5 }, { price: 99, fraction: 0.5 }] }) }) });
    expect(r.rejections[0]).toMatchObject({ reason: 'invalid_levels', detail: 'take-profit 99 is on the wrong side of the entry 100' });
  });
});

describe('reduce', () => {
  it('in hedge mode acts on the named leg only, beside a resting entry that fills on the other leg', () => {
    const r = runBacktest(backtestInput(hedgeLegs));
    const long = r.trades.find((t) => t.side === 'long')!;
    const short = r.trades.find((t) => t.side === 'short')!;
    expect(long).toMatchObject({ positionSide: 'long', qty: 2, entryPrice: 100, exitReason: 'signal' });
    expect(long.exits).toEqual([
      { ts: T0 + 3 * MIN, price: 103, qty: 1, reason: 'signal' },
      { ts: T0 + 4 * MIN, price: 101.5, qty: 1, reason: 'signal' },
    ]);
    expect(short).toMatchObject({ positionSide: 'short', qty: 1, entryPrice: 103, entryTime: T0 + 2 * MIN, exitPrice: 101.5 });
    expect(short.exits).toBeUndefined();
  });

  it('sells part of the position at market, and the trade records both exits', () => {
    const t = runBacktest(backtestInput(partialReduce)).trades[0]!;
    expect(t).toMatchObject({ qty: 2, entryPrice: 100, exitPrice: 104, exitReason: 'signal', exitTime: T0 + 4 * MIN });
    expect(t.exits).toEqual([
      { ts: T0 + 3 * MIN, price: 103, qty: 1, reason: 'signal' },
      { ts: T0 + 4 * MIN, price: 105, qty: 1, reason: 'signal' },
    ]);
    expect(t.pnl).toBeCloseTo(8 - 200 * TAKER - 103 * TAKER - 105 * TAKER, 10);
  });

  it('by quantity, rounded down to the lot; everything or more closes; nothing open is refused', () => {
    const candles = bars([
      [100, 101, 99, 100],
      [100, 101, 99.5, 100],
      [100, 101, 99.5, 101],
      [101, 102, 100.5, 102],
      [102, 102, 101, 101],
    ]);
    const r = runBacktest({ ...backtestInput(partialReduce), candles, strategy: scripted({ 0: reduce({ qty: 1 }), 1: openLong({ qty: 1 }), 2: reduce({ qty: 0.2504 }), 3: reduce({ qty: 5 }) }) });
    expect(r.rejections[0]).toMatchObject({ reason: 'no_position', detail: 'reduce() with no open position' });
    expect(r.trades[0]!.exits).toEqual([
      { ts: T0 + 3 * MIN, price: 101, qty: 0.25, reason: 'signal' },
      { ts: T0 + 4 * MIN, price: 102, qty: 0.75, reason: 'signal' },
    ]);
  });
});
