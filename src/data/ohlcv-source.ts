import ccxt, { type Exchange, type MarketInterface } from 'ccxt';
import { HalyardError } from '../core/errors.ts';
import type { Timeframe } from '../core/timeframe.ts';

/** How a series' CVD was computed: from taker-buy volume, by `volume × sign(close − open)`, or both mixed in one file. */
export type CvdMethod = 'exact' | 'approximate' | 'mixed';

/** One candle from an exchange: open time epoch ms, prices in quote, volumes in base units. */
export interface Bar {
  readonly ts: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  /** Taker-buy base volume, when the exchange reports it. */
  readonly takerBuy?: number;
}

/** Where a history fetch gets candles from: one HTTP request per `fetch`. */
export interface OhlcvSource {
  /** `exact` when the bars carry taker-buy volume. */
  readonly cvd: Exclude<CvdMethod, 'mixed'>;
  /** Most bars one request returns. */
  readonly maxLimit: number;
  /** Bars with open time in `[from, to)` (epoch ms), at most `limit` of them, oldest first. */
  fetch(from: number, to: number, limit: number): Promise<Bar[]>;
}

/** Most candles per request: binance 1000 (klines weight 5 up to 1000, 10 above), bybit 1000, hyperliquid 5000. */
const MAX_LIMIT: Readonly<Record<string, number>> = { binance: 1000, bybit: 1000, hyperliquid: 5000 };

const num = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : Number.NaN);

/** One Binance kline row (`[openTime, o, h, l, c, volume, closeTime, quoteVolume, trades, takerBuyBase, takerBuyQuote, ignore]`). */
function binanceBar(row: unknown, exchange: string): Bar {
  if (!Array.isArray(row) || row.length < 10) throw new HalyardError('data_corrupt', `${exchange} returned a kline that is not a 12-column array: ${JSON.stringify(row)}`);
  const r = row as unknown[];
  const bar = { ts: num(r[0]), open: num(r[1]), high: num(r[2]), low: num(r[3]), close: num(r[4]), volume: num(r[5]), takerBuy: num(r[9]) };
  if (!Object.values(bar).every(Number.isFinite)) throw new HalyardError('data_corrupt', `${exchange} returned a kline with a non-numeric field: ${JSON.stringify(row)}`);
  return bar;
}

/**
 * Binance klines through ccxt's implicit raw endpoints (`fapiPublicGetKlines` for USDⓈ-M,
 * `dapiPublicGetKlines` for coin-M, `publicGetKlines` for spot): ccxt's parseOHLCV drops column 9, the
 * taker-buy base volume that makes CVD exact.
 */
function binanceSource(exchange: InstanceType<typeof ccxt.binance>, market: MarketInterface, tf: Timeframe): OhlcvSource {
  const interval = (exchange.timeframes as Record<string, string | undefined>)[tf] ?? tf;
  const call = market.linear ? exchange.fapiPublicGetKlines.bind(exchange) : market.inverse ? exchange.dapiPublicGetKlines.bind(exchange) : exchange.publicGetKlines.bind(exchange);
  return {
    cvd: 'exact',
    maxLimit: MAX_LIMIT.binance ?? 1000,
    async fetch(from, to, limit) {
      const raw: unknown = await call({ symbol: market.id, interval, startTime: from, endTime: to - 1, limit });
      if (!Array.isArray(raw)) throw new HalyardError('data_corrupt', `${exchange.id} klines: expected an array, got ${JSON.stringify(raw).slice(0, 200)}`);
      return raw.map((r) => binanceBar(r, exchange.id)).filter((b) => b.ts >= from && b.ts < to);
    },
  };
}

/** Any other exchange through ccxt's unified fetchOHLCV (`since` = from, `until` = to − 1): no taker-buy volume. */
function unifiedSource(exchange: Exchange, symbol: string, tf: Timeframe): OhlcvSource {
  return {
    cvd: 'approximate',
    maxLimit: MAX_LIMIT[exchange.id] ?? 500,
    async fetch(from, to, limit) {
      const rows = await exchange.fetchOHLCV(symbol, tf, from, limit, { until: to - 1 });
      return rows
        .map(([ts, open, high, low, close, volume]) => ({ ts: num(ts), open: num(open), high: num(high), low: num(low), close: num(close), volume: num(volume) }))
        .filter((b) => b.ts >= from && b.ts < to);
    },
  };
}

/** The best candle source of `exchange` for a loaded market: exact-CVD raw klines on binance, fetchOHLCV elsewhere. */
export function ohlcvSource(exchange: Exchange, market: MarketInterface, tf: Timeframe): OhlcvSource {
  if (exchange instanceof ccxt.binance) return binanceSource(exchange, market, tf);
  return unifiedSource(exchange, market.symbol, tf);
}
