import { createHash } from 'node:crypto';
import { hyperliquid } from 'ccxt';
import type { OrderStatus } from '../../src/core/orders.ts';
import type { VenueOrder, VenueOrderRequest, VenueOrderType } from '../../src/core/venue.ts';
import type { SimInstrument } from '../../src/exchange/sim/index.ts';
import { dec, simRefusal, startStub, stubSim, type StubOptions, type StubRequest, type StubResponse, type TradeStub } from './trade-shared.ts';

/**
 * Hyperliquid on loopback: `POST /info` (metaAndAssetCtxs, allMids, clearinghouseState,
 * frontendOpenOrders, orderStatus, userAbstraction) and `POST /exchange` (order, cancel, cancelByCloid),
 * in Hyperliquid's JSON. Actions must be signed by the configured key: the stub signs the same action
 * with it (ccxt's signer, deterministic ECDSA) and answers Hyperliquid's "User or API Wallet ... does not
 * exist." when the signature differs — a wrong key, or a mainnet signature sent to testnet.
 */
const COINS = ['BTC', 'ETH', 'SOL'] as const;
const SZ_DECIMALS: Readonly<Record<string, number>> = { BTC: 5, ETH: 4, SOL: 2 };
/** Sim rules matching Hyperliquid's: size steps of 10^-szDecimals, whole-dollar BTC prices at 50k (5 significant figures). */
const INSTRUMENTS: Readonly<Record<string, SimInstrument>> = {
  'BTC/USDC:USDC': { tick: 1, lot: 0.00001, minQty: 0.00001 },
  'ETH/USDC:USDC': { tick: 0.1, lot: 0.0001, minQty: 0.0001 },
  'SOL/USDC:USDC': { tick: 0.001, lot: 0.01, minQty: 0.01 },
};
const symbolOf = (coin: string): string => `${coin}/USDC:USDC`;
const T0 = Date.UTC(2026, 0, 1);

/** The key the stub accepts unless told otherwise (a throwaway test key). */
export const HYPERLIQUID_TEST_KEY = `0x${'4c'.repeat(32)}`;

/** Settings of the Hyperliquid stub. */
export interface HyperliquidStubOptions extends StubOptions {
  /** The API wallet private key whose signatures are accepted (default HYPERLIQUID_TEST_KEY). */
  readonly privateKey?: string;
  /** Testnet (default) or mainnet signatures (the phantom agent's source differs). */
  readonly testnet?: boolean;
}

/** A running Hyperliquid stub plus the account address its key belongs to. */
export interface HyperliquidStub extends TradeStub {
  /** The account (wallet) address of the accepted key. */
  readonly walletAddress: string;
}

interface Known {
  readonly oid: number;
  readonly clientId: string;
  readonly cloid: string | null;
  readonly symbol: string;
}

const STATUS: Readonly<Record<OrderStatus, string>> = {
  new: 'open', submitted: 'open', accepted: 'open', partially_filled: 'open', filled: 'filled', canceled: 'canceled', rejected: 'rejected', expired: 'canceled',
};
const ORDER_TYPE: Readonly<Record<VenueOrderType, string>> = { market: 'Market', limit: 'Limit', stop: 'Stop Market', take_profit: 'Take Profit Market' };

function frontendOrder(k: Known, o: VenueOrder): Record<string, unknown> {
  const trigger = o.type === 'stop' || o.type === 'take_profit';
  const above = (o.type === 'stop') === (o.side === 'buy');
  return {
    coin: o.symbol.split('/')[0], side: o.side === 'buy' ? 'B' : 'A', limitPx: dec(o.price ?? o.triggerPrice ?? o.avgFillPrice ?? 0), sz: dec(o.qty - o.filledQty),
    oid: k.oid, timestamp: o.createdAt, triggerCondition: trigger ? `Price ${above ? 'above' : 'below'} ${dec(o.triggerPrice)}` : 'N/A', isTrigger: trigger,
    triggerPx: trigger ? dec(o.triggerPrice) : '0.0', children: [], isPositionTpsl: false, reduceOnly: o.reduceOnly, orderType: ORDER_TYPE[o.type],
    origSz: dec(o.qty), tif: trigger ? null : o.type === 'limit' ? 'Gtc' : 'Ioc', cloid: k.cloid,
  };
}

/** Starts a Hyperliquid stub (testnet signatures unless told otherwise). */
export async function startHyperliquidStub(options: HyperliquidStubOptions = {}): Promise<HyperliquidStub> {
  const sim = stubSim(options, 'USDC', INSTRUMENTS);
  const signer = new hyperliquid({ privateKey: options.privateKey ?? HYPERLIQUID_TEST_KEY });
  signer.setSandboxMode(options.testnet ?? true);
  const walletAddress = signer.ethGetAddressFromPrivateKey(options.privateKey ?? HYPERLIQUID_TEST_KEY).toLowerCase();
  const known: Known[] = [];
  let nextOid = 40_000_000_001;
  const ok = (type: string, statuses: unknown[]): StubResponse => ({ status: 200, body: { status: 'ok', response: { type, data: { statuses } } } });
  const view = (k: Known): Promise<VenueOrder | null> => sim.fetchOrderByClientId(k.clientId, k.symbol);
  const isUser = (u: unknown): boolean => typeof u === 'string' && u.toLowerCase() === walletAddress;

  function refusal(e: unknown, asset: number): string {
    const { reason, message } = simRefusal(e);
    switch (reason) {
      case 'duplicate': return 'Duplicate cloid: an order with this cloid was already placed.';
      case 'reduce_only': return `Reduce only order would increase position. asset=${asset}`;
      case 'would_trigger': return `Invalid TP/SL price. asset=${asset}`;
      case 'margin': return `Insufficient margin to place order. asset=${asset}`;
      case 'min_qty': return `Order has invalid size. asset=${asset}`;
      default: return `${message} asset=${asset}`;
    }
  }

  async function place(o: Record<string, unknown>): Promise<unknown> {
    const asset = Number(o['a']);
    const coin = COINS[asset];
    if (coin === undefined) return { error: `Invalid asset ${asset}` };
    const t = (o['t'] ?? {}) as { limit?: { tif?: string }; trigger?: { isMarket?: boolean; triggerPx?: string; tpsl?: string } };
    const type: VenueOrderType = t.trigger ? (t.trigger.tpsl === 'tp' ? 'take_profit' : 'stop') : t.limit?.tif === 'Ioc' ? 'market' : 'limit';
    const cloid = typeof o['c'] === 'string' ? o['c'] : null;
    const clientId = cloid ?? `hl${nextOid}`;
    const req: VenueOrderRequest = {
      clientId, symbol: symbolOf(coin), side: o['b'] === true ? 'buy' : 'sell', type, qty: Number(o['s']),
      ...(type === 'limit' ? { price: Number(o['p']) } : {}),
      ...(t.trigger ? { triggerPrice: Number(t.trigger.triggerPx) } : {}),
      ...(o['r'] === true ? { reduceOnly: true } : {}),
    };
    try {
      const placed = await sim.createOrder(req);
      const k: Known = { oid: nextOid++, clientId, cloid, symbol: req.symbol };
      known.push(k);
      const ids = { oid: k.oid, ...(cloid ? { cloid } : {}) };
      if (t.trigger) return 'waitingForTrigger';
      if (placed.status === 'filled') return { filled: { totalSz: dec(placed.filledQty), avgPx: dec(placed.avgFillPrice ?? 0), ...ids } };
      if (type === 'market') return { error: 'Order could not immediately match against any resting orders. asset=' + asset };
      return { resting: ids };
    } catch (e) {
      return { error: refusal(e, asset) };
    }
  }

  async function cancel(c: Record<string, unknown>, byCloid: boolean): Promise<unknown> {
    const asset = Number(c['asset'] ?? c['a']);
    const k = known.find((x) => (byCloid ? x.cloid === c['cloid'] : x.oid === Number(c['o'])) && x.symbol === symbolOf(COINS[asset] ?? ''));
    const o = k ? await view(k) : null;
    try {
      if (!k || !o) throw new Error('unknown');
      await sim.cancelOrder(o.id, k.symbol);
      return 'success';
    } catch {
      return { error: `Order was never placed, already canceled, or filled. asset=${asset}` };
    }
  }

  async function exchange(p: Record<string, unknown>): Promise<StubResponse> {
    const action = (p['action'] ?? {}) as Record<string, unknown>;
    const sig = (p['signature'] ?? {}) as Record<string, unknown>;
    const vault = typeof p['vaultAddress'] === 'string' ? p['vaultAddress'] : undefined;
    const expected = signer.signL1Action(action, p['nonce'], vault) as Record<string, unknown>;
    if (expected['r'] !== sig['r'] || expected['s'] !== sig['s'] || expected['v'] !== sig['v']) {
      // Hyperliquid names the address recovered from the signature; a digest of the signature stands in for it
      const stranger = `0x${createHash('sha256').update(`${String(sig['r'])}${String(sig['s'])}`).digest('hex').slice(0, 40)}`;
      return { status: 200, body: { status: 'err', response: `User or API Wallet ${stranger} does not exist.` } };
    }
    if (action['type'] === 'order') {
      const statuses: unknown[] = [];
      for (const o of (action['orders'] ?? []) as Record<string, unknown>[]) statuses.push(await place(o));
      return ok('order', statuses);
    }
    if (action['type'] === 'cancel' || action['type'] === 'cancelByCloid') {
      const statuses: unknown[] = [];
      for (const c of (action['cancels'] ?? []) as Record<string, unknown>[]) statuses.push(await cancel(c, action['type'] === 'cancelByCloid'));
      return ok('cancel', statuses);
    }
    return { status: 200, body: { status: 'err', response: `stub: unsupported action ${String(action['type'])}` } };
  }

  async function info(p: Record<string, unknown>): Promise<StubResponse> {
    const body = async (): Promise<unknown> => {
      switch (p['type']) {
        case 'metaAndAssetCtxs':
          return [
            { universe: COINS.map((name) => ({ szDecimals: SZ_DECIMALS[name], name, maxLeverage: 40, marginTableId: 56 })), marginTables: [] },
            COINS.map((name) => {
              const px = dec(sim.markPrice(symbolOf(name)) ?? (name === 'BTC' ? 50_000 : 100));
              return { funding: '0.0000125', openInterest: '1000.0', prevDayPx: px, dayNtlVlm: '1000000.0', premium: '0.0', oraclePx: px, markPx: px, midPx: px, impactPxs: [px, px], dayBaseVlm: '100.0' };
            }),
          ];
        case 'allMids':
          return Object.fromEntries(COINS.flatMap((c) => (sim.markPrice(symbolOf(c)) === undefined ? [] : [[c, dec(sim.markPrice(symbolOf(c)))]])));
        case 'userAbstraction':
          return 'default';
        case 'clearinghouseState': {
          const mine = isUser(p['user']);
          const positions = mine ? await sim.fetchPositions() : [];
          const [b] = mine ? await sim.fetchBalance() : [];
          const summary = { accountValue: dec(b?.total ?? 0), totalNtlPos: dec(positions.reduce((s, x) => s + x.qty * (x.markPrice ?? x.entryPrice), 0)), totalRawUsd: dec(b?.total ?? 0), totalMarginUsed: dec(b?.used ?? 0) };
          return {
            marginSummary: summary, crossMarginSummary: summary, crossMaintenanceMarginUsed: '0.0', withdrawable: dec(b?.free ?? 0), time: T0,
            assetPositions: positions.map((x) => ({
              type: 'oneWay',
              position: {
                coin: x.symbol.split('/')[0], szi: dec(x.side === 'long' ? x.qty : -x.qty), leverage: { type: 'cross', value: 10 }, entryPx: dec(x.entryPrice),
                positionValue: dec(x.qty * (x.markPrice ?? x.entryPrice)), unrealizedPnl: dec(x.unrealizedPnl ?? 0), returnOnEquity: '0.0', liquidationPx: null,
                marginUsed: dec((x.qty * (x.markPrice ?? x.entryPrice)) / 10), maxLeverage: 40, cumFunding: { allTime: '0.0', sinceOpen: '0.0', sinceChange: '0.0' },
              },
            })),
          };
        }
        case 'frontendOpenOrders': {
          if (!isUser(p['user'])) return [];
          const out: unknown[] = [];
          for (const o of await sim.fetchOpenOrders()) {
            const k = known.find((x) => x.clientId === o.clientId && x.symbol === o.symbol);
            if (k) out.push(frontendOrder(k, o));
          }
          return out;
        }
        case 'orderStatus': {
          const oid = p['oid'];
          const k = isUser(p['user']) ? known.find((x) => (typeof oid === 'string' && oid.startsWith('0x') ? x.cloid === oid : x.oid === Number(oid))) : undefined;
          const o = k ? await view(k) : null;
          if (!k || !o) return { status: 'unknownOid' };
          return { status: 'order', order: { order: frontendOrder(k, o), status: STATUS[o.status], statusTimestamp: o.createdAt } };
        }
        default:
          return undefined;
      }
    };
    const answer = await body();
    if (answer === undefined) return { status: 422, body: 'Failed to deserialize the JSON body into the target type', raw: true };
    return { status: 200, body: answer };
  }

  const stub = await startStub(sim, {
    handle: (r: StubRequest) => (r.method === 'POST' && r.path === '/exchange' ? exchange(r.params) : r.method === 'POST' && r.path === '/info' ? info(r.params) : Promise.resolve({ status: 404, body: 'Not Found', raw: true })),
    fault: (kind) => (kind === '429' ? { status: 429, body: 'null', raw: true } : { status: 500, body: 'Internal Server Error', raw: true }),
  });
  return { ...stub, walletAddress };
}
