import { HalyardError } from '../core/errors.ts';
import type { Clock } from '../core/ports.ts';
import { TIMEFRAME_MS, type Timeframe } from '../core/timeframe.ts';
import { createMarketDataExchange, isMarketDataExchange } from '../data/ccxt-exchange.ts';
import { LiveCandleFeed } from '../data/live-feed.ts';
import type { RuntimeCandle } from '../engine/paper/runtime.ts';

/** What the live candle stream of a paper run needs. Times in epoch ms. */
export interface LiveCandlesOptions {
  readonly exchange: string;
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly clock: Clock;
  /** Open time of the last candle the run processed (resume), or null for a new run. */
  readonly cursor: number | null;
  /** Candles to warm up with (ending at the cursor, or at the last closed candle). */
  readonly warmup: number;
  /** Base URL replacing the exchange's (tests, proxies). */
  readonly urls: string | undefined;
  readonly log: { info(obj: object, msg: string): void };
}

function candleOf(r: readonly (number | string | undefined)[]): RuntimeCandle {
  const n = (k: number) => Number(r[k]);
  return { ts: n(0), open: n(1), high: n(2), low: n(3), close: n(4), volume: n(5), openInterest: Number.NaN, cvd: Number.NaN };
}

/**
 * Warm-up candles over REST, then the exchange's live closed candles over its websocket (ccxt pro,
 * reconnecting with REST backfill). A resumed run gets every candle after its cursor, the missed ones
 * first, so a candle that closed while the process was down is not skipped.
 */
export async function liveCandles(o: LiveCandlesOptions): Promise<{ warm: RuntimeCandle[]; candles: AsyncIterable<RuntimeCandle>; close: () => Promise<void> }> {
  if (!isMarketDataExchange(o.exchange)) throw new HalyardError('invalid_input', `live candles come from binance, bybit or hyperliquid, not ${o.exchange} (set --exchange)`);
  const step = TIMEFRAME_MS[o.timeframe];
  const rest = createMarketDataExchange(o.exchange, o.urls ? { urls: o.urls } : {});
  const lastClosed = Math.floor(o.clock.now() / step) * step - step;
  const end = o.cursor ?? lastClosed;
  const warm: RuntimeCandle[] = [];
  let since = end - (o.warmup - 1) * step;
  while (o.warmup > 0 && since <= end) {
    const batch = await rest.fetchOHLCV(o.symbol, o.timeframe, since, Math.min(1000, Math.floor((end - since) / step) + 1));
    const got = batch.map(candleOf).filter((c) => c.ts >= since && c.ts <= end);
    if (got.length === 0) break;
    warm.push(...got);
    since = got[got.length - 1]!.ts + step;
  }
  await rest.close();
  o.log.info({ candles: warm.length }, 'warm-up candles loaded');
  const ws = createMarketDataExchange(o.exchange, { ws: true, ...(o.urls ? { urls: o.urls } : {}) });
  const feed = new LiveCandleFeed({ exchange: ws, symbol: o.symbol, timeframe: o.timeframe, clock: o.clock, since: end + step });
  async function* candles(): AsyncGenerator<RuntimeCandle> {
    for await (const c of feed) yield { ts: c.ts, open: c.open, high: c.high, low: c.low, close: c.close, volume: c.volume, openInterest: Number.NaN, cvd: Number.NaN };
  }
  return { warm, candles: candles(), close: () => feed.close() };
}
