import { binance, errors, type Dictionary, type Exchange, type Order, type Position } from 'ccxt';
import { HalyardError } from '../../core/errors.ts';
import type { PositionMode, Side } from '../../core/types.ts';
import type { VenueOrderRequest, VenueOrderType } from '../../core/venue.ts';
import type { Env } from '../targets.ts';
import { exchangeCodeOf, infoOf, str, type CcxtCredentials, type CcxtProfile, type OrderHint, type OrderPlan } from './profile.ts';

/**
 * ccxt's binance picks its error table by URL prefix (`https://fapi.binance.com/`, `https://demo-fapi...`).
 * Pointed at a local stub it would fall back to the generic table and classify USDⓈ-M errors differently
 * from production, so the stub's base URL is read as USDⓈ-M too.
 */
class BinanceUsdm extends binance {
  stubUrl: string | undefined;
  override getExceptionsByUrl(url: string | undefined, exactOrBroad: string): Dictionary<unknown> {
    if (this.stubUrl !== undefined && url?.startsWith(this.stubUrl) === true) {
      const linear = this.safeDict(this.exceptions, 'linear', {}) ?? {};
      return this.safeDict(linear, exactOrBroad, {}) ?? {};
    }
    return super.getExceptionsByUrl(url, exactOrBroad);
  }
}

/** Binance answers these when the account is already in the requested position mode. */
const NO_CHANGE = new Set(['-4059']);
/** Codes that mean the key/secret/signature was refused (ccxt calls some of them OperationRejected). */
const AUTH = new Set(['-2014', '-2015', '-1022']);

function toHedgeLeg(v: string | undefined): Side | null {
  return v === 'LONG' ? 'long' : v === 'SHORT' ? 'short' : null;
}

/**
 * Binance USDⓈ-M futures. Market and limit orders live in the classic order book; stop-market and
 * take-profit-market orders are "algo" (conditional) orders since Dec 2025, with their own ids and
 * endpoints (`/fapi/v1/algoOrder`), which ccxt reaches with `trigger: true`. The profile remembers which
 * ids and client ids it placed as conditional, and otherwise asks the classic book first.
 */
export function binanceProfile(): CcxtProfile {
  const conditionalIds = new Set<string>();
  const conditionalClientIds = new Set<string>();
  const remember = (o: Order, conditional: boolean): Order => {
    if (conditional) {
      if (o.id) conditionalIds.add(o.id);
      if (o.clientOrderId) conditionalClientIds.add(o.clientOrderId);
    }
    return o;
  };
  const isConditional = (o: Order): boolean => str(infoOf(o), 'algoId') !== undefined;

  /** Runs the classic lookup, then the algo one when the classic book does not know the order. */
  async function eitherBook(first: boolean, classic: () => Promise<Order>, algo: () => Promise<Order>): Promise<Order> {
    const [a, b] = first ? [algo, classic] : [classic, algo];
    try {
      return await a();
    } catch (e) {
      if (!(e instanceof errors.OrderNotFound)) throw e;
      return await b();
    }
  }

  return {
    exchange: 'binance',
    supportsHedge: true,
    currencies: ['USDT', 'USDC'],
    refetchAfterWrite: false,
    create(credentials: CcxtCredentials, settings: Record<string, unknown>): Exchange {
      return new BinanceUsdm({
        apiKey: credentials.apiKey,
        secret: credentials.secret,
        ...settings,
        options: {
          defaultType: 'swap',
          defaultSubType: 'linear',
          // USDⓈ-M only: no spot/COIN-M exchangeInfo, no sapi currency list (needs a key, absent on demo)
          fetchMarkets: { types: ['linear'] },
          fetchCurrencies: false,
          warnOnFetchOpenOrdersWithoutSymbol: false,
        },
      });
    },
    selectEnv(ex: Exchange, env: Env): void {
      if (env === 'paper') ex.enableDemoTrading(true);
    },
    onUrlOverride(ex: Exchange, url: string): void {
      if (ex instanceof BinanceUsdm) ex.stubUrl = url;
    },
    venueClientId: (clientId) => clientId,
    async plan(_ex: Exchange, req: VenueOrderRequest, mode: PositionMode): Promise<OrderPlan> {
      const params: Record<string, unknown> = { clientOrderId: req.clientId };
      // Hedge mode: the leg says it all; Binance refuses reduceOnly there (-1106).
      if (mode === 'hedge' && req.positionSide) params['positionSide'] = req.positionSide === 'long' ? 'LONG' : 'SHORT';
      else if (req.reduceOnly === true) params['reduceOnly'] = true;
      if (req.type === 'stop') params['triggerPrice'] = req.triggerPrice;
      if (req.type === 'take_profit') params['takeProfitPrice'] = req.triggerPrice;
      if (req.type === 'limit') return { type: 'limit', price: req.price, params };
      return { type: 'market', params };
    },
    async fetchByClientId(ex: Exchange, cid: string, symbol: string, hint: OrderHint): Promise<Order | null> {
      const classic = (): Promise<Order> => ex.fetchOrder('', symbol, { origClientOrderId: cid });
      const algo = (): Promise<Order> => ex.fetchOrder('', symbol, { trigger: true, clientAlgoId: cid });
      try {
        // the caller knows the book when it placed the order itself; otherwise ask both
        const o = hint.conditional === undefined ? await eitherBook(conditionalClientIds.has(cid), classic, algo) : await (hint.conditional ? algo() : classic());
        return remember(o, isConditional(o));
      } catch (e) {
        if (e instanceof errors.OrderNotFound) return null;
        throw e;
      }
    },
    async fetchById(ex: Exchange, id: string, symbol: string, hint: OrderHint): Promise<Order> {
      const first = hint.conditional ?? conditionalIds.has(id);
      const o = await eitherBook(
        first,
        () => ex.fetchOrder(id, symbol),
        () => ex.fetchOrder(id, symbol, { trigger: true }),
      );
      return remember(o, isConditional(o));
    },
    async cancel(ex: Exchange, id: string, symbol: string, hint: OrderHint): Promise<Order> {
      const first = hint.conditional ?? conditionalIds.has(id);
      return eitherBook(
        first,
        () => ex.cancelOrder(id, symbol),
        () => ex.cancelOrder(id, symbol, { trigger: true }),
      );
    },
    async fetchOpenOrders(ex: Exchange, symbol?: string): Promise<Order[]> {
      const [classic, algo] = await Promise.all([ex.fetchOpenOrders(symbol), ex.fetchOpenOrders(symbol, undefined, undefined, { trigger: true })]);
      for (const o of algo) remember(o, true);
      return [...classic, ...algo];
    },
    async setPositionMode(ex: Exchange, mode: PositionMode): Promise<void> {
      try {
        await ex.setPositionMode(mode === 'hedge');
      } catch (e) {
        if (!NO_CHANGE.has(exchangeCodeOf(e) ?? '')) throw e;
      }
    },
    orderType(o: Order): VenueOrderType | undefined {
      const info = infoOf(o);
      const t = (str(info, 'orderType') ?? str(info, 'origType') ?? str(info, 'type') ?? '').toUpperCase();
      if (t === 'STOP_MARKET' || t === 'STOP') return 'stop';
      if (t === 'TAKE_PROFIT_MARKET' || t === 'TAKE_PROFIT') return 'take_profit';
      if (t === 'LIMIT') return 'limit';
      if (t === 'MARKET') return 'market';
      return undefined;
    },
    orderLeg: (o: Order) => toHedgeLeg(str(infoOf(o), 'positionSide')),
    positionLeg: (p: Position) => toHedgeLeg(str(infoOf(p), 'positionSide')),
    classify(err: unknown): HalyardError | undefined {
      const code = exchangeCodeOf(err);
      const msg = err instanceof Error ? err.message : String(err);
      if (code === '-4116') return new HalyardError('conflict', `binance: this client order id was already used (${msg})`, { exchange: 'binance', code }, err);
      if (code !== undefined && AUTH.has(code)) {
        return new HalyardError('venue_auth', `binance refused the API key/secret: ${msg}. Check the key, its futures permission and IP whitelist.`, { exchange: 'binance', code }, err);
      }
      return undefined;
    },
  };
}
