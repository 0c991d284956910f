import { afterEach, describe, expect, it } from 'vitest';
import { createCcxtVenue, type CcxtVenue } from '../src/exchange/ccxt/index.ts';
import type { RetryPolicy } from '../src/exchange/retry.ts';
import { startBybitStub } from './stubs/bybit-trade.ts';
import type { TradeStub } from './stubs/trade-shared.ts';
import { describeVenueContract } from './venue-contract.ts';
import { failure, quickRetry, stubHarness, stubSettings } from './venue-helpers.ts';

const BTC = 'BTC/USDT:USDT';
const KEY = 'bybit-key';

function venueFor(stub: TradeStub, extra: { apiKey?: string; retry?: Partial<RetryPolicy>; timeoutMs?: number } = {}): CcxtVenue {
  return createCcxtVenue({
    exchange: 'bybit',
    env: 'paper',
    credentials: { apiKey: extra.apiKey ?? KEY, secret: 'bybit-secret' },
    ...stubSettings(stub.url, extra),
  });
}

describeVenueContract('bybit (ccxt → stub)', async () => {
  const stub = await startBybitStub();
  return stubHarness(stub, venueFor(stub));
});

describe('bybit adapter specifics', () => {
  let stub: TradeStub;
  afterEach(async () => stub?.close());
  const creates = (s: TradeStub) => s.requests.filter((r) => r.path === '/v5/order/create').map((r) => r.params);

  it('sends hedge legs as positionIdx 1 (long) / 2 (short), and 0 in one-way mode', async () => {
    stub = await startBybitStub();
    await stub.setPrice(BTC, 50_000);
    const venue = venueFor(stub);
    await venue.createOrder({ clientId: 'ow1', symbol: BTC, side: 'buy', type: 'limit', qty: 0.01, price: 40_000 });
    await venue.cancelOrder((await venue.fetchOpenOrders(BTC))[0]?.id ?? '', BTC);
    await venue.setPositionMode('hedge');
    expect(stub.requests.find((r) => r.path === '/v5/position/switch-mode')?.params).toMatchObject({ mode: 3, coin: 'USDT', category: 'linear' });
    await venue.createOrder({ clientId: 'hl1', symbol: BTC, side: 'buy', type: 'market', qty: 0.01, positionSide: 'long' });
    await venue.createOrder({ clientId: 'hs1', symbol: BTC, side: 'sell', type: 'market', qty: 0.02, positionSide: 'short' });
    await venue.createOrder({ clientId: 'hc1', symbol: BTC, side: 'sell', type: 'market', qty: 0.01, positionSide: 'long' });
    expect(creates(stub).map((p) => [p['orderLinkId'], p['side'], p['positionIdx'], p['reduceOnly']])).toEqual([
      ['ow1', 'Buy', 0, undefined],
      ['hl1', 'Buy', 1, undefined],
      ['hs1', 'Sell', 2, undefined],
      ['hc1', 'Sell', 1, true],
    ]);
    expect((await venue.fetchPositions()).map((p) => [p.positionSide, p.qty])).toEqual([['short', 0.02]]);
    await venue.setPositionMode('hedge'); // 110025 "not modified" is success
  });

  it('sends stops and take-profits as trigger orders with the direction that makes them one', async () => {
    stub = await startBybitStub();
    await stub.setPrice(BTC, 50_000);
    const venue = venueFor(stub);
    await venue.createOrder({ clientId: 'e1', symbol: BTC, side: 'buy', type: 'market', qty: 0.01 });
    const sl = await venue.createOrder({ clientId: 's1', symbol: BTC, side: 'sell', type: 'stop', qty: 0.01, triggerPrice: 49_000, reduceOnly: true });
    const tp = await venue.createOrder({ clientId: 't1', symbol: BTC, side: 'sell', type: 'take_profit', qty: 0.01, triggerPrice: 52_000, reduceOnly: true });
    expect(creates(stub).slice(1).map((p) => [p['orderType'], p['triggerPrice'], p['triggerDirection'], p['reduceOnly']])).toEqual([
      ['Market', '49000', 2, true],
      ['Market', '52000', 1, true],
    ]);
    // create answers ids only; the venue reads the order back
    expect([sl.type, sl.triggerPrice, sl.status, tp.type]).toEqual(['stop', 49_000, 'accepted', 'take_profit']);
    expect(sl.raw).toMatchObject({ orderLinkId: 's1', orderStatus: 'Untriggered', stopOrderType: 'Stop' });
  });

  it('retries a rate limit (waiting for the window reset) and a 10016 server error, placing once', async () => {
    stub = await startBybitStub();
    await stub.setPrice(BTC, 50_000);
    const waits: number[] = [];
    const venue = venueFor(stub, { retry: quickRetry(waits) });
    await venue.fetchBalance();
    stub.failNext(2, '429');
    stub.failNext(1, '500');
    const o = await venue.createOrder({ clientId: 'once1', symbol: BTC, side: 'buy', type: 'market', qty: 0.01 });
    expect(o).toMatchObject({ clientId: 'once1', status: 'filled', filledQty: 0.01 });
    expect(waits[0]).toBeGreaterThan(200); // X-Bapi-Limit-Reset-Timestamp ≈ now + 400 ms
    expect(creates(stub)).toHaveLength(2); // the first got the 429 and never reached the engine
    expect(await venue.fetchPositions([BTC])).toMatchObject([{ side: 'long', qty: 0.01 }]);
  });

  it('after a lost answer finds the order instead of sending it again', async () => {
    stub = await startBybitStub();
    await stub.setPrice(BTC, 50_000);
    const venue = venueFor(stub, { timeoutMs: 250 });
    await venue.fetchBalance();
    stub.failNext(1, 'timeout');
    const o = await venue.createOrder({ clientId: 'lost1', symbol: BTC, side: 'buy', type: 'market', qty: 0.01 });
    expect(o).toMatchObject({ clientId: 'lost1', status: 'filled' });
    expect(creates(stub)).toHaveLength(1);
    expect(stub.requests.at(-1)).toMatchObject({ path: '/v5/order/realtime', params: { orderLinkId: 'lost1' } });
  });

  it('says the key was refused, without retrying', async () => {
    stub = await startBybitStub({ apiKey: 'right' });
    const venue = venueFor(stub, { apiKey: 'wrong' });
    const e = await failure(venue.fetchBalance());
    expect(e.code).toBe('venue_auth');
    expect(e.message).toMatch(/bybit refused the API key\/secret.*API key is invalid/);
    expect(stub.requests.filter((r) => r.path === '/v5/account/wallet-balance')).toHaveLength(1);
  });

  it('gives up with venue_unavailable after the last attempt', async () => {
    stub = await startBybitStub();
    const venue = venueFor(stub, { retry: { ...quickRetry(), maxAttempts: 2 } });
    await venue.fetchBalance();
    stub.failNext(2, '500');
    const e = await failure(venue.fetchPositions());
    expect([e.code, e.context['attempts']]).toEqual(['venue_unavailable', 2]);
  });
});

describe('bybit endpoints per env', () => {
  const creds = { apiKey: 'k', secret: 's' };
  it('paper uses demo trading (api-demo), live uses mainnet', () => {
    const paper = createCcxtVenue({ exchange: 'bybit', env: 'paper', credentials: creds });
    const live = createCcxtVenue({ exchange: 'bybit', env: 'live', credentials: creds });
    expect(paper.target).toBe('bybit:paper');
    expect(paper.ccxt.sign('v5/market/instruments-info', 'public', 'GET', {})['url']).toBe('https://api-demo.bybit.com/v5/market/instruments-info');
    expect(live.ccxt.sign('v5/market/instruments-info', 'public', 'GET', {})['url']).toBe('https://api.bybit.com/v5/market/instruments-info');
    expect(paper.ccxt.sign('v5/order/create', 'private', 'POST', { category: 'linear' })['url']).toBe('https://api-demo.bybit.com/v5/order/create');
  });
});
