// The data layer: the Parquet candle cache, CSV import and the synthetic generator.
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
export { importCsv, parseKlineCsv, type ImportCsvOptions, type ImportCsvResult, type ParsedKlines } from './csv.ts';
export { SYNTHETIC_DEFAULT_FROM, syntheticCandles, type SyntheticOptions } from './synthetic.ts';
