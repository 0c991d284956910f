import { bybit, type Exchange, type Order, type Position } from 'ccxt';
import { HalyardError } from '../../core/errors.ts';
import type { PositionMode, Side } from '../../core/types.ts';
import type { VenueOrderRequest, VenueOrderType } from '../../core/venue.ts';
import type { Env } from '../targets.ts';
import { closingSide, exchangeCodeOf, infoOf, str, type CcxtCredentials, type CcxtProfile, type OrderPlan } from './profile.ts';

/** Bybit answers this when the account is already in the requested position mode. */
const NO_CHANGE = new Set(['110025']);
/** "Server timeout", "System error. Please try again later.": ccxt calls 10016 a plain ExchangeError. */
const TRANSIENT = new Set(['10000', '10016']);
/** Invalid key, invalid signature, key lacks the permission. */
const AUTH = new Set(['10003', '10004', '10005']);

function legOfIdx(idx: string | undefined): Side | null {
  return idx === '1' ? 'long' : idx === '2' ? 'short' : null;
}

/**
 * Bybit v5, linear (USDT) perpetuals on a unified trading account. Trigger orders are plain
 * `/v5/order/create` orders with `triggerPrice` and `triggerDirection` (1 = the price rises to it,
 * 2 = falls to it); whether a trigger order is a stop or a take-profit follows from its side and
 * direction (a sell that triggers on a fall is a stop). Create and cancel answer with ids only, so the
 * venue reads the order back.
 */
export function bybitProfile(): CcxtProfile {
  return {
    exchange: 'bybit',
    supportsHedge: true,
    currencies: ['USDT', 'USDC'],
    refetchAfterWrite: true,
    create(credentials: CcxtCredentials, settings: Record<string, unknown>): Exchange {
      return new bybit({
        apiKey: credentials.apiKey,
        secret: credentials.secret,
        ...settings,
        // the coin list is a private call ccxt makes on loadMarkets; linear perpetuals do not need it
        has: { fetchCurrencies: false },
        options: {
          defaultType: 'swap',
          defaultSubType: 'linear',
          fetchMarkets: { types: ['linear'] },
          adjustForTimeDifference: false,
          // every Bybit account opened since 2023 is a unified trading account (UTA 2.0); saying so
          // spares the two account-type queries ccxt makes before the first order or balance
          enableUnifiedAccount: true,
          enableUnifiedMargin: false,
          unifiedMarginStatus: 6,
        },
      });
    },
    selectEnv(ex: Exchange, env: Env): void {
      if (env === 'paper') ex.enableDemoTrading(true);
    },
    venueClientId: (clientId) => clientId,
    async plan(_ex: Exchange, req: VenueOrderRequest, mode: PositionMode): Promise<OrderPlan> {
      const params: Record<string, unknown> = { clientOrderId: req.clientId };
      if (mode === 'hedge' && req.positionSide) {
        params['positionIdx'] = req.positionSide === 'long' ? 1 : 2;
        if (req.reduceOnly === true || req.side === closingSide(req.positionSide)) params['reduceOnly'] = true;
      } else {
        params['positionIdx'] = 0;
        if (req.reduceOnly === true) params['reduceOnly'] = true;
      }
      if (req.type === 'stop' || req.type === 'take_profit') {
        const rises = (req.type === 'stop') === (req.side === 'buy');
        params['triggerPrice'] = req.triggerPrice;
        params['triggerDirection'] = rises ? 'ascending' : 'descending';
      }
      if (req.type === 'limit') return { type: 'limit', price: req.price, params };
      return { type: 'market', params };
    },
    async fetchByClientId(ex: Exchange, cid: string, symbol: string): Promise<Order | null> {
      // /v5/order/realtime by orderLinkId answers open and recently closed orders alike
      const found = await ex.fetchOpenOrders(symbol, undefined, undefined, { orderLinkId: cid });
      return found.find((o) => o.clientOrderId === cid) ?? null;
    },
    fetchById: (ex: Exchange, id: string, symbol: string) => ex.fetchOrder(id, symbol, { acknowledged: true }),
    cancel: (ex: Exchange, id: string, symbol: string) => ex.cancelOrder(id, symbol),
    fetchOpenOrders: (ex: Exchange, symbol?: string) => ex.fetchOpenOrders(symbol),
    async setPositionMode(ex: Exchange, mode: PositionMode, symbol?: string): Promise<void> {
      try {
        await ex.setPositionMode(mode === 'hedge', symbol);
      } catch (e) {
        if (!NO_CHANGE.has(exchangeCodeOf(e) ?? '')) throw e;
      }
    },
    orderType(o: Order): VenueOrderType | undefined {
      const info = infoOf(o);
      const trigger = Number(str(info, 'triggerPrice') ?? '0');
      if (trigger > 0) {
        const rises = str(info, 'triggerDirection') === '1';
        return rises === (o.side === 'buy') ? 'stop' : 'take_profit';
      }
      const t = (str(info, 'orderType') ?? '').toLowerCase();
      return t === 'limit' || t === 'market' ? t : undefined;
    },
    orderLeg: (o: Order) => legOfIdx(str(infoOf(o), 'positionIdx')),
    positionLeg: (p: Position) => legOfIdx(str(infoOf(p), 'positionIdx')),
    transient: (err: unknown) => (TRANSIENT.has(exchangeCodeOf(err) ?? '') ? true : undefined),
    retryAfterMs(headers: Readonly<Record<string, string>>, now: number): number | undefined {
      // Bybit says when the rate-limit window resets (epoch ms), not Retry-After
      const reset = Number(headers['X-Bapi-Limit-Reset-Timestamp']);
      return Number.isFinite(reset) && reset > 0 ? Math.max(0, reset - now) : undefined;
    },
    classify(err: unknown): HalyardError | undefined {
      const code = exchangeCodeOf(err);
      const msg = err instanceof Error ? err.message : String(err);
      if (code === '110072') return new HalyardError('conflict', `bybit: this orderLinkId was already used (${msg})`, { exchange: 'bybit', code }, err);
      if (code !== undefined && AUTH.has(code)) {
        return new HalyardError('venue_auth', `bybit refused the API key/secret: ${msg}. Check the key, its contract-trade permission and IP whitelist.`, { exchange: 'bybit', code }, err);
      }
      return undefined;
    },
  };
}
