import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isHalyardError, type ErrorCode } from '../src/core/errors.ts';
import type { Venue } from '../src/core/venue.ts';

/** What the contract suite needs of a venue under test: the venue and a way to move its market. */
export interface VenueHarness {
  readonly venue: Venue;
  /** Moves the venue's market price of `symbol` (quote); resting orders it reaches execute. */
  setPrice(symbol: string, price: number): Promise<void>;
  /** Requests the venue has received so far (stub servers); absent for in-process venues. */
  requestCount?(): number;
  close(): Promise<void>;
}

/** Resolves when `p` rejects with a HalyardError of `code`; fails otherwise. */
async function expectCode(p: Promise<unknown>, code: ErrorCode): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isHalyardError(err) ? err.code : err).toBe(code);
}

let seq = 0;
/** A fresh client id per order (ids are unique per venue account). */
function cid(tag: string): string {
  seq += 1;
  return `ct${tag}${seq}${process.pid}`;
}

/** The market a contract run trades: its perpetual and its settlement currency. */
export interface ContractMarket {
  readonly symbol: string;
  readonly currency: string;
}

/**
 * The one venue contract: every venue (the simulated exchange, each ccxt adapter against its stub server)
 * must pass it unchanged. Prices start at 50,000 for the symbol (BTC/USDT:USDT unless the venue settles in
 * another currency, as Hyperliquid does in USDC) with a 10,000 account.
 */
export function describeVenueContract(name: string, setup: () => Promise<VenueHarness>, market: ContractMarket = { symbol: 'BTC/USDT:USDT', currency: 'USDT' }): void {
  const BTC = market.symbol;
  describe(`venue contract: ${name}`, () => {
    let h: VenueHarness;
    beforeEach(async () => {
      h = await setup();
      await h.setPrice(BTC, 50_000);
    });
    afterEach(async () => {
      await h.close();
    });

    it('reports the settlement balance with free <= total', async () => {
      const balances = await h.venue.fetchBalance();
      const usdt = balances.find((b) => b.currency === market.currency);
      expect(usdt?.total).toBeCloseTo(10_000, 6);
      expect(usdt?.free).toBeLessThanOrEqual(usdt?.total ?? 0);
    });

    it('fills a market order into a position, keeping the raw payload', async () => {
      const id = cid('m');
      const placed = await h.venue.createOrder({ clientId: id, symbol: BTC, side: 'buy', type: 'market', qty: 0.01 });
      expect(placed.clientId).toBe(id);
      expect(placed.raw).toBeTruthy();
      const seen = await h.venue.fetchOrderByClientId(id, BTC);
      expect(seen?.status).toBe('filled');
      expect(seen?.filledQty).toBeCloseTo(0.01, 9);
      const [pos, ...rest] = await h.venue.fetchPositions([BTC]);
      expect(rest).toHaveLength(0);
      expect(pos).toMatchObject({ symbol: BTC, side: 'long', qty: 0.01 });
      expect(pos?.entryPrice).toBeCloseTo(50_000, 6);
      const [usdt] = await h.venue.fetchBalance();
      expect(usdt?.used).toBeGreaterThan(0);
    });

    it('rests a limit order, lists it, cancels it once', async () => {
      const placed = await h.venue.createOrder({ clientId: cid('l'), symbol: BTC, side: 'buy', type: 'limit', qty: 0.01, price: 48_000 });
      const open = await h.venue.fetchOpenOrders(BTC);
      expect(open.map((o) => o.id)).toEqual([placed.id]);
      expect(open[0]).toMatchObject({ type: 'limit', price: 48_000, side: 'buy', status: 'accepted' });
      const canceled = await h.venue.cancelOrder(placed.id, BTC);
      expect(canceled.status).toBe('canceled');
      expect(await h.venue.fetchOpenOrders(BTC)).toHaveLength(0);
      await expectCode(h.venue.cancelOrder(placed.id, BTC), 'not_found');
      expect(await h.venue.fetchPositions([BTC])).toHaveLength(0);
    });

    it('fills a resting limit when the market reaches it', async () => {
      const id = cid('lf');
      await h.venue.createOrder({ clientId: id, symbol: BTC, side: 'buy', type: 'limit', qty: 0.02, price: 49_000 });
      await h.setPrice(BTC, 48_900);
      expect((await h.venue.fetchOrderByClientId(id, BTC))?.status).toBe('filled');
      const [pos] = await h.venue.fetchPositions([BTC]);
      expect(pos).toMatchObject({ side: 'long', qty: 0.02 });
      expect(pos?.entryPrice).toBeCloseTo(49_000, 6);
    });

    it('runs a bracket: the take-profit closes the position and the stop is canceled with it', async () => {
      await h.venue.createOrder({ clientId: cid('e'), symbol: BTC, side: 'buy', type: 'market', qty: 0.01 });
      const sl = await h.venue.createOrder({ clientId: cid('sl'), symbol: BTC, side: 'sell', type: 'stop', qty: 0.01, triggerPrice: 49_000, reduceOnly: true });
      const tp = await h.venue.createOrder({ clientId: cid('tp'), symbol: BTC, side: 'sell', type: 'take_profit', qty: 0.01, triggerPrice: 51_000, reduceOnly: true });
      const open = await h.venue.fetchOpenOrders(BTC);
      expect(open.map((o) => [o.type, o.triggerPrice, o.reduceOnly]).sort()).toEqual([
        ['stop', 49_000, true],
        ['take_profit', 51_000, true],
      ]);
      await h.setPrice(BTC, 51_100);
      expect(await h.venue.fetchPositions([BTC])).toHaveLength(0);
      expect(await h.venue.fetchOpenOrders(BTC)).toHaveLength(0);
      expect((await h.venue.fetchOrderByClientId(tp.clientId ?? '', BTC))?.status).toBe('filled');
      expect((await h.venue.fetchOrderByClientId(sl.clientId ?? '', BTC))?.status).toBe('canceled');
    });

    it('triggers a stop-loss when the market falls through it', async () => {
      await h.venue.createOrder({ clientId: cid('e'), symbol: BTC, side: 'buy', type: 'market', qty: 0.01 });
      await h.venue.createOrder({ clientId: cid('sl'), symbol: BTC, side: 'sell', type: 'stop', qty: 0.01, triggerPrice: 49_000, reduceOnly: true });
      await h.setPrice(BTC, 49_500);
      expect(await h.venue.fetchPositions([BTC])).toHaveLength(1);
      await h.setPrice(BTC, 48_900);
      expect(await h.venue.fetchPositions([BTC])).toHaveLength(0);
      const [usdt] = await h.venue.fetchBalance();
      expect(usdt?.total).toBeLessThan(10_000 - 0.01 * 1_000);
    });

    it('refuses what a venue refuses: reduce-only when flat, a stop that would trigger at once, no margin', async () => {
      await expectCode(h.venue.createOrder({ clientId: cid('r'), symbol: BTC, side: 'sell', type: 'market', qty: 0.01, reduceOnly: true }), 'venue_rejected');
      await expectCode(h.venue.createOrder({ clientId: cid('s'), symbol: BTC, side: 'buy', type: 'stop', qty: 0.01, triggerPrice: 49_000 }), 'venue_rejected');
      await expectCode(h.venue.createOrder({ clientId: cid('big'), symbol: BTC, side: 'buy', type: 'market', qty: 50 }), 'venue_rejected');
      expect(await h.venue.fetchPositions([BTC])).toHaveLength(0);
    });

    it('never places one client id twice and finds orders by client id', async () => {
      const id = cid('d');
      await h.venue.createOrder({ clientId: id, symbol: BTC, side: 'buy', type: 'limit', qty: 0.01, price: 45_000 });
      await expectCode(h.venue.createOrder({ clientId: id, symbol: BTC, side: 'buy', type: 'limit', qty: 0.01, price: 45_000 }), 'conflict');
      expect(await h.venue.fetchOpenOrders(BTC)).toHaveLength(1);
      expect(await h.venue.fetchOrderByClientId(cid('never'), BTC)).toBeNull();
    });

    it('reduces with reduce-only in one-way mode and flips without it', async () => {
      await h.venue.createOrder({ clientId: cid('a'), symbol: BTC, side: 'buy', type: 'market', qty: 0.03 });
      await h.venue.createOrder({ clientId: cid('b'), symbol: BTC, side: 'sell', type: 'market', qty: 0.01, reduceOnly: true });
      expect((await h.venue.fetchPositions([BTC]))[0]).toMatchObject({ side: 'long', qty: 0.02 });
      await h.venue.createOrder({ clientId: cid('c'), symbol: BTC, side: 'sell', type: 'market', qty: 0.05 });
      expect((await h.venue.fetchPositions([BTC]))[0]).toMatchObject({ side: 'short', qty: 0.03, positionSide: null });
    });

    it('keeps hedge legs apart where the venue supports hedge mode, and refuses it before sending otherwise', async () => {
      if (!h.venue.supportsHedge) {
        const before = h.requestCount?.() ?? 0;
        await expectCode(h.venue.setPositionMode('hedge'), 'invalid_input');
        await expectCode(h.venue.createOrder({ clientId: cid('h'), symbol: BTC, side: 'buy', type: 'market', qty: 0.01, positionSide: 'long' }), 'invalid_input');
        expect(h.requestCount?.() ?? 0).toBe(before);
        return;
      }
      await h.venue.setPositionMode('hedge');
      expect(h.venue.positionMode()).toBe('hedge');
      await h.venue.createOrder({ clientId: cid('hl'), symbol: BTC, side: 'buy', type: 'market', qty: 0.01, positionSide: 'long' });
      await h.venue.createOrder({ clientId: cid('hs'), symbol: BTC, side: 'sell', type: 'market', qty: 0.02, positionSide: 'short' });
      const legs = (await h.venue.fetchPositions([BTC])).map((p) => [p.positionSide, p.side, p.qty]).sort();
      expect(legs).toEqual([
        ['long', 'long', 0.01],
        ['short', 'short', 0.02],
      ]);
      await h.venue.createOrder({ clientId: cid('hc'), symbol: BTC, side: 'sell', type: 'market', qty: 0.01, positionSide: 'long' });
      const after = await h.venue.fetchPositions([BTC]);
      expect(after.map((p) => [p.positionSide, p.qty])).toEqual([['short', 0.02]]);
      await expectCode(h.venue.setPositionMode('oneway'), 'venue_rejected');
    });
  });
}
