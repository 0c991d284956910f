import { denoise } from '../../core/round.ts';
import { errors, type Exchange, type Order } from 'ccxt';
import { HalyardError, isHalyardError } from '../../core/errors.ts';
import type { Clock } from '../../core/ports.ts';
import type { PositionMode } from '../../core/types.ts';
import type { Venue, VenueBalance, VenueOrder, VenueOrderRequest, VenuePosition } from '../../core/venue.ts';
import { isTransient, parseRetryAfter, withRetry, type RetryPolicy } from '../retry.ts';
import { toHalyardError } from './errors.ts';
import { isPartial, toVenueBalances, toVenueOrder, toVenuePosition, type OrderFallback } from './normalise.ts';
import type { CcxtProfile, OrderHint } from './profile.ts';

/** What a CcxtVenue is built from (see `createCcxtVenue`). */
export interface CcxtVenueParts {
  /** Target key, e.g. `binance:paper`. */
  readonly target: string;
  readonly profile: CcxtProfile;
  /** The configured ccxt instance (endpoints selected). */
  readonly exchange: Exchange;
  readonly retry: RetryPolicy;
  readonly clock: Clock;
  /** The account's position mode when the venue starts (default one-way). */
  readonly mode?: PositionMode;
}

const CLIENT_ID = /^[A-Za-z0-9_-]{1,36}$/;

/**
 * A real exchange through ccxt, behind the Venue port. One class for every exchange: the profile holds
 * what differs. Every call is retried on transient failures (`withRetry`) and its errors mapped to
 * HalyardError codes; a createOrder is never sent twice — before a re-send it looks the client id up.
 */
export class CcxtVenue implements Venue {
  readonly target: string;
  readonly supportsHedge: boolean;
  /** The ccxt instance (for diagnostics and endpoint tests; do not trade through it directly). */
  readonly ccxt: Exchange;
  private readonly profile: CcxtProfile;
  private readonly retry: RetryPolicy;
  private readonly clock: Clock;
  private mode: PositionMode;
  /** Exchange client id → ours (they differ where the exchange wants another format: Hyperliquid). */
  private readonly ours = new Map<string, string>();
  /** Order ids placed as trigger orders (Binance keeps them in a separate book). */
  private readonly conditional = new Set<string>();
  /** True once a market load was started (a later one must reload: ccxt caches a failed load). */
  private marketsTried = false;

  constructor(parts: CcxtVenueParts) {
    this.target = parts.target;
    this.profile = parts.profile;
    this.ccxt = parts.exchange;
    this.retry = parts.retry;
    this.clock = parts.clock;
    this.supportsHedge = parts.profile.supportsHedge;
    this.mode = parts.mode ?? 'oneway';
  }

  positionMode(): PositionMode {
    return this.mode;
  }

  async setPositionMode(mode: PositionMode, symbol?: string): Promise<void> {
    if (mode === 'hedge' && !this.supportsHedge) {
      throw new HalyardError('invalid_input', `${this.target}: ${this.profile.exchange} nets one position per symbol (one-way only); hedge mode does not exist there`, { target: this.target });
    }
    if (this.supportsHedge) await this.call('setPositionMode', () => this.profile.setPositionMode(this.ccxt, mode, symbol));
    this.mode = mode;
  }

  async createOrder(asked: VenueOrderRequest): Promise<VenueOrder> {
    // ccxt truncates an amount to the market's precision: binary noise (0.3 - 0.2 = 0.09999999999999998)
    // would lose a whole lot, so the quantity is cleaned to 12 significant digits first.
    const req: VenueOrderRequest = { ...asked, qty: denoise(asked.qty) };
    this.validate(req);
    const venueCid = this.remember(req.clientId);
    const hint: OrderHint = { conditional: req.type === 'stop' || req.type === 'take_profit' };
    const fb: OrderFallback = {
      clientId: req.clientId,
      symbol: req.symbol,
      side: req.side,
      type: req.type,
      qty: req.qty,
      price: req.price ?? null,
      triggerPrice: req.triggerPrice ?? null,
      positionSide: req.positionSide ?? null,
      reduceOnly: req.reduceOnly ?? false,
    };
    try {
      return await withRetry(async (attempt) => {
        await this.markets();
        // A transient failure may hide an order that landed: look before sending again.
        if (attempt > 1) {
          const landed = await this.profile.fetchByClientId(this.ccxt, venueCid, req.symbol, hint);
          if (landed) return this.normal(landed, fb);
        }
        try {
          const plan = await this.profile.plan(this.ccxt, req, this.mode);
          const placed = await this.ccxt.createOrder(req.symbol, plan.type, req.side, req.qty, plan.price, plan.params);
          if (hint.conditional === true && placed.id) this.conditional.add(placed.id);
          return await this.afterCreate(placed, venueCid, fb, hint);
        } catch (e) {
          // a duplicate on a re-send means the first attempt landed after all
          const duplicate = e instanceof errors.DuplicateOrderId || this.profile.classify?.(e, 'createOrder')?.code === 'conflict';
          if (attempt > 1 && duplicate) {
            const landed = await this.profile.fetchByClientId(this.ccxt, venueCid, req.symbol, hint);
            if (landed) return this.normal(landed, fb);
          }
          throw e;
        }
      }, this.policy('createOrder'));
    } catch (e) {
      throw this.mapError(e, 'createOrder');
    }
  }

  async cancelOrder(id: string, symbol: string): Promise<VenueOrder> {
    const hint: OrderHint = this.conditional.has(id) ? { conditional: true } : {};
    try {
      return await withRetry(async (attempt) => {
        await this.markets();
        try {
          const answer = await this.profile.cancel(this.ccxt, id, symbol, hint);
          // ids-only answers (Bybit, Binance algo orders, Hyperliquid) are read back for the full order
          const full = isPartial(answer) || this.profile.refetchAfterWrite ? await this.profile.fetchById(this.ccxt, id, symbol, hint) : answer;
          return this.normal(full, { id, symbol });
        } catch (e) {
          // a re-sent cancel finds the order gone when the first one worked
          if (attempt > 1 && e instanceof errors.OrderNotFound) {
            const seen = await this.profile.fetchById(this.ccxt, id, symbol, hint).catch(() => undefined);
            if (seen?.status === 'canceled') return this.normal(seen, { id, symbol });
          }
          throw e;
        }
      }, this.policy('cancelOrder'));
    } catch (e) {
      throw this.mapError(e, 'cancelOrder');
    }
  }

  async fetchOrderByClientId(clientId: string, symbol: string): Promise<VenueOrder | null> {
    const venueCid = this.remember(clientId);
    const o = await this.call('fetchOrderByClientId', () => this.profile.fetchByClientId(this.ccxt, venueCid, symbol, {}));
    return o ? this.normal(o, { clientId, symbol }) : null;
  }

  async fetchOpenOrders(symbol?: string): Promise<VenueOrder[]> {
    const list = await this.call('fetchOpenOrders', () => this.profile.fetchOpenOrders(this.ccxt, symbol));
    return list.filter((o) => symbol === undefined || o.symbol === symbol).map((o) => this.normal(o));
  }

  async fetchPositions(symbols?: readonly string[]): Promise<VenuePosition[]> {
    // one symbol narrows the request; several (or none) read the whole account and filter here
    const narrow = symbols?.length === 1 ? [...symbols] : undefined;
    const list = await this.call('fetchPositions', () => this.ccxt.fetchPositions(narrow));
    const out: VenuePosition[] = [];
    for (const p of list) {
      const v = toVenuePosition(p, this.profile);
      if (v && (!symbols || symbols.includes(v.symbol))) out.push(v);
    }
    return out;
  }

  async fetchBalance(): Promise<VenueBalance[]> {
    const b = await this.call('fetchBalance', () => this.ccxt.fetchBalance());
    return toVenueBalances(b, this.profile.currencies);
  }

  async close(): Promise<void> {
    await this.ccxt.close();
  }

  /** Refuses, before anything is sent, what no exchange would take. */
  private validate(req: VenueOrderRequest): void {
    const bad = (msg: string): HalyardError => new HalyardError('invalid_input', `${this.target}: ${msg}`, { target: this.target, clientId: req.clientId });
    if (!CLIENT_ID.test(req.clientId)) throw bad(`client order id must be 1-36 characters of [A-Za-z0-9_-], got "${req.clientId}"`);
    if (!(req.qty > 0) || !Number.isFinite(req.qty)) throw bad(`order quantity must be > 0, got ${req.qty}`);
    if (req.type === 'limit' && !(req.price !== undefined && req.price > 0)) throw bad('a limit order needs a price > 0');
    if ((req.type === 'stop' || req.type === 'take_profit') && !(req.triggerPrice !== undefined && req.triggerPrice > 0)) throw bad(`a ${req.type} order needs a trigger price > 0`);
    if (req.positionSide && !this.supportsHedge) throw bad(`${this.profile.exchange} is one-way only: an order cannot name a positionSide (${req.positionSide})`);
    if (req.positionSide && this.mode !== 'hedge') throw bad('positionSide is only valid in hedge mode (call setPositionMode("hedge") first)');
    if (!req.positionSide && this.mode === 'hedge') throw bad('hedge mode needs positionSide (long or short) on every order');
  }

  /** After a create: ack-only answers are read back (or completed from the request) so callers get the order. */
  private async afterCreate(placed: Order, venueCid: string, fb: OrderFallback, hint: OrderHint): Promise<VenueOrder> {
    const withId = { ...fb, id: placed.id ?? undefined };
    if (!placed.id || this.profile.refetchAfterWrite) {
      // the order is placed: a failed read-back must not fail the create (a retry would conflict)
      const back = await (placed.id ? this.profile.fetchById(this.ccxt, placed.id, fb.symbol ?? '', hint) : this.profile.fetchByClientId(this.ccxt, venueCid, fb.symbol ?? '', hint)).catch(
        () => null,
      );
      if (back) return this.normal(back, withId);
    }
    return this.normal(placed, withId);
  }

  /** The exchange's form of our client id, remembered for the way back when it differs (Hyperliquid). */
  private remember(clientId: string): string {
    const venueCid = this.profile.venueClientId(clientId);
    if (venueCid !== clientId) this.ours.set(venueCid, clientId);
    return venueCid;
  }

  /**
   * Loads the markets once. ccxt keeps a failed load as a rejected promise and hands it to every later
   * call, so a load that failed is started afresh (`reload`) rather than awaited again.
   */
  private async markets(): Promise<void> {
    if (this.ccxt.markets !== undefined) return;
    const reload = this.marketsTried;
    this.marketsTried = true;
    await this.ccxt.loadMarkets(reload);
  }

  private normal(o: Order, fb: OrderFallback = {}): VenueOrder {
    return toVenueOrder(o, this.profile, (cid) => this.ours.get(cid) ?? cid, this.clock.now(), fb);
  }

  /** One retried, error-mapped exchange call. */
  private async call<T>(op: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await withRetry(async () => {
        await this.markets();
        return await fn();
      }, this.policy(op));
    } catch (e) {
      throw this.mapError(e, op);
    }
  }

  private policy(op: string): RetryPolicy {
    return {
      ...this.retry,
      label: `${this.target} ${op}`,
      isTransient: (e) => this.profile.transient?.(e) ?? (isTransient(e) && !isHalyardError(this.profile.classify?.(e, op))),
      retryAfterMs: (e) => this.retryAfter(e),
    };
  }

  /** The Retry-After the exchange sent with a rate-limit answer (ms), if any. */
  private retryAfter(e: unknown): number | undefined {
    if (!(e instanceof errors.RateLimitExceeded || e instanceof errors.DDoSProtection)) return undefined;
    const headers = this.ccxt.last_response_headers ?? {};
    if (this.profile.retryAfterMs) return this.profile.retryAfterMs(headers, this.clock.now());
    return parseRetryAfter(headers['Retry-After'], this.clock.now());
  }

  private mapError(e: unknown, op: string): HalyardError {
    return toHalyardError(e, { target: this.target, op }, this.profile.classify);
  }
}
