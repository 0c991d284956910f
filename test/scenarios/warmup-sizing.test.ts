import { describe, expect, it } from 'vitest';
import { runBacktest } from '../../src/engine/backtest.ts';
import { serializeResults } from '../../src/report/results.ts';
import { warmupOf } from '../../src/strategy/strategy.ts';
import { backtestInput, MIN, riskSized, T0, warmup } from './feature-cases.ts';

const TAKER = 0.0005;

describe('warm-up', () => {
  it('feeds indicators and views before the start, calls the strategy only from the start, and records results from there', () => {
    const input = backtestInput(warmup);
    const r = runBacktest(input);
    const seen = (input.strategy as unknown as { seen: unknown[] }).seen;
    // The first call is on candle 3 with the SMA(3) of candles 1–3 ready and the warm-up candles in the view.
    expect(seen[0]).toEqual({ time: T0 + 4 * MIN, sma: 14, candles: 4 });
    expect(seen).toHaveLength(3);
    expect(r.trades).toHaveLength(1);
    expect(r.trades[0]).toMatchObject({ entryPrice: 16, entryTime: T0 + 4 * MIN, exitPrice: 18, exitTime: T0 + 6 * MIN });
    expect(r.candles.length).toBe(3);
    expect(r.candles.ts[0]).toBe(T0 + 3 * MIN);
    expect(r.equity.length).toBe(3);
    expect(r.config).toMatchObject({ from: T0 + 3 * MIN, warmup: 3 });
    expect(JSON.parse(serializeResults(r)).config).toMatchObject({ from: T0 + 3 * MIN, fromIso: '2024-01-01T00:03:00.000Z', warmup: 3 });
  });

  it('without warm-up the same strategy waits for its SMA inside the run', () => {
    const input = { ...backtestInput(warmup), tradeFrom: undefined };
    const r = runBacktest(input);
    expect(r.trades[0]).toMatchObject({ entryPrice: 14, entryTime: T0 + 3 * MIN });
    expect(r.config.warmup).toBeUndefined();
    expect(serializeResults(r)).not.toContain('warmup');
  });

  it('a warm-up that leaves no candle to trade is refused', () => {
    expect(() => runBacktest({ ...backtestInput(warmup), tradeFrom: T0 + 60 * MIN })).toThrow('no candles in the requested range');
  });

  it('is read from the strategy field or a static one, whichever is larger', () => {
    expect(warmupOf(warmup.strategy())).toBe(3);
  });
});

describe('sizeByRisk', () => {
  it('sizes so that the stop loses the given percent of equity (fees on top)', () => {
    const input = backtestInput(riskSized);
    const r = runBacktest(input);
    // 10,000 × 1 % ÷ |100 − 97| = 33.333… → 33.333 on the 0.001 lot; an equal stop and entry sizes 0.
    expect((input.strategy as unknown as { seen: unknown[] }).seen).toEqual([33.333, 0]);
    const t = r.trades[0]!;
    expect(t).toMatchObject({ qty: 33.333, entryPrice: 100, exitPrice: 97, exitReason: 'stop_loss' });
    expect(t.grossPnl).toBeCloseTo(-99.999, 9);
    expect(t.fees).toBeCloseTo(33.333 * 100 * TAKER + 33.333 * 97 * TAKER, 9);
  });
});
