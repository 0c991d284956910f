import { Agent } from 'node:http';
import ccxt, { type Exchange } from 'ccxt';
import { HalyardError } from '../core/errors.ts';

/** Exchanges `data fetch` and the live feed support (ccxt ids). */
export const MARKET_DATA_EXCHANGES = ['binance', 'bybit', 'hyperliquid'] as const;

/** One of the supported market-data exchanges. */
export type MarketDataExchangeId = (typeof MARKET_DATA_EXCHANGES)[number];

/** How to build a market-data exchange. */
export interface MarketDataExchangeOptions {
  /**
   * Base URL (`scheme://host[:port]`) that replaces the origin of every REST URL of the exchange (and, with
   * `ws`, of every websocket URL, `http` becoming `ws`): a local stub in tests, a self-hosted proxy otherwise.
   */
  readonly urls?: string;
  /** Build the ccxt pro (websocket) class instead of the REST-only one. */
  readonly ws?: boolean;
  /** HTTP request timeout in ms (ccxt's default is 10,000). */
  readonly timeout?: number;
  /** ccxt's throttle: minimum delay in ms between requests of cost 1 (the exchange's default when absent). */
  readonly rateLimit?: number;
}

/**
 * ccxt options per exchange: perpetuals by default, and loadMarkets limited to the one public call the
 * linear perpetuals need (binance would otherwise also load spot and coin-margined markets; bybit spot,
 * inverse and option markets; hyperliquid spot and HIP-3 markets). binance's fetchCurrencies is a private
 * call, disabled so public data needs no keys.
 */
const CCXT_OPTIONS: Readonly<Record<MarketDataExchangeId, Record<string, unknown>>> = {
  binance: { defaultType: 'swap', fetchMarkets: { types: ['linear'] }, fetchCurrencies: false },
  bybit: { defaultType: 'swap', fetchMarkets: { types: ['linear'] } },
  hyperliquid: { defaultType: 'swap', fetchMarkets: { types: ['swap'] } },
};

/** True when `id` is a supported market-data exchange. */
export function isMarketDataExchange(id: string): id is MarketDataExchangeId {
  return (MARKET_DATA_EXCHANGES as readonly string[]).includes(id);
}

/** Replaces the origin of `url` (`https://host`, `wss://host`, `https://api.{hostname}`) with `base`. */
function rebase(url: string, base: string): string {
  const ws = /^wss?:/.test(url);
  const origin = ws ? base.replace(/^http/, 'ws') : base;
  return url.replace(/^[a-z]+:\/\/[^/]+/, origin.replace(/\/+$/, ''));
}

/** Rewrites every URL string in a (nested) ccxt `urls.api` dictionary; websocket URLs only when `ws`. */
function rebaseAll(node: unknown, base: string, ws: boolean): unknown {
  if (typeof node === 'string') return /^wss?:/.test(node) && !ws ? node : rebase(node, base);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = rebaseAll(v, base, ws);
  return out;
}

/**
 * A ccxt exchange for public market data: perpetual (USDⓈ-M / linear) markets, ccxt's rate limiter on,
 * and optionally every REST (and websocket) URL pointed at `opts.urls`.
 */
export function createMarketDataExchange(exchangeId: string, opts: MarketDataExchangeOptions = {}): Exchange {
  if (!isMarketDataExchange(exchangeId)) {
    throw new HalyardError('invalid_input', `exchange "${exchangeId}" is not supported for market data; use one of ${MARKET_DATA_EXCHANGES.join(', ')}`, {
      exchange: exchangeId,
    });
  }
  const config: Record<string, unknown> = { enableRateLimit: true, options: { ...CCXT_OPTIONS[exchangeId] } };
  if (opts.timeout !== undefined) config.timeout = opts.timeout;
  if (opts.rateLimit !== undefined) config.rateLimit = opts.rateLimit;
  const Ctor = opts.ws ? ccxt.pro[exchangeId] : ccxt[exchangeId];
  const exchange: Exchange = new Ctor(config);
  if (opts.urls !== undefined) {
    if (!/^https?:\/\/[^/]+/.test(opts.urls)) {
      throw new HalyardError('invalid_config', `exchange base URL "${opts.urls}" must look like http://host[:port]`, { url: opts.urls });
    }
    // hostname placeholders ({hostname}) are part of the origin being replaced.
    exchange.urls.api = rebaseAll(exchange.urls.api, opts.urls, opts.ws === true) as typeof exchange.urls.api;
    // ccxt refuses plain ws:// URLs unless an http agent is loaded (its loadHttpProxyAgent, done here synchronously).
    if (opts.ws && opts.urls.startsWith('http:')) exchange.httpAgent = new Agent();
  }
  return exchange;
}
