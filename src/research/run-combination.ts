import type { CandleColumns } from '../core/candles.ts';
import { dailyReturns } from '../core/metrics.ts';
import type { Summary } from '../core/results.ts';
import type { Timeframe } from '../core/timeframe.ts';
import { runBacktest, type BacktestInput } from '../engine/backtest.ts';
import type { BacktestResult } from '../engine/result.ts';
import type { SeriesCache } from '../strategy/series-cache.ts';
import type { StrategyClass } from '../strategy/strategy.ts';
import type { Combination } from './space.ts';

/** The account, costs and fill rules every combination of a sweep shares (fees and slippage in bps). */
export type RunSettings = Omit<BacktestInput, 'strategy' | 'strategyName' | 'exchange' | 'symbol' | 'candles' | 'timeframe' | 'finer' | 'stopwatch' | 'onProgress' | 'seriesCache' | 'tradeFrom'>;

/** The candles a combination runs on. */
export interface RunMarket {
  readonly exchange: string;
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly candles: CandleColumns;
  readonly finer: ReadonlyMap<Timeframe, CandleColumns>;
}

/** What a sweep keeps of one run: its summary and its daily returns (for the overfitting statistics). */
export interface ComboResult {
  readonly summary: Summary;
  /** Simple return of each UTC day (fraction), as `dailyReturns` computes them. */
  readonly daily: Float64Array;
}

/** What differs between the runs of a sweep besides the parameters. */
export interface RunOverrides {
  /** Open time (epoch ms) of the first trading candle: the candles before it only warm up (the engine's warm-up). */
  readonly tradeFrom?: number;
  /** Starting balance (quote) instead of the settings' one (a walk-forward test window's). */
  readonly initialBalance?: number;
}

/**
 * Backtests one combination exactly as `halyard backtest --param …` does (the strategy's defaults fill the
 * rest), reading shared indicator series from `cache` when given.
 */
export function runCombination(Cls: StrategyClass, params: Combination, market: RunMarket, settings: RunSettings, cache?: SeriesCache, over: RunOverrides = {}): BacktestResult {
  const initialBalance = over.initialBalance ?? settings.initialBalance;
  return runBacktest({
    ...settings, initialBalance, strategy: new Cls(params), exchange: market.exchange, symbol: market.symbol, candles: market.candles, timeframe: market.timeframe,
    finer: market.finer, seriesCache: cache, ...(over.tradeFrom !== undefined ? { tradeFrom: over.tradeFrom } : {}),
  });
}

/** The summary and daily returns of a run (over its trading candles). */
export function comboResult(r: Pick<BacktestResult, 'summary' | 'candles' | 'equity' | 'config'>): ComboResult {
  return { summary: r.summary, daily: Float64Array.from(dailyReturns(r.candles.ts, r.equity, r.config.initialBalance)) };
}
