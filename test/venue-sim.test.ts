import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/core/ports.ts';
import { SimVenue } from '../src/exchange/sim/index.ts';
import { describeVenueContract } from './venue-contract.ts';

describeVenueContract('sim', async () => {
  const venue = new SimVenue({ clock: new ManualClock(Date.UTC(2026, 0, 1)) });
  return { venue, setPrice: (s, p) => venue.setPrice(s, p), close: () => venue.close() };
});

describe('sim venue specifics', () => {
  const BTC = 'BTC/USDT:USDT';
  it('charges taker fees on market fills and maker fees on resting limits, and pays realized PnL to the wallet', async () => {
    const venue = new SimVenue({ clock: new ManualClock(0), makerFeeBps: 2, takerFeeBps: 5 });
    await venue.setPrice(BTC, 50_000);
    await venue.createOrder({ clientId: 'a', symbol: BTC, side: 'buy', type: 'market', qty: 0.1 }); // fee 2.5
    await venue.createOrder({ clientId: 'b', symbol: BTC, side: 'sell', type: 'limit', qty: 0.1, price: 51_000 });
    await venue.setPrice(BTC, 51_000); // maker fee 0.1 * 51000 * 0.0002 = 1.02; realized +100
    const [usdt] = await venue.fetchBalance();
    expect(usdt?.total).toBeCloseTo(10_000 - 2.5 + 100 - 1.02, 9);
    expect(await venue.fetchPositions()).toHaveLength(0);
  });

  it('slips market and triggered fills against the order and rounds to the tick', async () => {
    const venue = new SimVenue({ clock: new ManualClock(0), slippageBps: 10, takerFeeBps: 0 });
    await venue.setPrice(BTC, 50_000);
    const o = await venue.createOrder({ clientId: 'a', symbol: BTC, side: 'buy', type: 'market', qty: 0.01 });
    expect(o.avgFillPrice).toBe(50_050);
    await venue.createOrder({ clientId: 's', symbol: BTC, side: 'sell', type: 'stop', qty: 0.01, triggerPrice: 49_000, reduceOnly: true });
    await venue.setPrice(BTC, 48_000.03); // gap through the stop: fills at the market, less slippage
    expect((await venue.fetchOrderByClientId('s', BTC))?.avgFillPrice).toBe(47_952);
  });

  it('routes hedge-mode orders to legs through the core ledger and caps reduce-only at the leg', async () => {
    const venue = new SimVenue({ clock: new ManualClock(0), mode: 'hedge', takerFeeBps: 0 });
    await venue.setPrice(BTC, 100);
    await venue.createOrder({ clientId: 'l', symbol: BTC, side: 'buy', type: 'market', qty: 1, positionSide: 'long' });
    await venue.createOrder({ clientId: 's', symbol: BTC, side: 'sell', type: 'market', qty: 1, positionSide: 'short' });
    await venue.setPrice(BTC, 110);
    const close = await venue.createOrder({ clientId: 'c', symbol: BTC, side: 'buy', type: 'market', qty: 3, positionSide: 'short' });
    expect(close.filledQty).toBe(1);
    const [pos] = await venue.fetchPositions();
    expect(pos).toMatchObject({ positionSide: 'long', qty: 1, unrealizedPnl: 10 });
    const [usdt] = await venue.fetchBalance();
    expect(usdt?.total).toBeCloseTo(10_000 - 10 + 10, 9);
  });

  it('refuses bad requests before touching the book', async () => {
    const venue = new SimVenue({ clock: new ManualClock(0) });
    await expect(venue.createOrder({ clientId: 'x', symbol: BTC, side: 'buy', type: 'market', qty: 0.01 })).rejects.toThrow(/no market price/);
    await venue.setPrice(BTC, 50_000);
    await expect(venue.createOrder({ clientId: 'x', symbol: 'NOPE', side: 'buy', type: 'market', qty: 1 })).rejects.toThrow(/unknown symbol/);
    await expect(venue.createOrder({ clientId: 'x y', symbol: BTC, side: 'buy', type: 'market', qty: 0.01 })).rejects.toThrow(/client order id/);
    await expect(venue.createOrder({ clientId: 'x', symbol: BTC, side: 'buy', type: 'limit', qty: 0.01 })).rejects.toThrow(/needs a price/);
    await expect(venue.createOrder({ clientId: 'x', symbol: BTC, side: 'buy', type: 'market', qty: 0.0001 })).rejects.toThrow(/below the minimum/);
    await expect(venue.createOrder({ clientId: 'x', symbol: BTC, side: 'buy', type: 'market', qty: 0.01, positionSide: 'long' })).rejects.toThrow(/one-way/);
    expect(await venue.fetchOpenOrders()).toHaveLength(0);
  });
});
