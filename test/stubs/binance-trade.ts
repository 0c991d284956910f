import type { OrderStatus } from '../../src/core/orders.ts';
import type { Side } from '../../src/core/types.ts';
import type { VenueOrder, VenueOrderRequest, VenueOrderType } from '../../src/core/venue.ts';
import { DEFAULT_SIM_INSTRUMENTS } from '../../src/exchange/sim/index.ts';
import { dec, simRefusal, startStub, stubSim, type StubOptions, type StubRequest, type StubResponse, type TradeStub } from './trade-shared.ts';

/**
 * Binance USDⓈ-M futures on loopback: `/fapi` JSON as Binance sends it, errors as `{"code":-2019,"msg":...}`
 * with Binance's HTTP status, classic orders (`/fapi/v1/order`) and conditional "algo" orders
 * (`/fapi/v1/algoOrder`), positionRisk v3, account v3. A SimVenue matches the orders.
 */
const SYMBOLS: Readonly<Record<string, string>> = { BTCUSDT: 'BTC/USDT:USDT', ETHUSDT: 'ETH/USDT:USDT', SOLUSDT: 'SOL/USDT:USDT' };
const ID_OF: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(SYMBOLS).map(([id, s]) => [s, id]));
const PUBLIC = new Set(['/fapi/v1/exchangeInfo', '/fapi/v1/time', '/fapi/v1/ping']);

interface Known {
  readonly id: number;
  readonly clientId: string;
  readonly symbol: string;
  readonly algo: boolean;
}

const err = (status: number, code: number, msg: string): StubResponse => ({ status, body: { code, msg } });

const CLASSIC_STATUS: Readonly<Record<OrderStatus, string>> = {
  new: 'NEW', submitted: 'NEW', accepted: 'NEW', partially_filled: 'PARTIALLY_FILLED', filled: 'FILLED', canceled: 'CANCELED', rejected: 'REJECTED', expired: 'EXPIRED',
};
const ALGO_STATUS: Readonly<Record<OrderStatus, string>> = {
  new: 'NEW', submitted: 'NEW', accepted: 'NEW', partially_filled: 'TRIGGERED', filled: 'FINISHED', canceled: 'CANCELED', rejected: 'REJECTED', expired: 'EXPIRED',
};
const ALGO_TYPE: Readonly<Record<string, VenueOrderType>> = { STOP_MARKET: 'stop', TAKE_PROFIT_MARKET: 'take_profit' };

function legText(o: VenueOrder, hedge: boolean): string {
  return hedge && o.positionSide ? o.positionSide.toUpperCase() : 'BOTH';
}

function classicJson(k: Known, o: VenueOrder, hedge: boolean): Record<string, unknown> {
  return {
    orderId: k.id, symbol: ID_OF[o.symbol], status: CLASSIC_STATUS[o.status], clientOrderId: o.clientId, price: dec(o.price ?? 0),
    avgPrice: dec(o.avgFillPrice ?? 0), origQty: dec(o.qty), executedQty: dec(o.filledQty), cumQty: dec(o.filledQty),
    cumQuote: dec(o.filledQty * (o.avgFillPrice ?? 0)), timeInForce: 'GTC', type: o.type.toUpperCase(), reduceOnly: o.reduceOnly,
    closePosition: false, side: o.side.toUpperCase(), positionSide: legText(o, hedge), stopPrice: '0', workingType: 'CONTRACT_PRICE',
    priceProtect: false, origType: o.type.toUpperCase(), priceMatch: 'NONE', selfTradePreventionMode: 'EXPIRE_MAKER', goodTillDate: 0,
    time: o.createdAt, updateTime: o.createdAt,
  };
}

function algoJson(k: Known, o: VenueOrder, hedge: boolean): Record<string, unknown> {
  const done = o.status === 'filled';
  return {
    algoId: k.id, clientAlgoId: o.clientId, algoType: 'CONDITIONAL', orderType: o.type === 'stop' ? 'STOP_MARKET' : 'TAKE_PROFIT_MARKET',
    symbol: ID_OF[o.symbol], side: o.side.toUpperCase(), positionSide: legText(o, hedge), timeInForce: 'GTC', quantity: dec(o.qty),
    algoStatus: ALGO_STATUS[o.status], triggerPrice: dec(o.triggerPrice ?? 0), price: '0', icebergQuantity: null,
    selfTradePreventionMode: 'EXPIRE_MAKER', workingType: 'CONTRACT_PRICE', priceMatch: 'NONE', closePosition: false, priceProtect: false,
    reduceOnly: o.reduceOnly, createTime: o.createdAt, updateTime: o.createdAt, triggerTime: done ? o.createdAt : 0, goodTillDate: 0,
    ...(done ? { actualOrderId: String(k.id + 500_000), actualPrice: dec(o.avgFillPrice ?? 0), executedQty: dec(o.filledQty), avgPrice: dec(o.avgFillPrice ?? 0) } : {}),
  };
}

function exchangeInfo(): Record<string, unknown> {
  const symbols = Object.entries(SYMBOLS).map(([id, sym]) => {
    const inst = DEFAULT_SIM_INSTRUMENTS[sym] ?? { tick: 0.01, lot: 0.001, minQty: 0.001 };
    const base = id.replace(/USDT$/, '');
    return {
      symbol: id, pair: id, contractType: 'PERPETUAL', deliveryDate: 4133404800000, onboardDate: 1569398400000, status: 'TRADING',
      maintMarginPercent: '2.5000', requiredMarginPercent: '5.0000', baseAsset: base, quoteAsset: 'USDT', marginAsset: 'USDT',
      pricePrecision: 2, quantityPrecision: 3, baseAssetPrecision: 8, quotePrecision: 8, underlyingType: 'COIN', underlyingSubType: [],
      triggerProtect: '0.0500', liquidationFee: '0.012500', marketTakeBound: '0.05', maxMoveOrderLimit: 10000,
      filters: [
        { filterType: 'PRICE_FILTER', minPrice: String(inst.tick), maxPrice: '4529764', tickSize: String(inst.tick) },
        { filterType: 'LOT_SIZE', stepSize: String(inst.lot), maxQty: '1000', minQty: String(inst.minQty) },
        { filterType: 'MARKET_LOT_SIZE', stepSize: String(inst.lot), maxQty: '120', minQty: String(inst.minQty) },
        { filterType: 'MAX_NUM_ORDERS', limit: 200 },
        { filterType: 'MAX_NUM_ALGO_ORDERS', limit: 10 },
        { filterType: 'MIN_NOTIONAL', notional: '100' },
        { filterType: 'PERCENT_PRICE', multiplierUp: '1.0500', multiplierDown: '0.9500', multiplierDecimal: '4' },
      ],
      orderTypes: ['LIMIT', 'MARKET', 'STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET', 'TRAILING_STOP_MARKET'],
      timeInForce: ['GTC', 'IOC', 'FOK', 'GTX', 'GTD'],
      permissionSets: ['GRID', 'COPY'],
    };
  });
  return { timezone: 'UTC', serverTime: Date.now(), futuresType: 'U_MARGINED', rateLimits: [], exchangeFilters: [], assets: [{ asset: 'USDT', marginAvailable: true, autoAssetExchange: '-10000' }], symbols };
}

/** Starts a Binance USDⓈ-M stub. Options: starting balance, the API key it accepts (default `binance-key`). */
export async function startBinanceStub(options: StubOptions = {}): Promise<TradeStub> {
  const sim = stubSim(options, 'USDT');
  const apiKey = options.apiKey ?? 'binance-key';
  const known = new Map<number, Known>();
  let nextId = 8_000_000_001;
  const hedge = (): boolean => sim.positionMode() === 'hedge';

  const refuse = (e: unknown, query: boolean): StubResponse => {
    const { reason, message } = simRefusal(e);
    switch (reason) {
      case 'duplicate': return err(400, -4116, 'ClientOrderId is duplicated.');
      case 'not_found': return query ? err(400, -2013, 'Order does not exist.') : err(400, -2011, 'Unknown order sent.');
      case 'reduce_only': return err(400, -2022, 'ReduceOnly Order is rejected.');
      case 'would_trigger': return err(400, -2021, 'Order would immediately trigger.');
      case 'margin': return err(400, -2019, 'Margin is insufficient.');
      case 'min_qty': return err(400, -4003, 'Quantity less than or equal to zero.');
      case 'unknown_symbol': return err(400, -1121, 'Invalid symbol.');
      case 'mode_locked': return /orders/.test(message) ? err(400, -4067, 'Position side cannot be changed if there exists open orders.') : err(400, -4068, 'Position side cannot be changed if there exists position.');
      case 'position_side': return err(400, -4061, "Order's position side does not match user's setting.");
      default: return err(400, -1102, message);
    }
  };

  const find = (p: Record<string, unknown>, algo: boolean): Known | undefined => {
    const id = Number(p[algo ? 'algoId' : 'orderId']);
    const cid = String(p[algo ? 'clientAlgoId' : 'origClientOrderId'] ?? '');
    for (const k of known.values()) if (k.algo === algo && (k.id === id || (cid !== '' && k.clientId === cid))) return k;
    return undefined;
  };
  const view = async (k: Known): Promise<VenueOrder | null> => sim.fetchOrderByClientId(k.clientId, k.symbol);

  async function place(p: Record<string, unknown>, algo: boolean): Promise<StubResponse> {
    const symbol = SYMBOLS[String(p['symbol'])];
    if (!symbol) return err(400, -1121, 'Invalid symbol.');
    const leg = String(p['positionSide'] ?? 'BOTH');
    if (hedge() && p['reduceOnly'] !== undefined) return err(400, -1106, "Parameter 'reduceonly' sent when not required.");
    if (hedge() ? leg === 'BOTH' : leg !== 'BOTH') return err(400, -4061, "Order's position side does not match user's setting.");
    const rawType = String(p[algo ? 'type' : 'type'] ?? '');
    const type: VenueOrderType | undefined = algo ? ALGO_TYPE[rawType] : rawType === 'LIMIT' ? 'limit' : rawType === 'MARKET' ? 'market' : undefined;
    if (!type) return err(400, -1116, 'Invalid orderType.');
    const clientId = String(p[algo ? 'clientAlgoId' : 'newClientOrderId'] ?? `stub${nextId}`);
    const req: VenueOrderRequest = {
      clientId, symbol, side: String(p['side']).toLowerCase() === 'sell' ? 'sell' : 'buy', type, qty: Number(p['quantity']),
      ...(type === 'limit' ? { price: Number(p['price']) } : {}),
      ...(algo ? { triggerPrice: Number(p['triggerPrice']) } : {}),
      ...(leg !== 'BOTH' ? { positionSide: leg.toLowerCase() as Side } : {}),
      ...(String(p['reduceOnly']) === 'true' ? { reduceOnly: true } : {}),
    };
    try {
      const o = await sim.createOrder(req);
      const k: Known = { id: nextId++, clientId, symbol, algo };
      known.set(k.id, k);
      return { status: 200, body: algo ? algoJson(k, o, hedge()) : classicJson(k, o, hedge()) };
    } catch (e) {
      return refuse(e, false);
    }
  }

  async function route(r: StubRequest): Promise<StubResponse> {
    const p = r.params;
    const key = `${r.method} ${r.path}`;
    if (key === 'GET /fapi/v1/exchangeInfo') return { status: 200, body: exchangeInfo() };
    if (key === 'GET /fapi/v1/time') return { status: 200, body: { serverTime: Date.now() } };
    if (key === 'GET /fapi/v1/leverageBracket') {
      return { status: 200, body: Object.keys(SYMBOLS).map((symbol) => ({ symbol, brackets: [{ bracket: 1, initialLeverage: 125, notionalCap: 50_000, notionalFloor: 0, maintMarginRatio: 0.004, cum: 0 }] })) };
    }
    if (key === 'POST /fapi/v1/positionSide/dual') {
      const want = String(p['dualSidePosition']) === 'true' ? 'hedge' : 'oneway';
      if (sim.positionMode() === want) return err(400, -4059, 'No need to change position side.');
      try {
        await sim.setPositionMode(want);
        return { status: 200, body: { code: 200, msg: 'success' } };
      } catch (e) {
        return refuse(e, false);
      }
    }
    if (key === 'GET /fapi/v1/positionSide/dual') return { status: 200, body: { dualSidePosition: hedge() } };
    if (key === 'POST /fapi/v1/order') return place(p, false);
    if (key === 'POST /fapi/v1/algoOrder') return place(p, true);
    if (key === 'GET /fapi/v1/order' || key === 'GET /fapi/v1/algoOrder') {
      const algo = r.path.endsWith('algoOrder');
      const k = find(p, algo);
      const o = k ? await view(k) : null;
      if (!k || !o) return err(400, -2013, 'Order does not exist.');
      return { status: 200, body: algo ? algoJson(k, o, hedge()) : classicJson(k, o, hedge()) };
    }
    if (key === 'DELETE /fapi/v1/order' || key === 'DELETE /fapi/v1/algoOrder') {
      const algo = r.path.endsWith('algoOrder');
      const k = find(p, algo);
      const o = k ? await view(k) : null;
      if (!k || !o) return err(400, -2011, 'Unknown order sent.');
      try {
        const c = await sim.cancelOrder(o.id, k.symbol);
        return { status: 200, body: algo ? { algoId: k.id, clientAlgoId: k.clientId, code: '200', msg: 'success' } : classicJson(k, c, hedge()) };
      } catch (e) {
        return refuse(e, false);
      }
    }
    if (key === 'GET /fapi/v1/openOrders' || key === 'GET /fapi/v1/openAlgoOrders') {
      const algo = r.path.endsWith('AlgoOrders');
      const symbol = p['symbol'] === undefined ? undefined : SYMBOLS[String(p['symbol'])];
      const open = await sim.fetchOpenOrders(symbol);
      const out: Record<string, unknown>[] = [];
      for (const o of open) {
        const k = [...known.values()].find((x) => x.clientId === o.clientId && x.symbol === o.symbol);
        if (k && k.algo === algo) out.push(algo ? algoJson(k, o, hedge()) : classicJson(k, o, hedge()));
      }
      return { status: 200, body: out };
    }
    if (key === 'GET /fapi/v3/positionRisk') {
      const symbol = p['symbol'] === undefined ? undefined : SYMBOLS[String(p['symbol'])];
      const positions = await sim.fetchPositions(symbol ? [symbol] : undefined);
      return {
        status: 200,
        body: positions.map((pos) => {
          const sign = pos.side === 'long' ? 1 : -1;
          const mark = pos.markPrice ?? pos.entryPrice;
          return {
            symbol: ID_OF[pos.symbol], positionSide: pos.positionSide ? pos.positionSide.toUpperCase() : 'BOTH', positionAmt: dec(sign * pos.qty),
            entryPrice: dec(pos.entryPrice), breakEvenPrice: dec(pos.entryPrice), markPrice: dec(mark), unRealizedProfit: dec(pos.unrealizedPnl ?? 0),
            liquidationPrice: '0', isolatedMargin: '0', notional: dec(sign * pos.qty * mark), marginAsset: 'USDT', isolatedWallet: '0',
            initialMargin: dec((pos.qty * mark) / 10), maintMargin: dec(pos.qty * mark * 0.004), positionInitialMargin: dec((pos.qty * mark) / 10),
            openOrderInitialMargin: '0', adl: 1, bidNotional: '0', askNotional: '0', updateTime: Date.UTC(2026, 0, 1),
          };
        }),
      };
    }
    if (key === 'GET /fapi/v3/account') {
      const [b] = await sim.fetchBalance();
      const raw = (b?.raw ?? {}) as { wallet?: number; unrealized?: number };
      const asset = {
        asset: 'USDT', walletBalance: dec(raw.wallet ?? 0), unrealizedProfit: dec(raw.unrealized ?? 0), marginBalance: dec(b?.total ?? 0),
        maintMargin: '0', initialMargin: dec(b?.used ?? 0), positionInitialMargin: dec(b?.used ?? 0), openOrderInitialMargin: '0',
        crossWalletBalance: dec(raw.wallet ?? 0), crossUnPnl: dec(raw.unrealized ?? 0), availableBalance: dec(b?.free ?? 0),
        maxWithdrawAmount: dec(b?.free ?? 0), updateTime: Date.UTC(2026, 0, 1),
      };
      return {
        status: 200,
        body: {
          totalInitialMargin: asset.initialMargin, totalMaintMargin: '0', totalWalletBalance: asset.walletBalance, totalUnrealizedProfit: asset.unrealizedProfit,
          totalMarginBalance: asset.marginBalance, totalPositionInitialMargin: asset.initialMargin, totalOpenOrderInitialMargin: '0',
          totalCrossWalletBalance: asset.walletBalance, totalCrossUnPnl: asset.unrealizedProfit, availableBalance: asset.availableBalance,
          maxWithdrawAmount: asset.maxWithdrawAmount, assets: [asset], positions: [],
        },
      };
    }
    return err(404, -1000, `stub: no route ${key}`);
  }

  return startStub(sim, {
    async handle(r: StubRequest): Promise<StubResponse> {
      if (!PUBLIC.has(r.path)) {
        const key = r.headers['x-mbx-apikey'];
        if (key === undefined) return err(400, -2014, 'API-key format invalid.');
        if (key !== apiKey) return err(401, -2015, 'Invalid API-key, IP, or permissions for action, request ip: 127.0.0.1');
        if (r.params['signature'] === undefined) return err(400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.");
      }
      return route(r);
    },
    fault(kind): StubResponse {
      if (kind === '429') return { status: 429, headers: { 'Retry-After': '1' }, body: { code: -1003, msg: 'Too many requests; current limit of IP(127.0.0.1) is 2400 requests per minute. Please use the websocket for live updates to avoid polling the API.' } };
      return err(500, -1001, 'Internal error; unable to process your request. Please try again.');
    },
  });
}
