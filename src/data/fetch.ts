import type { Exchange, MarketInterface } from 'ccxt';
import { allocCandles, computeCvd, findGaps, rangeCandles, validateCandles, type CandleColumns, type Gap } from '../core/candles.ts';
import { HalyardError, isHalyardError } from '../core/errors.ts';
import type { Clock } from '../core/ports.ts';
import { TIMEFRAME_MS, type Timeframe } from '../core/timeframe.ts';
import { cachePath, mergeCandles, readCacheMeta, readCandles, writeCandles } from './cache.ts';
import { alignOpenInterest, barsIn, chunkWindows, joinWindows, missingRanges, type TimeRange } from './fetch-ranges.ts';
import { ohlcvSource, type Bar, type CvdMethod } from './ohlcv-source.ts';
import { combineOpenInterest, fetchOpenInterestHistory, type OpenInterestSummary } from './open-interest.ts';
import { DEFAULT_BACKOFF, realSleep, withRetry, type BackoffPolicy, type RetryDeps } from './retry.ts';

/** What `fetchHistory` needs: the exchange, the series and range, the cache, and injected time and randomness. */
export interface FetchHistoryOptions {
  /** A ccxt exchange (see createMarketDataExchange); its id names the cache folder. */
  readonly exchange: Exchange;
  /** ccxt unified symbol, e.g. BTC/USDT:USDT. */
  readonly symbol: string;
  readonly timeframe: Timeframe;
  /** First open time wanted, epoch ms (rounded up to the timeframe). */
  readonly from: number;
  /** End of the range, epoch ms, exclusive (clamped to the last closed candle). */
  readonly to: number;
  /** Root of the Parquet candle cache. */
  readonly cacheRoot: string;
  /** Also fetch open-interest history (default true). */
  readonly openInterest?: boolean;
  /** Candles per request (default: the exchange's maximum). */
  readonly limit?: number;
  /** Decides which candles are closed (only those are stored). */
  readonly clock: Clock;
  /** Sleep and jitter source for retries (default: real timers and Math.random). */
  readonly retry?: Partial<RetryDeps>;
  readonly backoff?: BackoffPolicy;
  /** Candles fetched between two writes of the cache file (default 100,000): what an interrupted run keeps. */
  readonly checkpointBars?: number;
  /** Progress in candles of the missing ranges: called after each request. */
  readonly onProgress?: (p: FetchProgress) => void;
}

/** Progress of a fetch in candles (`done` of `total` missing ones requested so far). */
export interface FetchProgress {
  readonly done: number;
  readonly total: number;
}

/** HTTP requests a fetch made: for candles, for open interest (both counting failed tries), and how many were retries. */
export interface FetchRequests {
  readonly candles: number;
  readonly openInterest: number;
  readonly retries: number;
}

/** Result of a fetch. Times are epoch ms. */
export interface FetchSummary {
  readonly exchange: string;
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly path: string;
  /** The range covered: `from` aligned, `to` clamped to the end of the last closed candle. */
  readonly from: number;
  readonly to: number;
  /** Ranges the cache lacked before this run: what was requested. */
  readonly missing: TimeRange[];
  /** Candles received and stored by this run. */
  readonly rowsFetched: number;
  /** Rows in the cache file after the run. */
  readonly cacheRows: number;
  readonly requests: FetchRequests;
  /** How this run's CVD was computed. */
  readonly cvd: Exclude<CvdMethod, 'mixed'>;
  /** How the whole cache file's CVD was computed (`mixed` when runs or imports differed). */
  readonly cacheCvd: CvdMethod | 'unknown';
  readonly openInterest: OpenInterestSummary;
  /** Bars still missing in the range after the run: the exchange has none there (reported, not filled). */
  readonly gaps: Gap[];
}

/** The loaded market for `symbol`, or a clear error naming a few the exchange does have. */
function marketOf(exchange: Exchange, symbol: string): MarketInterface {
  const m = (exchange.markets as Record<string, MarketInterface | undefined> | undefined)?.[symbol];
  if (m) return m;
  const known = Object.keys(exchange.markets ?? {});
  const base = symbol.split('/')[0] ?? '';
  const like = known.filter((s) => s.startsWith(`${base}/`)).slice(0, 5);
  const hint = like.length > 0 ? `; did you mean ${like.join(', ')}?` : known.length > 0 ? `; e.g. ${known.slice(0, 3).join(', ')}` : '';
  throw new HalyardError('invalid_input', `${exchange.id} has no market ${symbol} among its ${known.length} perpetual markets${hint}`, { exchange: exchange.id, symbol });
}

/** Fetched bars as candle columns (open interest NaN) plus the taker-buy column when every bar had one. */
function toColumns(bars: readonly Bar[]): { candles: CandleColumns; takerBuy?: Float64Array } {
  const c = allocCandles(bars.length);
  const tb = new Float64Array(bars.length);
  let exact = bars.length > 0;
  bars.forEach((b, i) => {
    c.ts[i] = b.ts;
    c.open[i] = b.open;
    c.high[i] = b.high;
    c.low[i] = b.low;
    c.close[i] = b.close;
    c.volume[i] = b.volume;
    if (b.takerBuy === undefined) exact = false;
    else tb[i] = b.takerBuy;
  });
  return exact ? { candles: c, takerBuy: tb } : { candles: c };
}

/** The cached series at `path`, empty when there is no file yet, with its recorded CVD method. */
async function readExisting(path: string): Promise<{ candles: CandleColumns; cvd: CvdMethod | undefined }> {
  try {
    const [candles, meta] = await Promise.all([readCandles(path), readCacheMeta(path)]);
    return { candles, cvd: meta.cvd };
  } catch (e) {
    if (isHalyardError(e, 'data_missing')) return { candles: allocCandles(0), cvd: undefined };
    throw e;
  }
}

/**
 * Fetches the candles of `[from, to)` the cache lacks (gaps inside the range included) with ccxt,
 * paginated, retrying rate limits and network errors with backoff, adds open-interest history aligned to
 * the candles and CVD (exact from taker-buy volume where the exchange reports it), and merges them into the
 * Parquet cache (written every `checkpointBars`). A second run over the same range makes no candle requests.
 */
export async function fetchHistory(opts: FetchHistoryOptions): Promise<FetchSummary> {
  const { exchange, symbol, timeframe: tf } = opts;
  const step = TIMEFRAME_MS[tf];
  const deps: RetryDeps = { sleep: opts.retry?.sleep ?? realSleep, random: opts.retry?.random ?? Math.random };
  const backoff = opts.backoff ?? DEFAULT_BACKOFF;
  const counts = { candles: 0, openInterest: 0, retries: 0 };
  const call = <T>(what: string, fn: () => Promise<T>, kind?: 'candles' | 'openInterest'): Promise<T> =>
    withRetry(
      exchange,
      what,
      () => {
        if (kind) counts[kind]++;
        return fn();
      },
      backoff,
      deps,
      () => counts.retries++,
    );

  if (!(opts.from < opts.to)) throw new HalyardError('invalid_input', `--from must be before --to (got ${new Date(opts.from).toISOString()} → ${new Date(opts.to).toISOString()})`);
  const from = Math.ceil(opts.from / step) * step;
  const closedEnd = Math.floor(opts.clock.now() / step) * step;
  const to = Math.min(Math.ceil(opts.to / step) * step, closedEnd);

  await call('loading markets', () => exchange.loadMarkets());
  const market = marketOf(exchange, symbol);
  const source = ohlcvSource(exchange, market, tf);
  const limit = Math.min(opts.limit ?? source.maxLimit, source.maxLimit);
  const path = cachePath(opts.cacheRoot, exchange.id, symbol, tf);
  const existing = await readExisting(path);
  const missing = from < to ? missingRanges(existing.candles.ts, from, to, step) : [];
  const total = barsIn(missing, step);

  // Fetched candles are written to the cache every `checkpointBars`, so an interrupted run resumes there.
  const chunks = chunkWindows(missing, step, limit, opts.checkpointBars ?? 100_000);
  let cache = existing.candles;
  let cacheCvd: CvdMethod | 'unknown' = cache.length === 0 ? source.cvd : (existing.cvd ?? 'unknown');
  let cvd = source.cvd;
  let rowsFetched = 0;
  let openInterest: OpenInterestSummary = { status: 'skipped', points: 0, reason: opts.openInterest === false ? '--no-oi' : 'no new candles' };
  let done = 0;
  for (const windows of chunks) {
    const bars: Bar[] = [];
    for (const w of windows) {
      const got = await call(`candles ${symbol} ${tf} from ${new Date(w.from).toISOString()}`, () => source.fetch(w.from, w.to, limit), 'candles');
      for (const b of got) if (bars.length === 0 || b.ts > (bars.at(-1) as Bar).ts) bars.push(b);
      done += Math.round((w.to - w.from) / step);
      opts.onProgress?.({ done, total });
    }
    if (bars.length === 0) continue;
    const { candles: fetched, takerBuy } = toColumns(bars);
    validateCandles(fetched, `${exchange.id} ${symbol} ${tf}`);
    computeCvd(fetched, takerBuy);
    const chunkCvd = takerBuy ? source.cvd : 'approximate';
    if (chunkCvd !== cvd) cvd = 'approximate';
    if (opts.openInterest !== false) {
      const oi = await fetchOpenInterestHistory(exchange, symbol, tf, joinWindows(windows), (what, fn) => call(what, fn, 'openInterest'));
      alignOpenInterest(fetched.ts, oi.points.ts, oi.points.value, fetched.openInterest);
      openInterest = rowsFetched === 0 ? oi.summary : combineOpenInterest(openInterest, oi.summary);
    }
    if (cache.length > 0 && cacheCvd !== 'unknown' && cacheCvd !== chunkCvd) cacheCvd = 'mixed';
    // An empty cache takes the fetched columns as they are (CVD summed once, exactly); otherwise merge.
    cache = cache.length === 0 ? fetched : mergeCandles(cache, fetched);
    await writeCandles(path, cache, { exchange: exchange.id, symbol, timeframe: tf, ...(cacheCvd !== 'unknown' ? { cvd: cacheCvd } : {}) });
    rowsFetched += fetched.length;
  }
  return summary(rangeCandles(cache, from, to), cache.length);

  function summary(inRange: CandleColumns, rows: number): FetchSummary {
    const gaps = findGaps(inRange, tf);
    // Missing bars at the edges of the range count too.
    const first = inRange.length > 0 ? (inRange.ts[0] as number) : to;
    const last = inRange.length > 0 ? (inRange.ts[inRange.length - 1] as number) + step : to;
    if (first > from) gaps.unshift({ from, to: first, count: Math.round((first - from) / step) });
    if (inRange.length > 0 && last < to) gaps.push({ from: last, to, count: Math.round((to - last) / step) });
    return {
      exchange: exchange.id,
      symbol,
      timeframe: tf,
      path,
      from,
      to: Math.max(from, to),
      missing,
      rowsFetched,
      cacheRows: rows,
      requests: { ...counts },
      cvd,
      cacheCvd,
      openInterest,
      gaps,
    };
  }
}
