import type { Exchange } from 'ccxt';
import { HalyardError, isHalyardError } from '../core/errors.ts';
import type { Clock } from '../core/ports.ts';
import { TIMEFRAME_MS, type Timeframe } from '../core/timeframe.ts';
import { exchangeUrlVariable } from '../config.ts';
import { createMarketDataExchange, isMarketDataExchange } from '../data/ccxt-exchange.ts';
import { LiveCandleFeed, type LiveFeedEvent } from '../data/live-feed.ts';
import { realSleep, withRetry, type BackoffPolicy } from '../data/retry.ts';
import type { RuntimeCandle } from '../engine/paper/runtime.ts';
import { DEFAULT_RETRY_POLICY } from '../exchange/retry.ts';

/** Where a paper run's live candles come from. */
export interface LiveSourceOptions {
  readonly exchange: string;
  readonly symbol: string;
  /** Base URL replacing the exchange's (tests, proxies). */
  readonly urls: string | undefined;
}

/** What the live candle stream of a paper run needs. Times in epoch ms. */
export interface LiveCandlesOptions {
  readonly timeframe: Timeframe;
  readonly clock: Clock;
  /** Open time of the last candle the run processed (resume), or null for a new run. */
  readonly cursor: number | null;
  /** Candles to warm up with (ending at the cursor, or at the last closed candle). */
  readonly warmup: number;
  readonly log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

/** Live closed candles after the warm-up, and how to stop them. */
export interface LiveCandles {
  readonly warm: RuntimeCandle[];
  readonly candles: AsyncIterable<RuntimeCandle>;
  close(): Promise<void>;
}

/** An exchange reached once (its markets loaded): it gives the warm-up and the live feed. */
export interface LiveSource {
  start(o: LiveCandlesOptions): Promise<LiveCandles>;
}

/**
 * Retries of the REST calls a run starts with (markets, warm-up): the venue policy of every other call of
 * a paper run (exchange/retry.ts: 4 attempts, waits of up to 0.5 s, 1 s, 2 s), so an exchange that is
 * down is said so within seconds, before the run starts.
 */
const START_BACKOFF: BackoffPolicy = Object.freeze({ attempts: DEFAULT_RETRY_POLICY.maxAttempts, baseMs: DEFAULT_RETRY_POLICY.baseDelayMs, maxMs: DEFAULT_RETRY_POLICY.maxDelayMs });

function candleOf(r: readonly (number | string | undefined)[]): RuntimeCandle {
  const n = (k: number) => Number(r[k]);
  return { ts: n(0), open: n(1), high: n(2), low: n(3), close: n(4), volume: n(5), openInterest: Number.NaN, cvd: Number.NaN };
}

/** A `venue_unavailable` after the retries, as the sentence that names the exchange and what to check. */
function unreachable(o: LiveSourceOptions, e: unknown): unknown {
  if (!isHalyardError(e, 'venue_unavailable')) return e;
  const attempts = typeof e.context.attempts === 'number' ? e.context.attempts : START_BACKOFF.attempts;
  const why = e.cause instanceof Error ? e.cause.message : e.message;
  const via = o.urls ? ` and ${exchangeUrlVariable(o.exchange)}=${o.urls}` : '';
  return new HalyardError(
    'venue_unavailable',
    `${o.exchange} is unreachable after ${attempts} attempts (${why}): check the network connection${via} and the exchange's status, then start the run again (its stored state is kept)`,
    { exchange: o.exchange, attempts },
    e,
  );
}

/**
 * Reaches the exchange of a paper run's live candles (loads its markets, retried per the error categories
 * of exchange/retry.ts): an exchange that stays unreachable is a `venue_unavailable` naming it, before the
 * run opens its store.
 */
export async function openLiveSource(o: LiveSourceOptions): Promise<LiveSource> {
  if (!isMarketDataExchange(o.exchange)) throw new HalyardError('invalid_input', `live candles come from binance, bybit or hyperliquid, not ${o.exchange} (set --exchange)`);
  const rest = createMarketDataExchange(o.exchange, o.urls ? { urls: o.urls } : {});
  const retried = <T>(what: string, call: () => Promise<T>): Promise<T> => withRetry(rest, what, call, START_BACKOFF, { sleep: realSleep, random: Math.random }).catch((e: unknown) => Promise.reject(unreachable(o, e)));
  try {
    await retried('loading markets', () => rest.loadMarkets());
  } catch (e) {
    await rest.close();
    throw e;
  }
  return { start: (c) => liveCandles(o, rest, retried, c) };
}

/**
 * Warm-up candles over REST, then the exchange's live closed candles over its websocket (ccxt pro,
 * reconnecting with REST backfill). A resumed run gets every candle after its cursor, the missed ones
 * first, so a candle that closed while the process was down is not skipped.
 */
async function liveCandles(src: LiveSourceOptions, rest: Exchange, retried: <T>(what: string, call: () => Promise<T>) => Promise<T>, o: LiveCandlesOptions): Promise<LiveCandles> {
  const step = TIMEFRAME_MS[o.timeframe];
  const lastClosed = Math.floor(o.clock.now() / step) * step - step;
  const end = o.cursor ?? lastClosed;
  const warm: RuntimeCandle[] = [];
  let since = end - (o.warmup - 1) * step;
  try {
    while (o.warmup > 0 && since <= end) {
      const from = since;
      const batch = await retried(`${src.symbol} ${o.timeframe} warm-up candles`, () => rest.fetchOHLCV(src.symbol, o.timeframe, from, Math.min(1000, Math.floor((end - from) / step) + 1)));
      const got = batch.map(candleOf).filter((c) => c.ts >= from && c.ts <= end);
      if (got.length === 0) break;
      warm.push(...got);
      since = got[got.length - 1]!.ts + step;
    }
  } finally {
    await rest.close();
  }
  o.log.info({ candles: warm.length }, 'warm-up candles loaded');
  const ws = createMarketDataExchange(src.exchange, { ws: true, ...(src.urls ? { urls: src.urls } : {}) });
  // Once running, the feed reconnects for as long as it takes (a run outlives an outage); each try is logged.
  const onEvent = (e: LiveFeedEvent): void => {
    if (e.kind === 'reconnect') o.log.warn({ exchange: src.exchange, attempt: e.attempt, delay_ms: e.delayMs, err: e.error }, 'candle stream lost; reconnecting');
  };
  const feed = new LiveCandleFeed({ exchange: ws, symbol: src.symbol, timeframe: o.timeframe, clock: o.clock, since: end + step, onEvent });
  async function* candles(): AsyncGenerator<RuntimeCandle> {
    for await (const c of feed) yield { ts: c.ts, open: c.open, high: c.high, low: c.low, close: c.close, volume: c.volume, openInterest: Number.NaN, cvd: Number.NaN };
  }
  return { warm, candles: candles(), close: () => feed.close() };
}
