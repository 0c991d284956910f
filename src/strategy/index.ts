export { Strategy, parseParams, type Params, type ParamValue, type SignalOutput, type StrategyClass } from './strategy.ts';
export type { CandleView, Indicators, IndicatorOptions, PlotOptions, PortfolioView, RestingOrderView, RiskSizing, StrategyContext } from './context.ts';
export { Atr, Ema, Indicator, LibraryIndicator, Rsi, Sma, type Source, type StreamingLike } from './indicators.ts';
export { cancel, close, openLong, openShort, reduce, type OpenOptions, type ReduceOptions, type Signal, type TakeProfitTarget, type TrailingStopOptions } from '../core/signals.ts';
