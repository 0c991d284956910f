import { afterEach, describe, expect, it } from 'vitest';
import { createCcxtVenue, type CcxtVenue } from '../src/exchange/ccxt/index.ts';
import type { RetryPolicy } from '../src/exchange/retry.ts';
import { startBinanceStub } from './stubs/binance-trade.ts';
import type { TradeStub } from './stubs/trade-shared.ts';
import { describeVenueContract } from './venue-contract.ts';
import { failure, quickRetry, stubHarness, stubSettings } from './venue-helpers.ts';

const BTC = 'BTC/USDT:USDT';
const KEY = 'binance-key';

function venueFor(stub: TradeStub, extra: { apiKey?: string; retry?: Partial<RetryPolicy>; timeoutMs?: number } = {}): CcxtVenue {
  return createCcxtVenue({
    exchange: 'binance',
    env: 'paper',
    credentials: { apiKey: extra.apiKey ?? KEY, secret: 'binance-secret' },
    ...stubSettings(stub.url, extra),
  });
}

describeVenueContract('binance (ccxt → stub)', async () => {
  const stub = await startBinanceStub();
  return stubHarness(stub, venueFor(stub));
});

describe('binance adapter specifics', () => {
  let stub: TradeStub;
  afterEach(async () => stub?.close());

  const orderPosts = (s: TradeStub) => s.requests.filter((r) => r.method === 'POST' && (r.path === '/fapi/v1/order' || r.path === '/fapi/v1/algoOrder'));

  it('sends hedge legs as positionSide LONG/SHORT and never reduceOnly (Binance refuses it in hedge mode)', async () => {
    stub = await startBinanceStub();
    await stub.setPrice(BTC, 50_000);
    const venue = venueFor(stub);
    await venue.setPositionMode('hedge');
    expect(stub.requests.find((r) => r.path === '/fapi/v1/positionSide/dual')?.params['dualSidePosition']).toBe('true');
    await venue.createOrder({ clientId: 'hl1', symbol: BTC, side: 'buy', type: 'market', qty: 0.01, positionSide: 'long' });
    await venue.createOrder({ clientId: 'hs1', symbol: BTC, side: 'sell', type: 'market', qty: 0.01, positionSide: 'short' });
    await venue.createOrder({ clientId: 'hsl', symbol: BTC, side: 'sell', type: 'stop', qty: 0.01, triggerPrice: 49_000, positionSide: 'long', reduceOnly: true });
    const sent = orderPosts(stub).map((r) => [r.params['side'], r.params['positionSide'], r.params['reduceOnly']]);
    expect(sent).toEqual([
      ['BUY', 'LONG', undefined],
      ['SELL', 'SHORT', undefined],
      ['SELL', 'LONG', undefined],
    ]);
    expect(orderPosts(stub)[2]?.params).toMatchObject({ type: 'STOP_MARKET', triggerPrice: '49000', clientAlgoId: 'hsl', algoType: 'CONDITIONAL' });
    // setting the mode it already has is not an error (Binance answers -4059)
    await venue.setPositionMode('hedge');
  });

  it('maps order types onto the wire: one-way reduceOnly, stop-market and take-profit-market as algo orders', async () => {
    stub = await startBinanceStub();
    await stub.setPrice(BTC, 50_000);
    const venue = venueFor(stub);
    await venue.createOrder({ clientId: 'm1', symbol: BTC, side: 'buy', type: 'market', qty: 0.02 });
    await venue.createOrder({ clientId: 'l1', symbol: BTC, side: 'sell', type: 'limit', qty: 0.01, price: 52_000, reduceOnly: true });
    await venue.createOrder({ clientId: 't1', symbol: BTC, side: 'sell', type: 'take_profit', qty: 0.01, triggerPrice: 55_000, reduceOnly: true });
    const [m, l, t] = orderPosts(stub).map((r) => r.params);
    expect(m).toMatchObject({ type: 'MARKET', side: 'BUY', quantity: '0.02', newClientOrderId: 'm1' });
    expect(m?.['positionSide']).toBeUndefined();
    expect(l).toMatchObject({ type: 'LIMIT', price: '52000', timeInForce: 'GTC', reduceOnly: 'true', newClientOrderId: 'l1' });
    expect(t).toMatchObject({ type: 'TAKE_PROFIT_MARKET', triggerPrice: '55000', reduceOnly: 'true', clientAlgoId: 't1' });
  });

  it('keeps the exchange payload as raw', async () => {
    stub = await startBinanceStub();
    await stub.setPrice(BTC, 50_000);
    const venue = venueFor(stub);
    const o = await venue.createOrder({ clientId: 'raw1', symbol: BTC, side: 'buy', type: 'market', qty: 0.01 });
    expect(o.raw).toMatchObject({ orderId: Number(o.id), clientOrderId: 'raw1', status: 'FILLED', origType: 'MARKET' });
    const [pos] = await venue.fetchPositions();
    expect(pos?.raw).toMatchObject({ symbol: 'BTCUSDT', positionAmt: '0.01', positionSide: 'BOTH' });
  });

  it('retries 429 ×2 (honouring Retry-After) and a 500, then places the order once', async () => {
    stub = await startBinanceStub();
    await stub.setPrice(BTC, 50_000);
    const waits: number[] = [];
    const venue = venueFor(stub, { retry: quickRetry(waits) });
    await venue.fetchBalance(); // markets loaded
    stub.failNext(2, '429');
    stub.failNext(1, '500');
    const o = await venue.createOrder({ clientId: 'once1', symbol: BTC, side: 'buy', type: 'market', qty: 0.01 });
    expect(o).toMatchObject({ clientId: 'once1', status: 'filled', filledQty: 0.01 });
    // POST → 429; before each re-send the client id is looked up: GET → 429, GET → 500, GET (unknown), POST
    expect(stub.requests.slice(-5).map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /fapi/v1/order',
      'GET /fapi/v1/order',
      'GET /fapi/v1/order',
      'GET /fapi/v1/order',
      'POST /fapi/v1/order',
    ]);
    // Retry-After: 1 s beats the jittered backoff (0.5 × 100, 0.5 × 200 ms); after the 500: 0.5 × 400 ms
    expect(waits).toEqual([1_000, 1_000, 200]);
    expect(await venue.fetchPositions([BTC])).toMatchObject([{ side: 'long', qty: 0.01 }]);
  });

  it('after a lost answer finds the order that landed instead of sending it again', async () => {
    stub = await startBinanceStub();
    await stub.setPrice(BTC, 50_000);
    const venue = venueFor(stub, { timeoutMs: 250 });
    await venue.fetchBalance();
    stub.failNext(1, 'timeout');
    const o = await venue.createOrder({ clientId: 'lost1', symbol: BTC, side: 'buy', type: 'market', qty: 0.01 });
    expect(o).toMatchObject({ clientId: 'lost1', status: 'filled' });
    expect(orderPosts(stub)).toHaveLength(1);
    expect(stub.requests.at(-1)).toMatchObject({ method: 'GET', path: '/fapi/v1/order', params: { origClientOrderId: 'lost1' } });
    expect(await venue.fetchPositions([BTC])).toMatchObject([{ qty: 0.01 }]);
  });

  it('a cancel whose answer was lost is not an error: the re-send finds the order canceled', async () => {
    stub = await startBinanceStub();
    await stub.setPrice(BTC, 50_000);
    const venue = venueFor(stub, { timeoutMs: 250 });
    const o = await venue.createOrder({ clientId: 'c1', symbol: BTC, side: 'buy', type: 'limit', qty: 0.01, price: 45_000 });
    stub.failNext(1, 'timeout', '/fapi/v1/order');
    expect(await venue.cancelOrder(o.id, BTC)).toMatchObject({ id: o.id, status: 'canceled' });
    expect(stub.requests.slice(-3).map((r) => r.method)).toEqual(['DELETE', 'DELETE', 'GET']);
  });

  it('says the key was refused and does not retry it', async () => {
    stub = await startBinanceStub({ apiKey: 'the-right-key' });
    await stub.setPrice(BTC, 50_000);
    const venue = venueFor(stub, { apiKey: 'a-wrong-key' });
    const e = await failure(venue.fetchBalance());
    expect(e.code).toBe('venue_auth');
    expect(e.message).toMatch(/refused the API key\/secret/);
    expect(e.message).toMatch(/-2015/);
    expect(stub.requests.filter((r) => r.path === '/fapi/v3/account')).toHaveLength(1);
  });

  it('gives up with venue_unavailable after the last attempt', async () => {
    stub = await startBinanceStub();
    const venue = venueFor(stub, { retry: { ...quickRetry(), maxAttempts: 3 } });
    stub.failNext(3, '500');
    const e = await failure(venue.fetchBalance());
    expect(e.code).toBe('venue_unavailable');
    expect(e.context['attempts']).toBe(3);
    expect(e.message).toMatch(/fetchBalance failed after 3 attempts/);
    // the first request is the market load; ccxt caches a failed load, the venue reloads it
    expect(stub.requests.map((r) => r.path)).toEqual(['/fapi/v1/exchangeInfo', '/fapi/v1/exchangeInfo', '/fapi/v1/exchangeInfo']);
    expect((await venue.fetchBalance())[0]?.total).toBe(10_000);
  });

  it('maps Binance refusals: margin, duplicate client id, unknown order', async () => {
    stub = await startBinanceStub({ balance: 100 });
    await stub.setPrice(BTC, 50_000);
    const venue = venueFor(stub);
    const margin = await failure(venue.createOrder({ clientId: 'big', symbol: BTC, side: 'buy', type: 'market', qty: 1 }));
    expect([margin.code, margin.message]).toEqual(['venue_rejected', expect.stringMatching(/Margin is insufficient/)]);
    await venue.createOrder({ clientId: 'dup', symbol: BTC, side: 'buy', type: 'limit', qty: 0.001, price: 40_000 });
    expect((await failure(venue.createOrder({ clientId: 'dup', symbol: BTC, side: 'buy', type: 'limit', qty: 0.001, price: 40_000 }))).code).toBe('conflict');
    expect((await failure(venue.cancelOrder('123', BTC))).code).toBe('not_found');
  });
});

describe('binance endpoints per env', () => {
  const creds = { apiKey: 'k', secret: 's' };
  it('paper uses demo trading, live uses mainnet (as ccxt signs the URLs)', () => {
    const paper = createCcxtVenue({ exchange: 'binance', env: 'paper', credentials: creds });
    const live = createCcxtVenue({ exchange: 'binance', env: 'live', credentials: creds });
    expect(paper.target).toBe('binance:paper');
    expect(paper.ccxt.sign('exchangeInfo', 'fapiPublic', 'GET', {})['url']).toBe('https://demo-fapi.binance.com/fapi/v1/exchangeInfo');
    expect(live.ccxt.sign('exchangeInfo', 'fapiPublic', 'GET', {})['url']).toBe('https://fapi.binance.com/fapi/v1/exchangeInfo');
    expect(String(paper.ccxt.sign('order', 'fapiPrivate', 'POST', { symbol: 'BTCUSDT' })['url'])).toMatch(/^https:\/\/demo-fapi\.binance\.com\/fapi\/v1\/order/);
    expect(String(live.ccxt.sign('positionRisk', 'fapiPrivateV3', 'GET', {})['url'])).toMatch(/^https:\/\/fapi\.binance\.com\/fapi\/v3\/positionRisk\?/);
  });

  it('refuses exchanges ccxt does not serve here', () => {
    expect(() => createCcxtVenue({ exchange: 'sim', env: 'paper', credentials: creds })).toThrow(expect.objectContaining({ code: 'invalid_config' }));
    expect(() => createCcxtVenue({ exchange: 'kraken', env: 'live', credentials: creds })).toThrow(expect.objectContaining({ code: 'invalid_config' }));
  });
});
