import type { Exchange, Order, Position } from 'ccxt';
import type { HalyardError } from '../../core/errors.ts';
import type { PositionMode, Side } from '../../core/types.ts';
import type { VenueOrderRequest, VenueOrderType } from '../../core/venue.ts';
import type { Env } from '../targets.ts';

/** Credentials as ccxt takes them (the store's `Credentials` mapped per exchange). */
export interface CcxtCredentials {
  readonly apiKey: string;
  readonly secret: string;
  /** Passphrase, or the wallet address on Hyperliquid. */
  readonly password?: string;
}

/** The ccxt `createOrder` arguments an order request becomes on one exchange. */
export interface OrderPlan {
  /** ccxt order type (`market` or `limit`; trigger orders are `market` plus trigger params). */
  readonly type: 'market' | 'limit';
  /** Price argument (quote): the limit price, or the reference price Hyperliquid needs for market orders. */
  readonly price?: number;
  /** Unified and exchange-specific params (`triggerPrice`, `reduceOnly`, `clientOrderId`, `positionSide`, ...). */
  readonly params: Record<string, unknown>;
}

/** What the venue knows about an order it asks the exchange about (hints that save a request). */
export interface OrderHint {
  /** True when the order is a trigger order (Binance keeps those in a separate algo-order book). */
  readonly conditional?: boolean;
}

/**
 * What differs between exchanges behind the one CcxtVenue: ccxt settings, endpoint selection, order
 * params, how an order is found by client id, the position-mode call and exchange-specific errors.
 * Everything else (normalising, retries, error mapping) is shared.
 */
export interface CcxtProfile {
  readonly exchange: 'binance' | 'bybit' | 'hyperliquid';
  /** False where the exchange only nets (Hyperliquid). */
  readonly supportsHedge: boolean;
  /** Settlement currencies reported by fetchBalance, e.g. ['USDT', 'USDC']. */
  readonly currencies: readonly string[];
  /** True when create/cancel answer with ids only, so the venue reads the order back (Bybit). */
  readonly refetchAfterWrite: boolean;
  /** The ccxt instance for these credentials and settings (no request is made). */
  create(credentials: CcxtCredentials, settings: Record<string, unknown>): Exchange;
  /** Points the instance at the demo / testnet (paper) or mainnet (live) endpoints. */
  selectEnv(ex: Exchange, env: Env): void;
  /** Called when tests point the instance at a local stub, with the stub's base URL. */
  onUrlOverride?(ex: Exchange, url: string): void;
  /** The client order id as the exchange takes it (Hyperliquid wants 0x + 32 hex). */
  venueClientId(clientId: string): string;
  /** The ccxt createOrder arguments for `req` in `mode`. */
  plan(ex: Exchange, req: VenueOrderRequest, mode: PositionMode): Promise<OrderPlan>;
  /** The order placed with `venueClientId`, or null when the exchange does not know it. */
  fetchByClientId(ex: Exchange, venueClientId: string, symbol: string, hint: OrderHint): Promise<Order | null>;
  /** The order `id` (throws ccxt OrderNotFound when unknown). */
  fetchById(ex: Exchange, id: string, symbol: string, hint: OrderHint): Promise<Order>;
  /** Cancels `id`; the answer may be partial (ids only). */
  cancel(ex: Exchange, id: string, symbol: string, hint: OrderHint): Promise<Order>;
  /** Every open order (trigger orders included). */
  fetchOpenOrders(ex: Exchange, symbol?: string): Promise<Order[]>;
  /** Sets the account's position mode; "already in that mode" is success. */
  setPositionMode(ex: Exchange, mode: PositionMode, symbol?: string): Promise<void>;
  /** Our order type of a ccxt order (stop vs take-profit is in the exchange's own fields). */
  orderType(o: Order): VenueOrderType | undefined;
  /** The hedge leg an order acts on, null in one-way mode. */
  orderLeg(o: Order): Side | null;
  /** The hedge leg of a position, null in one-way mode. */
  positionLeg(p: Position): Side | null;
  /** True/false where the exchange's own code says whether a failure is transient (ccxt's class says otherwise). */
  transient?(err: unknown): boolean | undefined;
  /** The wait a rate-limit answer asks for (ms), from the exchange's headers; default the Retry-After header. */
  retryAfterMs?(headers: Readonly<Record<string, string>>, now: number): number | undefined;
  /** An exchange-specific reading of an error (duplicate client id, refused wallet), before the generic mapping. */
  classify?(err: unknown, op: string): HalyardError | undefined;
}

/** A plain object view of ccxt's `info` payload (exchange fields), empty when it is not an object. */
export function infoOf(x: { readonly info?: unknown }): Record<string, unknown> {
  const info = x.info;
  return typeof info === 'object' && info !== null && !Array.isArray(info) ? (info as Record<string, unknown>) : {};
}

/** The string value of `key` in an info payload, or undefined. */
export function str(info: Record<string, unknown>, key: string): string | undefined {
  const v = info[key];
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

/** The order side that closes a leg: sell for long, buy for short. */
export function closingSide(leg: Side): 'buy' | 'sell' {
  return leg === 'long' ? 'sell' : 'buy';
}

/** The exchange's own error code inside a ccxt message such as `binance {"code":-4116,"msg":"..."}`. */
export function exchangeCodeOf(err: unknown): string | undefined {
  const msg = err instanceof Error ? err.message : '';
  const m = /"(?:code|retCode)"\s*:\s*"?(-?\d+)/.exec(msg);
  return m?.[1];
}
