import type { OrderStatus } from './orders.ts';
import type { OrderSide, PositionMode, Side } from './types.ts';

/**
 * Order types a venue takes. `stop` is a stop-market (triggers against the position: a sell stop below
 * the market, a buy stop above); `take_profit` is a take-profit-market (a sell above, a buy below).
 */
export type VenueOrderType = 'market' | 'limit' | 'stop' | 'take_profit';

/** An order to place. Quantities in base units, prices in quote. */
export interface VenueOrderRequest {
  /** Our deterministic client order id (≤ 36 characters of [A-Za-z0-9_-]); a venue refuses a reuse. */
  readonly clientId: string;
  /** ccxt unified symbol, e.g. `BTC/USDT:USDT`. */
  readonly symbol: string;
  readonly side: OrderSide;
  readonly type: VenueOrderType;
  /** Quantity (base units, > 0). */
  readonly qty: number;
  /** Limit price (quote); only for `limit`. */
  readonly price?: number;
  /** Trigger price (quote); only for `stop` and `take_profit`. */
  readonly triggerPrice?: number;
  /** Hedge mode: the leg the order acts on. Refused in one-way mode. */
  readonly positionSide?: Side;
  /** Only reduce the position (one-way mode; in hedge mode the leg already says so). */
  readonly reduceOnly?: boolean;
}

/** An order as the venue reports it, normalised; `raw` keeps the exchange's own payload. */
export interface VenueOrder {
  /** The venue's order id. */
  readonly id: string;
  readonly clientId: string | null;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly type: VenueOrderType;
  /** Ordered quantity (base units). */
  readonly qty: number;
  /** Limit price (quote) or null. */
  readonly price: number | null;
  /** Trigger price (quote) or null. */
  readonly triggerPrice: number | null;
  readonly positionSide: Side | null;
  readonly reduceOnly: boolean;
  readonly status: OrderStatus;
  /** Filled quantity (base units). */
  readonly filledQty: number;
  /** Average fill price (quote), null before the first fill. */
  readonly avgFillPrice: number | null;
  /** Fee paid (quote), null when the venue does not say. */
  readonly fee: number | null;
  /** Creation time, epoch ms. */
  readonly createdAt: number;
  /** The exchange's payload as received (the sim's own record for `sim`). */
  readonly raw: unknown;
}

/** A position (or hedge leg) held at the venue, normalised. */
export interface VenuePosition {
  readonly symbol: string;
  readonly side: Side;
  /** The leg in hedge mode, null in one-way mode. */
  readonly positionSide: Side | null;
  /** Size (base units, > 0). */
  readonly qty: number;
  /** Average entry price (quote). */
  readonly entryPrice: number;
  /** Mark price (quote), null when unknown. */
  readonly markPrice: number | null;
  /** Unrealized PnL (quote), null when unknown. */
  readonly unrealizedPnl: number | null;
  /** Liquidation price (quote), null when unknown. */
  readonly liquidationPrice: number | null;
  readonly raw: unknown;
}

/** The balance of one currency (quote units). */
export interface VenueBalance {
  readonly currency: string;
  /** Wallet balance including unrealized PnL where the venue reports it. */
  readonly total: number;
  /** Available for new orders. */
  readonly free: number;
  /** Held as margin or by open orders. */
  readonly used: number;
  readonly raw: unknown;
}

/**
 * Where orders go: the simulated exchange or a real one through ccxt. Every method either returns
 * normalised values or throws a HalyardError: `invalid_input` (refused before sending), `venue_rejected`
 * (the venue said no: margin, reduce-only, bad price), `conflict` (client id already used),
 * `venue_auth` (credentials), `venue_unavailable` (still down after the retry policy), `not_found`.
 */
export interface Venue {
  /** Target key, e.g. `sim:paper`, `binance:live`. */
  readonly target: string;
  /** False where the venue only nets (Hyperliquid): hedge mode is refused. */
  readonly supportsHedge: boolean;
  /** Sets one-way or hedge mode for the account (or the symbol where the venue does it per symbol). */
  setPositionMode(mode: PositionMode, symbol?: string): Promise<void>;
  /** The position mode the venue is in (as last set or read). */
  positionMode(): PositionMode;
  createOrder(req: VenueOrderRequest): Promise<VenueOrder>;
  /** Cancels an open order; `not_found` when the venue does not know it. */
  cancelOrder(id: string, symbol: string): Promise<VenueOrder>;
  /** The order placed with `clientId`, or null when the venue never received it. */
  fetchOrderByClientId(clientId: string, symbol: string): Promise<VenueOrder | null>;
  fetchOpenOrders(symbol?: string): Promise<VenueOrder[]>;
  fetchPositions(symbols?: readonly string[]): Promise<VenuePosition[]>;
  /** Balances of the settlement currencies (USDT, USDC). */
  fetchBalance(): Promise<VenueBalance[]>;
  /** Releases connections. */
  close(): Promise<void>;
}
