import { allocCandles, type CandleColumns } from '../core/candles.ts';
import type { Summary, TradeRecord } from '../core/results.ts';
import type { BacktestConfig, BacktestResult } from '../engine/result.ts';

/** 2024-03-01T00:00:00Z (epoch ms), start of the test fixtures. */
export const FIXTURE_START = Date.UTC(2024, 2, 1);

const MINUTE = 60_000;

/** Test-only: `n` deterministic 1m candles (a slow sine wave around 100 with wicks) from `start`. */
export function syntheticCandles(n: number, start = FIXTURE_START, stepMs = MINUTE): CandleColumns {
  const c = allocCandles(n);
  let prev = 100;
  for (let i = 0; i < n; i++) {
    const close = 100 + 5 * Math.sin(i / 40) + 0.37 * Math.sin(i * 1.7);
    c.ts[i] = start + i * stepMs;
    c.open[i] = prev;
    c.high[i] = Math.max(prev, close) + 0.15;
    c.low[i] = Math.min(prev, close) - 0.15;
    c.close[i] = close;
    c.volume[i] = 10 + (i % 7);
    c.cvd[i] = i;
    prev = close;
  }
  return c;
}

/** Test-only: a closed trade with sensible defaults. */
export function trade(over: Partial<TradeRecord> & Pick<TradeRecord, 'id' | 'entryTime' | 'exitTime'>): TradeRecord {
  return {
    symbol: 'BTC/USDT:USDT', side: 'long', positionSide: null, qty: 0.5, entryPrice: 100.25, exitPrice: 103.5,
    grossPnl: 1.625, fees: 0.1, funding: -0.01, pnl: 1.515, pnlPercent: 3.0224, maxAdverse: 0.4,
    exitReason: 'take_profit', entries: 1, ...over,
  };
}

/** Test-only: a summary with every field set to a distinct value. */
export const FIXTURE_SUMMARY: Summary = {
  initialBalance: 1000, finalEquity: 1002.015, totalReturn: 0.002015, cagr: 0.11, maxDrawdown: 0.0123,
  maxDrawdownDuration: 3_600_000, sharpe: 1.25, sortino: 1.9, calmar: 8.9, trades: 3, winRate: 2 / 3,
  profitFactor: 3.01, expectancy: 0.67, avgWin: 1.5, avgLoss: -1, exposure: 0.42, fees: 0.3, funding: -0.03,
  liquidations: 0, rejectedOrders: 1, ambiguousCandles: 2, drilledDownCandles: 5,
};

/** Test-only: a config for the fixtures. */
export function fixtureConfig(candles: CandleColumns, over: Partial<BacktestConfig> = {}): BacktestConfig {
  return {
    strategy: 'SmaCross', params: { slow: 200, fast: 50, useStop: true }, exchange: 'binance',
    symbol: 'BTC/USDT:USDT', timeframe: '1m', timeframes: ['1m', '1h'], from: candles.ts[0] ?? 0,
    to: candles.ts[candles.length - 1] ?? 0, initialBalance: 1000, leverage: 3, makerFeeBps: 2, takerFeeBps: 5,
    slippageBps: 1, funding: 0.0001, fill: 'close', slTpPolicy: 'conservative', positionMode: 'oneway',
    maintenanceMarginRate: 0.005, drillDown: ['1m'], seed: null, ...over,
  };
}

/** Test-only: a hand-built result over `n` candles with three trades and an equity curve that follows price. */
export function fixtureResult(n = 600, over: Partial<BacktestConfig> = {}): BacktestResult {
  const candles = syntheticCandles(n);
  const t = (i: number): number => FIXTURE_START + i * MINUTE;
  const trades: TradeRecord[] = [
    trade({ id: 'T1', entryTime: t(10), exitTime: t(95) }),
    trade({ id: 'T2', side: 'short', entryTime: t(130), exitTime: t(250), entryPrice: 104.1, exitPrice: 105.05,
      grossPnl: -0.475, pnl: -0.585, pnlPercent: -1.124, exitReason: 'stop_loss', entries: 2 }),
    trade({ id: 'T3', entryTime: t(300), exitTime: t(n - 1), exitReason: 'end_of_data', pnl: 1.085 }),
  ];
  const equity = new Float64Array(n);
  for (let i = 0; i < n; i++) equity[i] = 1000 + ((candles.close[i] as number) - 100) * 0.5;
  return {
    config: fixtureConfig(candles, over),
    summary: FIXTURE_SUMMARY,
    trades,
    rejections: [{ ts: t(200), symbol: 'BTC/USDT:USDT', side: 'long', reason: 'insufficient_margin', detail: 'need 10, have 5' }],
    candles,
    equity,
    forcedCloses: 1,
  };
}

/**
 * Test-only: `fixtureResult(n)` with `trades` round trips spread over the run (alternating sides, 5 candles
 * long) and two plotted series: a 20-candle mean of the close in magenta, and the close + 3 in the palette
 * colour, given only on even candles.
 */
export function plottedResult(n: number, trades: number): BacktestResult {
  const base = fixtureResult(n);
  const c = base.candles;
  const mean = new Float64Array(n).fill(Number.NaN);
  const upper = new Float64Array(n).fill(Number.NaN);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum += c.close[i] as number;
    if (i >= 20) sum -= c.close[i - 20] as number;
    if (i >= 19) mean[i] = sum / 20;
    if (i % 2 === 0) upper[i] = (c.close[i] as number) + 3;
  }
  const step = Math.floor(n / trades);
  const list: TradeRecord[] = [];
  for (let k = 0; k < trades; k++) {
    const at = FIXTURE_START + k * step * MINUTE;
    list.push(trade({ id: `T${k}`, side: k % 2 ? 'short' : 'long', entryTime: at, exitTime: at + 5 * MINUTE, pnl: (k % 3) - 1 }));
  }
  return {
    ...base,
    trades: list,
    plots: [
      { name: 'mean <20>', color: '#ff00ff', values: mean },
      { name: 'close + 3', color: null, values: upper },
    ],
  };
}
