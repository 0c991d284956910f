export { Strategy, parseParams, type Params, type ParamValue, type SignalOutput, type StrategyClass } from './strategy.ts';
export type { CandleView, Indicators, IndicatorOptions, PortfolioView, StrategyContext } from './context.ts';
export { Atr, Ema, Indicator, LibraryIndicator, Rsi, Sma, type Source, type StreamingLike } from './indicators.ts';
export { close, openLong, openShort, type OpenOptions, type Signal } from '../core/signals.ts';
