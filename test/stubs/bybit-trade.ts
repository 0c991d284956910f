import type { OrderStatus } from '../../src/core/orders.ts';
import type { Side } from '../../src/core/types.ts';
import type { VenueOrder, VenueOrderRequest, VenueOrderType } from '../../src/core/venue.ts';
import { DEFAULT_SIM_INSTRUMENTS } from '../../src/exchange/sim/index.ts';
import { dec, simRefusal, startStub, stubSim, type StubOptions, type StubRequest, type StubResponse, type TradeStub } from './trade-shared.ts';

/**
 * Bybit v5 (unified trading account, linear category) on loopback: `{retCode, retMsg, result,
 * retExtInfo, time}` envelopes, `/v5/order/*`, `/v5/position/*`, `/v5/account/wallet-balance` as ccxt
 * reads them. Trigger orders are orders with `triggerPrice` + `triggerDirection` (1 rise, 2 fall).
 */
const SYMBOLS: Readonly<Record<string, string>> = { BTCUSDT: 'BTC/USDT:USDT', ETHUSDT: 'ETH/USDT:USDT', SOLUSDT: 'SOL/USDT:USDT' };
const ID_OF: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(SYMBOLS).map(([id, s]) => [s, id]));
const T0 = Date.UTC(2026, 0, 1);

interface Known {
  readonly id: string;
  readonly clientId: string;
  readonly symbol: string;
  /** 1 = rise, 2 = fall, 0 = not a trigger order. */
  readonly direction: 0 | 1 | 2;
  readonly positionIdx: number;
}

const ok = (result: unknown): StubResponse => ({ status: 200, body: { retCode: 0, retMsg: 'OK', result, retExtInfo: {}, time: Date.now() } });
const fail = (retCode: number, retMsg: string, status = 200): StubResponse => ({ status, body: { retCode, retMsg, result: {}, retExtInfo: {}, time: Date.now() } });

function statusOf(o: VenueOrder, trigger: boolean): string {
  const map: Record<OrderStatus, string> = {
    new: 'Created', submitted: 'Created', accepted: trigger ? 'Untriggered' : 'New', partially_filled: 'PartiallyFilled', filled: 'Filled',
    canceled: trigger ? 'Deactivated' : o.filledQty > 0 ? 'PartiallyFilledCanceled' : 'Cancelled', rejected: 'Rejected', expired: 'Deactivated',
  };
  return map[o.status];
}

function orderJson(k: Known, o: VenueOrder): Record<string, unknown> {
  const trigger = k.direction !== 0;
  const value = o.filledQty * (o.avgFillPrice ?? 0);
  return {
    orderId: k.id, orderLinkId: o.clientId ?? '', blockTradeId: '', symbol: ID_OF[o.symbol], price: dec(o.price ?? 0), qty: dec(o.qty),
    side: o.side === 'buy' ? 'Buy' : 'Sell', isLeverage: '', positionIdx: k.positionIdx, orderStatus: statusOf(o, trigger), createType: 'CreateByUser',
    cancelType: o.status === 'canceled' ? 'CancelByUser' : 'UNKNOWN', rejectReason: 'EC_NoError', avgPrice: o.avgFillPrice === null ? '' : dec(o.avgFillPrice),
    leavesQty: dec(o.status === 'accepted' || o.status === 'partially_filled' ? o.qty - o.filledQty : 0), leavesValue: '0', cumExecQty: dec(o.filledQty),
    cumExecValue: dec(value), cumExecFee: dec(o.fee ?? 0), cumFeeDetail: { USDT: dec(o.fee ?? 0) }, timeInForce: o.type === 'limit' ? 'GTC' : 'IOC',
    orderType: o.type === 'limit' ? 'Limit' : 'Market', stopOrderType: trigger ? 'Stop' : '', orderIv: '', marketUnit: '',
    triggerPrice: trigger ? dec(o.triggerPrice ?? 0) : '0.00', takeProfit: '0.00', stopLoss: '0.00', tpslMode: '', ocoTriggerBy: '', tpLimitPrice: '',
    slLimitPrice: '', tpTriggerBy: '', slTriggerBy: '', triggerDirection: k.direction, triggerBy: trigger ? 'LastPrice' : '', lastPriceOnCreated: '',
    reduceOnly: o.reduceOnly, closeOnTrigger: false, placeType: '', smpType: 'None', smpGroup: 0, smpOrderId: '', createdTime: String(o.createdAt),
    updatedTime: String(o.createdAt),
  };
}

function instrumentsJson(): Record<string, unknown>[] {
  return Object.entries(SYMBOLS).map(([id, sym]) => {
    const inst = DEFAULT_SIM_INSTRUMENTS[sym] ?? { tick: 0.01, lot: 0.001, minQty: 0.001 };
    return {
      symbol: id, contractType: 'LinearPerpetual', status: 'Trading', baseCoin: id.replace(/USDT$/, ''), quoteCoin: 'USDT', launchTime: '1585526400000',
      deliveryTime: '0', deliveryFeeRate: '', priceScale: '2', leverageFilter: { minLeverage: '1', maxLeverage: '100.00', leverageStep: '0.01' },
      priceFilter: { minPrice: String(inst.tick), maxPrice: '1999999.80', tickSize: String(inst.tick) },
      lotSizeFilter: { maxOrderQty: '1190.000', minOrderQty: String(inst.minQty), qtyStep: String(inst.lot), postOnlyMaxOrderQty: '1190.000', maxMktOrderQty: '500.000', minNotionalValue: '5' },
      unifiedMarginTrade: true, fundingInterval: 480, settleCoin: 'USDT', copyTrading: 'both', upperFundingRate: '0.00375', lowerFundingRate: '-0.00375',
      isPreListing: false, preListingInfo: null, riskParameters: { priceLimitRatioX: '0.01', priceLimitRatioY: '0.02' }, displayName: '',
    };
  });
}

/** Starts a Bybit v5 stub. Options: starting balance, the API key it accepts (default `bybit-key`). */
export async function startBybitStub(options: StubOptions = {}): Promise<TradeStub> {
  const sim = stubSim(options, 'USDT');
  const apiKey = options.apiKey ?? 'bybit-key';
  const known = new Map<string, Known>();
  let seq = 0;
  const hedge = (): boolean => sim.positionMode() === 'hedge';

  const refuse = (e: unknown, k?: { direction: number; trigger?: number; mark?: number }): StubResponse => {
    const { reason, message } = simRefusal(e);
    switch (reason) {
      case 'duplicate': return fail(110072, 'OrderLinkedID is duplicate');
      case 'not_found': return fail(110001, 'Order does not exist');
      case 'reduce_only': return fail(110017, 'current position is zero, cannot fix reduce-only order qty');
      case 'would_trigger':
        return k?.direction === 1
          ? fail(110092, `expect Rising, but trigger_price[${k.trigger ?? 0}] <= current[${k.mark ?? 0}]`)
          : fail(110093, `expect Falling, but trigger_price[${k?.trigger ?? 0}] >= current[${k?.mark ?? 0}]`);
      case 'margin': return fail(110007, 'ab not enough for new order');
      case 'min_qty': return fail(10001, 'The number of contracts is below the minimum allowed');
      case 'unknown_symbol': return fail(10001, 'params error: symbol invalid');
      case 'mode_locked': return fail(110024, 'You have an existing position, so position mode cannot be switched');
      case 'position_side': return fail(10001, 'position idx not match position mode');
      default: return fail(10001, message);
    }
  };

  const view = (k: Known): Promise<VenueOrder | null> => sim.fetchOrderByClientId(k.clientId, k.symbol);
  const find = (p: Record<string, unknown>): Known | undefined => {
    if (p['orderId'] !== undefined) return known.get(String(p['orderId']));
    const cid = p['orderLinkId'];
    return cid === undefined ? undefined : [...known.values()].find((k) => k.clientId === cid);
  };

  async function create(p: Record<string, unknown>): Promise<StubResponse> {
    const symbol = SYMBOLS[String(p['symbol'])];
    if (p['category'] !== 'linear') return fail(10001, 'params error: category invalid');
    if (!symbol) return fail(10001, 'params error: symbol invalid');
    const idx = Number(p['positionIdx'] ?? 0);
    if (hedge() ? idx === 0 : idx !== 0) return fail(10001, 'position idx not match position mode');
    const trigger = Number(p['triggerPrice'] ?? 0);
    const direction = (trigger > 0 ? Number(p['triggerDirection']) : 0) as 0 | 1 | 2;
    const side = String(p['side']) === 'Sell' ? 'sell' : 'buy';
    const type: VenueOrderType = direction === 0 ? (p['orderType'] === 'Limit' ? 'limit' : 'market') : (direction === 1) === (side === 'buy') ? 'stop' : 'take_profit';
    const clientId = String(p['orderLinkId'] ?? `stub${seq + 1}`);
    const req: VenueOrderRequest = {
      clientId, symbol, side, type, qty: Number(p['qty']),
      ...(type === 'limit' ? { price: Number(p['price']) } : {}),
      ...(direction !== 0 ? { triggerPrice: trigger } : {}),
      ...(idx !== 0 ? { positionSide: (idx === 1 ? 'long' : 'short') as Side } : {}),
      ...(p['reduceOnly'] === true ? { reduceOnly: true } : {}),
    };
    try {
      await sim.createOrder(req);
      const id = `00000000-0000-4000-8000-${String(++seq).padStart(12, '0')}`;
      known.set(id, { id, clientId, symbol, direction, positionIdx: idx });
      return ok({ orderId: id, orderLinkId: clientId });
    } catch (e) {
      return refuse(e, { direction, trigger, mark: sim.markPrice(symbol) ?? 0 });
    }
  }

  async function route(r: StubRequest): Promise<StubResponse> {
    const p = r.params;
    const key = `${r.method} ${r.path}`;
    if (key === 'GET /v5/market/time') return ok({ timeSecond: String(Math.floor(Date.now() / 1000)), timeNano: String(Date.now() * 1e6) });
    if (key === 'GET /v5/market/instruments-info') {
      return ok({ category: 'linear', list: p['status'] === 'PreLaunch' ? [] : instrumentsJson(), nextPageCursor: '' });
    }
    if (key === 'POST /v5/position/switch-mode') {
      const want = Number(p['mode']) === 3 ? 'hedge' : 'oneway';
      if (sim.positionMode() === want) return fail(110025, 'Position mode is not modified');
      try {
        await sim.setPositionMode(want);
        return ok({});
      } catch (e) {
        return refuse(e);
      }
    }
    if (key === 'POST /v5/order/create') return create(p);
    if (key === 'POST /v5/order/cancel') {
      const k = find(p);
      const o = k ? await view(k) : null;
      if (!k || !o) return fail(110001, 'Order does not exist');
      try {
        await sim.cancelOrder(o.id, k.symbol);
        return ok({ orderId: k.id, orderLinkId: k.clientId });
      } catch (e) {
        return refuse(e);
      }
    }
    if (key === 'GET /v5/order/realtime') {
      const list: Record<string, unknown>[] = [];
      if (p['orderId'] !== undefined || p['orderLinkId'] !== undefined) {
        // by id: open or recently closed alike
        const k = find(p);
        const o = k ? await view(k) : null;
        if (k && o) list.push(orderJson(k, o));
      } else {
        const symbol = p['symbol'] === undefined ? undefined : SYMBOLS[String(p['symbol'])];
        for (const o of await sim.fetchOpenOrders(symbol)) {
          const k = [...known.values()].find((x) => x.clientId === o.clientId && x.symbol === o.symbol);
          if (k) list.push(orderJson(k, o));
        }
      }
      return ok({ list, nextPageCursor: '', category: 'linear' });
    }
    if (key === 'GET /v5/position/list') {
      const symbol = p['symbol'] === undefined ? undefined : SYMBOLS[String(p['symbol'])];
      const list = (await sim.fetchPositions(symbol ? [symbol] : undefined)).map((pos) => {
        const mark = pos.markPrice ?? pos.entryPrice;
        return {
          positionIdx: pos.positionSide === 'long' ? 1 : pos.positionSide === 'short' ? 2 : 0, riskId: 1, riskLimitValue: '2000000', symbol: ID_OF[pos.symbol],
          side: pos.side === 'long' ? 'Buy' : 'Sell', size: dec(pos.qty), avgPrice: dec(pos.entryPrice), positionValue: dec(pos.qty * pos.entryPrice), tradeMode: 0,
          positionStatus: 'Normal', autoAddMargin: 0, adlRankIndicator: 2, leverage: '10', positionBalance: dec((pos.qty * pos.entryPrice) / 10), markPrice: dec(mark),
          liqPrice: '', bustPrice: '', positionMM: dec(pos.qty * mark * 0.005), positionIM: dec((pos.qty * mark) / 10), tpslMode: 'Full', takeProfit: '0.00',
          stopLoss: '0.00', trailingStop: '0.00', unrealisedPnl: dec(pos.unrealizedPnl ?? 0), curRealisedPnl: '0', cumRealisedPnl: '0', seq: 1, isReduceOnly: false,
          mmrSysUpdatedTime: '', leverageSysUpdatedTime: '', sessionAvgPrice: '', createdTime: String(T0), updatedTime: String(T0),
        };
      });
      return ok({ list, nextPageCursor: '', category: 'linear' });
    }
    if (key === 'GET /v5/account/wallet-balance') {
      if (p['accountType'] !== 'UNIFIED') return fail(10001, 'accountType only support UNIFIED.');
      const [b] = await sim.fetchBalance();
      const raw = (b?.raw ?? {}) as { wallet?: number; unrealized?: number };
      const coin = {
        coin: 'USDT', equity: dec(b?.total ?? 0), usdValue: dec(b?.total ?? 0), walletBalance: dec(raw.wallet ?? 0), free: '', locked: '0', spotHedgingQty: '0',
        borrowAmount: '0', availableToWithdraw: dec(b?.free ?? 0), accruedInterest: '0', totalOrderIM: '0', totalPositionIM: dec(b?.used ?? 0),
        totalPositionMM: '0', unrealisedPnl: dec(raw.unrealized ?? 0), cumRealisedPnl: '0', bonus: '0', marginCollateral: true, collateralSwitch: true, availableToBorrow: '',
      };
      return ok({
        list: [{
          accountType: 'UNIFIED', accountIMRate: '0', accountMMRate: '0', totalEquity: coin.equity, totalWalletBalance: coin.walletBalance, totalMarginBalance: coin.equity,
          totalAvailableBalance: coin.availableToWithdraw, totalPerpUPL: coin.unrealisedPnl, totalInitialMargin: coin.totalPositionIM, totalMaintenanceMargin: '0',
          accountLTV: '0', coin: [coin],
        }],
      });
    }
    return fail(10001, `stub: no route ${key}`, 404);
  }

  return startStub(sim, {
    async handle(r: StubRequest): Promise<StubResponse> {
      const isPublic = r.path.startsWith('/v5/market/');
      if (!isPublic) {
        if (r.headers['x-bapi-api-key'] !== apiKey) return fail(10003, 'API key is invalid.', 401);
        if (r.headers['x-bapi-sign'] === undefined) return fail(10004, 'error sign! origin_string[]');
      }
      return route(r);
    },
    fault(kind): StubResponse {
      if (kind === '429') {
        return { status: 200, headers: { 'X-Bapi-Limit-Status': '0', 'X-Bapi-Limit': '10', 'X-Bapi-Limit-Reset-Timestamp': String(Date.now() + 400) }, body: { retCode: 10006, retMsg: 'Too many visits!', result: {}, retExtInfo: {}, time: Date.now() } };
      }
      return fail(10016, 'Internal server error.', 500);
    },
  });
}
