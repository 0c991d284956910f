/** Statistics for the research loop: is a backtest's edge skill or luck? */
export { kurtosis, mean, moments, normalCdf, normalInverseCdf, quantileSorted, sampleStd, sampleVariance, skewness } from './normal.ts';
export type { Moments, Sample } from './normal.ts';
export { EULER_MASCHERONI, deflatedSharpe, expectedMaxSharpe, probabilisticSharpe, probabilisticSharpeZ } from './deflated-sharpe.ts';
export type { DeflatedSharpeInput, DeflatedSharpeResult, ExpectedMaxSharpeInput, ProbabilisticSharpeInput } from './deflated-sharpe.ts';
export { binomial, probabilityOfBacktestOverfitting } from './pbo.ts';
export type { PboInput, PboMetric, PboResult } from './pbo.ts';
export { monteCarloTrades } from './monte-carlo.ts';
export type { MonteCarloInput, MonteCarloMode, MonteCarloResult, Percentiles } from './monte-carlo.ts';
