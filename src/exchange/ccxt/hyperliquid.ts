import { createHash } from 'node:crypto';
import { errors, hyperliquid, type Exchange, type Order } from 'ccxt';
import { HalyardError, errorMessage } from '../../core/errors.ts';
import type { PositionMode } from '../../core/types.ts';
import type { VenueOrderRequest, VenueOrderType } from '../../core/venue.ts';
import type { Env } from '../targets.ts';
import { infoOf, str, type CcxtCredentials, type CcxtProfile, type OrderPlan } from './profile.ts';

/**
 * ccxt's hyperliquid signs an `approveBuilderFee` for ccxt's builder address with the user's wallet before
 * the first order, then attaches that builder to every order. We do not sign approvals on a user's
 * wallet behind their back, so the approval is skipped; with it unapproved ccxt attaches no builder.
 */
class HyperliquidPerps extends hyperliquid {
  override async handleBuilderFeeApproval(): Promise<boolean> {
    return true;
  }
}

/** Hyperliquid's client order id: 0x + 32 hex, derived from ours by SHA-256 (deterministic, so a retry finds it). */
export function hyperliquidCloid(clientId: string): string {
  return `0x${createHash('sha256').update(clientId).digest('hex').slice(0, 32)}`;
}

function entryOf(o: Order): Record<string, unknown> {
  const info = infoOf(o);
  const inner = info['order'];
  return typeof inner === 'object' && inner !== null ? (inner as Record<string, unknown>) : info;
}

/**
 * Hyperliquid perpetuals (USDC-settled, `BTC/USDC:USDC`). One-way only: the venue refuses hedge mode and
 * `positionSide` before anything is sent. Market orders are IOC limits at a slippage bound, so ccxt
 * needs a reference price: the mid from `allMids` (for trigger orders, the trigger price). Credentials:
 * the API wallet's private key as `secret`, the account address as `password` (or `apiKey`).
 */
export function hyperliquidProfile(): CcxtProfile {
  const mid = async (ex: Exchange, symbol: string): Promise<number> => {
    const market = ex.market(symbol);
    const info = (market.info ?? {}) as Record<string, unknown>;
    const coin = typeof info['name'] === 'string' ? info['name'] : String(market.base);
    const mids = (await (ex as hyperliquid).publicPostInfo({ type: 'allMids' })) as Record<string, unknown>;
    const px = Number(mids[coin]);
    if (!(px > 0)) throw new errors.BadSymbol(`hyperliquid: no mid price for ${coin}`);
    return px;
  };
  return {
    exchange: 'hyperliquid',
    supportsHedge: false,
    currencies: ['USDC'],
    refetchAfterWrite: false,
    create(credentials: CcxtCredentials, settings: Record<string, unknown>): Exchange {
      return new HyperliquidPerps({
        walletAddress: credentials.password || credentials.apiKey,
        privateKey: credentials.secret,
        ...settings,
        // spot token list: not needed for perpetuals
        has: { fetchCurrencies: false },
        options: {
          fetchMarkets: { types: ['swap'] },
          // ccxt would set its own referral code on the account before the first order
          refSet: true,
        },
      });
    },
    selectEnv(ex: Exchange, env: Env): void {
      if (env === 'paper') ex.setSandboxMode(true);
    },
    venueClientId: hyperliquidCloid,
    async plan(ex: Exchange, req: VenueOrderRequest, _mode: PositionMode): Promise<OrderPlan> {
      const params: Record<string, unknown> = { clientOrderId: hyperliquidCloid(req.clientId), reduceOnly: req.reduceOnly === true };
      if (req.type === 'limit') return { type: 'limit', price: req.price, params };
      if (req.type === 'stop') return { type: 'market', price: req.triggerPrice, params: { ...params, stopLossPrice: req.triggerPrice } };
      if (req.type === 'take_profit') return { type: 'market', price: req.triggerPrice, params: { ...params, takeProfitPrice: req.triggerPrice } };
      return { type: 'market', price: await mid(ex, req.symbol), params };
    },
    async fetchByClientId(ex: Exchange, cloid: string, symbol: string): Promise<Order | null> {
      try {
        return await ex.fetchOrder('', symbol, { clientOrderId: cloid });
      } catch (e) {
        if (e instanceof errors.OrderNotFound) return null;
        throw e;
      }
    },
    fetchById: (ex: Exchange, id: string, symbol: string) => ex.fetchOrder(id, symbol),
    cancel: (ex: Exchange, id: string, symbol: string) => ex.cancelOrder(id, symbol),
    fetchOpenOrders: (ex: Exchange, symbol?: string) => ex.fetchOpenOrders(symbol),
    async setPositionMode(_ex: Exchange, mode: PositionMode): Promise<void> {
      // one-way is the only mode; the venue refuses 'hedge' before calling here
      if (mode === 'hedge') throw new HalyardError('invalid_input', 'hyperliquid has no hedge mode');
    },
    orderType(o: Order): VenueOrderType | undefined {
      const t = (str(entryOf(o), 'orderType') ?? '').toLowerCase();
      if (t.startsWith('stop')) return 'stop';
      if (t.startsWith('take profit')) return 'take_profit';
      if (t === 'limit' || t === 'market') return t;
      return undefined;
    },
    orderLeg: () => null,
    positionLeg: () => null,
    classify(err: unknown): HalyardError | undefined {
      const msg = errorMessage(err);
      // ccxt files "User or API Wallet 0x… does not exist." under InvalidOrder: it is the signing key
      if (msg.includes('User or API Wallet')) {
        const hint = "Check the API wallet's private key (secret) and that it is approved for the account (password = account address).";
        return new HalyardError('venue_auth', `hyperliquid refused the signing key: ${msg}. ${hint}`, { exchange: 'hyperliquid' }, err);
      }
      if (/cloid/i.test(msg) && /duplicate|already/i.test(msg)) {
        return new HalyardError('conflict', `hyperliquid: this client order id (cloid) was already used (${msg})`, { exchange: 'hyperliquid' }, err);
      }
      return undefined;
    },
  };
}
