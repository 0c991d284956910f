import { describe, expect, it } from 'vitest';
import { computeSummary, dailyReturns, drawdown, drawdownCurve } from './metrics.ts';
import type { TradeRecord } from './results.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;

function trade(pnl: number): TradeRecord {
  return { id: 't', symbol: 'X', side: 'long', positionSide: null, qty: 1, entryPrice: 100, exitPrice: 100 + pnl, entryTime: 0, exitTime: 1, grossPnl: pnl, fees: 0, funding: 0, pnl, pnlPercent: pnl, maxAdverse: 0, exitReason: 'signal', entries: 1 };
}

describe('metrics', () => {
  it('drawdown depth and duration from the running peak', () => {
    const ts = Float64Array.from([0, 1, 2, 3, 4, 5].map((h) => h * HOUR));
    const eq = Float64Array.from([100, 120, 90, 110, 125, 100]);
    const dd = drawdown(ts, eq, HOUR);
    expect(dd.depth).toBeCloseTo(0.25, 12); // 120 → 90
    // below the 120 peak from the end of bar 1 to the end of bar 3 (2 h); then 125 → 100 for 1 h
    expect(dd.duration).toBe(2 * HOUR);
    expect(Array.from(drawdownCurve(eq)).map((x) => Number(x.toFixed(4)))).toEqual([0, 0, -0.25, -0.0833, 0, -0.2]);
  });

  it('daily returns use each UTC day’s last bar', () => {
    const ts = Float64Array.from([0, 12 * HOUR, DAY, DAY + HOUR, 2 * DAY]);
    const eq = Float64Array.from([100, 110, 99, 121, 133.1]);
    expect(dailyReturns(ts, eq, 100).map((r) => Number(r.toFixed(6)))).toEqual([0.1, 0.1, 0.1]);
  });

  it('trade statistics: win rate, profit factor, expectancy, averages', () => {
    const ts = Float64Array.from([0, DAY]);
    const s = computeSummary({ ts, equity: Float64Array.from([100, 130]), barMs: DAY, initialBalance: 100, trades: [trade(20), trade(30), trade(-10), trade(-10)], exposedBars: 1, fees: 1, funding: -0.5, liquidations: 0, rejectedOrders: 2, ambiguousCandles: 3, drilledDownCandles: 1 });
    expect(s.winRate).toBe(0.5);
    expect(s.profitFactor).toBe(2.5);
    expect(s.expectancy).toBe(7.5);
    expect([s.avgWin, s.avgLoss]).toEqual([25, -10]);
    expect(s.totalReturn).toBeCloseTo(0.3, 12);
    expect(s.exposure).toBe(0.5);
    expect(s.cagr).toBeCloseTo(Math.pow(1.3, 365 / 2) - 1, 6);
    expect([s.ambiguousCandles, s.drilledDownCandles, s.rejectedOrders]).toEqual([3, 1, 2]);
  });

  it('Sharpe and Sortino annualise daily returns with √365', () => {
    const ts = Float64Array.from([0, DAY, 2 * DAY, 3 * DAY]);
    const eq = Float64Array.from([101, 100, 102, 101]);
    const r = dailyReturns(ts, eq, 100);
    const mean = r.reduce((a, b) => a + b, 0) / r.length;
    const sd = Math.sqrt(r.reduce((a, b) => a + (b - mean) ** 2, 0) / (r.length - 1));
    const down = Math.sqrt(r.filter((x) => x < 0).reduce((a, b) => a + b * b, 0) / r.length);
    const s = computeSummary({ ts, equity: eq, barMs: DAY, initialBalance: 100, trades: [], exposedBars: 0, fees: 0, funding: 0, liquidations: 0, rejectedOrders: 0, ambiguousCandles: 0, drilledDownCandles: 0 });
    expect(s.sharpe).toBeCloseTo((mean / sd) * Math.sqrt(365), 10);
    expect(s.sortino).toBeCloseTo((mean / down) * Math.sqrt(365), 10);
    expect(s.profitFactor).toBe(0);
  });
});
