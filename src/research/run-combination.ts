import type { CandleColumns } from '../core/candles.ts';
import { dailyReturns } from '../core/metrics.ts';
import type { Summary } from '../core/results.ts';
import type { Timeframe } from '../core/timeframe.ts';
import { runBacktest, type BacktestInput } from '../engine/backtest.ts';
import type { BacktestResult } from '../engine/result.ts';
import type { SeriesCache } from '../strategy/series-cache.ts';
import type { StrategyClass } from '../strategy/strategy.ts';
import { GatedStrategy } from './gate.ts';
import type { Combination } from './space.ts';

/** The account, costs and fill rules every combination of a sweep shares (fees and slippage in bps). */
export type RunSettings = Omit<BacktestInput, 'strategy' | 'strategyName' | 'exchange' | 'symbol' | 'candles' | 'timeframe' | 'finer' | 'stopwatch' | 'onProgress' | 'seriesCache'>;

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

/** How a walk-forward test run differs from a sweep's: its signals wait until `openAt`, from its own balance. */
export interface RunOverrides {
  /** Epoch ms: signals of candles closing at or before it are dropped (GatedStrategy). */
  readonly openAt?: number;
  /** Starting balance (quote) instead of the settings' one. */
  readonly initialBalance?: number;
}

/**
 * Backtests one combination exactly as `halyard backtest --param …` does (the strategy's defaults fill the
 * rest), reading shared indicator series from `cache` when given.
 */
export function runCombination(Cls: StrategyClass, params: Combination, market: RunMarket, settings: RunSettings, cache?: SeriesCache, over: RunOverrides = {}): BacktestResult {
  const inner = new Cls(params);
  const strategy = over.openAt === undefined ? inner : new GatedStrategy(inner, over.openAt);
  const initialBalance = over.initialBalance ?? settings.initialBalance;
  return runBacktest({ ...settings, initialBalance, strategy, exchange: market.exchange, symbol: market.symbol, candles: market.candles, timeframe: market.timeframe, finer: market.finer, seriesCache: cache });
}

/** The summary and daily returns of a run. */
export function comboResult(r: BacktestResult): ComboResult {
  return { summary: r.summary, daily: Float64Array.from(dailyReturns(r.candles.ts, r.equity, r.config.initialBalance)) };
}
