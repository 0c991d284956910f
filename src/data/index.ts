// The data layer: the Parquet candle cache, CSV import, the synthetic generator. The ccxt parts (history
// fetch, live feed, market-data exchanges) load ccxt, a large module: import them from their own files
// (fetch.ts, live-feed.ts, ccxt-exchange.ts) where they are used, so a backtest never pays for it.
export {
  cachePath,
  listCache,
  mergeCandles,
  readCacheMeta,
  readCandles,
  symbolDir,
  writeCandles,
  type CacheEntry,
  type CacheMeta,
  type ReadRange,
} from './cache.ts';
export { checkCoverage, coverageOf, readCovering, type Coverage, type Span } from './coverage.ts';
export type { MarketDataExchangeId, MarketDataExchangeOptions } from './ccxt-exchange.ts';
export { importCsv, parseKlineCsv, type ImportCsvOptions, type ImportCsvResult, type ParsedKlines } from './csv.ts';
export type { FetchHistoryOptions, FetchProgress, FetchRequests, FetchSummary } from './fetch.ts';
export { missingRanges, type TimeRange } from './fetch-ranges.ts';
export type { LiveCandle, LiveCandleFeedOptions, LiveFeedEvent } from './live-feed.ts';
export type { CvdMethod } from './ohlcv-source.ts';
export type { OpenInterestSummary } from './open-interest.ts';
export type { BackoffPolicy, RetryDeps } from './retry.ts';
export { SYNTHETIC_DEFAULT_FROM, syntheticCandles, type SyntheticOptions } from './synthetic.ts';
