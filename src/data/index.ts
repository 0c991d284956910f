// The data layer: the Parquet candle cache, CSV import, the synthetic generator, ccxt history and the live feed.
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
export { createMarketDataExchange, isMarketDataExchange, MARKET_DATA_EXCHANGES, type MarketDataExchangeId, type MarketDataExchangeOptions } from './ccxt-exchange.ts';
export { importCsv, parseKlineCsv, type ImportCsvOptions, type ImportCsvResult, type ParsedKlines } from './csv.ts';
export { fetchHistory, type FetchHistoryOptions, type FetchProgress, type FetchRequests, type FetchSummary } from './fetch.ts';
export { missingRanges, type TimeRange } from './fetch-ranges.ts';
export { LIVE_BACKOFF, LiveCandleFeed, type LiveCandle, type LiveCandleFeedOptions, type LiveFeedEvent } from './live-feed.ts';
export type { CvdMethod } from './ohlcv-source.ts';
export type { OpenInterestSummary } from './open-interest.ts';
export { DEFAULT_BACKOFF, type BackoffPolicy, type RetryDeps } from './retry.ts';
export { SYNTHETIC_DEFAULT_FROM, syntheticCandles, type SyntheticOptions } from './synthetic.ts';
