import { afterEach, describe, expect, it } from 'vitest';
import { createCcxtVenue, hyperliquidCloid, type CcxtVenue } from '../src/exchange/ccxt/index.ts';
import type { RetryPolicy } from '../src/exchange/retry.ts';
import { HYPERLIQUID_TEST_KEY, startHyperliquidStub, type HyperliquidStub } from './stubs/hyperliquid-trade.ts';
import { describeVenueContract } from './venue-contract.ts';
import { failure, quickRetry, stubHarness, stubSettings } from './venue-helpers.ts';

const BTC = 'BTC/USDC:USDC';

function venueFor(stub: HyperliquidStub, extra: { secret?: string; retry?: Partial<RetryPolicy>; timeoutMs?: number } = {}): CcxtVenue {
  return createCcxtVenue({
    exchange: 'hyperliquid',
    env: 'paper',
    credentials: { apiKey: '', secret: extra.secret ?? HYPERLIQUID_TEST_KEY, password: stub.walletAddress },
    ...stubSettings(stub.url, extra),
  });
}

describeVenueContract('hyperliquid (ccxt → stub)', async () => {
  const stub = await startHyperliquidStub();
  return stubHarness(stub, venueFor(stub));
}, { symbol: BTC, currency: 'USDC' });

describe('hyperliquid adapter specifics', () => {
  let stub: HyperliquidStub;
  afterEach(async () => stub?.close());
  const actions = (s: HyperliquidStub) => s.requests.filter((r) => r.path === '/exchange').map((r) => r.params['action'] as Record<string, unknown>);

  it('refuses hedge mode and positionSide before sending anything', async () => {
    stub = await startHyperliquidStub();
    await stub.setPrice(BTC, 50_000);
    const venue = venueFor(stub);
    expect(venue.supportsHedge).toBe(false);
    const hedge = await failure(venue.setPositionMode('hedge'));
    expect([hedge.code, hedge.message]).toEqual(['invalid_input', expect.stringMatching(/one-way only/)]);
    const leg = await failure(venue.createOrder({ clientId: 'h1', symbol: BTC, side: 'buy', type: 'market', qty: 0.01, positionSide: 'long' }));
    expect([leg.code, leg.message]).toEqual(['invalid_input', expect.stringMatching(/one-way only.*positionSide/)]);
    expect(stub.requestCount()).toBe(0);
    await venue.setPositionMode('oneway'); // the only mode: nothing to send
    expect(stub.requestCount()).toBe(0);
  });

  it('sends 0x+32-hex cloids derived from our ids, market orders as IOC limits at a 5% slippage bound', async () => {
    stub = await startHyperliquidStub();
    await stub.setPrice(BTC, 50_000);
    const venue = venueFor(stub);
    const o = await venue.createOrder({ clientId: 'ordera1', symbol: BTC, side: 'buy', type: 'market', qty: 0.01 });
    await venue.createOrder({ clientId: 'orderb1', symbol: BTC, side: 'sell', type: 'take_profit', qty: 0.01, triggerPrice: 52_000, reduceOnly: true });
    const [buy, tp] = actions(stub).map((a) => (a['orders'] as Record<string, unknown>[])[0]);
    expect(hyperliquidCloid('ordera1')).toMatch(/^0x[0-9a-f]{32}$/);
    expect(buy).toMatchObject({ a: 0, b: true, p: '52500', s: '0.01', r: false, t: { limit: { tif: 'Ioc' } }, c: hyperliquidCloid('ordera1') });
    expect(tp).toMatchObject({ b: false, r: true, t: { trigger: { isMarket: true, triggerPx: '52000', tpsl: 'tp' } }, c: hyperliquidCloid('orderb1') });
    expect(o).toMatchObject({ clientId: 'ordera1', status: 'filled', avgFillPrice: 50_000 });
    expect(o.raw).toMatchObject({ filled: { totalSz: '0.01', cloid: hyperliquidCloid('ordera1') } });
    // the venue finds orders by our id again (and maps the cloid back)
    expect(await venue.fetchOrderByClientId('orderb1', BTC)).toMatchObject({ clientId: 'orderb1', type: 'take_profit', triggerPrice: 52_000, status: 'accepted' });
    // no builder-fee approval, no referral code, no builder attached to orders
    expect(actions(stub).map((a) => a['type'])).toEqual(['order', 'order']);
    expect(actions(stub)[0]?.['builder']).toBeUndefined();
  });

  it('retries 429 ×2 and a 500 on the order, looking the cloid up before each re-send: one order', async () => {
    stub = await startHyperliquidStub();
    await stub.setPrice(BTC, 50_000);
    const venue = venueFor(stub);
    await venue.fetchBalance();
    stub.failNext(2, '429', '/exchange');
    stub.failNext(1, '500', '/exchange');
    const o = await venue.createOrder({ clientId: 'once1', symbol: BTC, side: 'buy', type: 'market', qty: 0.01 });
    expect(o).toMatchObject({ clientId: 'once1', status: 'filled' });
    const sent = stub.requests.slice(3).map((r) => (r.path === '/exchange' ? 'order' : String(r.params['type'])));
    expect(sent).toEqual(['allMids', 'order', 'orderStatus', 'allMids', 'order', 'orderStatus', 'allMids', 'order', 'orderStatus', 'allMids', 'order']);
    expect(await venue.fetchPositions([BTC])).toMatchObject([{ side: 'long', qty: 0.01 }]);
  });

  it('after a lost answer finds the order by cloid instead of sending it again', async () => {
    stub = await startHyperliquidStub();
    await stub.setPrice(BTC, 50_000);
    const venue = venueFor(stub, { timeoutMs: 250 });
    await venue.fetchBalance();
    stub.failNext(1, 'timeout', '/exchange');
    const o = await venue.createOrder({ clientId: 'lost1', symbol: BTC, side: 'buy', type: 'market', qty: 0.01 });
    expect(o).toMatchObject({ clientId: 'lost1', status: 'filled', filledQty: 0.01 });
    expect(actions(stub)).toHaveLength(1);
    expect(stub.requests.at(-1)?.params).toMatchObject({ type: 'orderStatus', oid: hyperliquidCloid('lost1') });
    expect(await venue.fetchPositions([BTC])).toMatchObject([{ qty: 0.01 }]);
  });

  it('gives up with venue_unavailable after the last attempt', async () => {
    stub = await startHyperliquidStub();
    const venue = venueFor(stub, { retry: { ...quickRetry(), maxAttempts: 2 } });
    await venue.fetchBalance();
    stub.failNext(2, '429');
    const e = await failure(venue.fetchPositions());
    expect([e.code, e.context['attempts'], stub.requestCount()]).toEqual(['venue_unavailable', 2, 5]);
  });

  it('says the signing key was refused (ccxt calls it InvalidOrder) and does not retry', async () => {
    stub = await startHyperliquidStub();
    await stub.setPrice(BTC, 50_000);
    const venue = venueFor(stub, { secret: `0x${'5d'.repeat(32)}` });
    const e = await failure(venue.createOrder({ clientId: 'k1', symbol: BTC, side: 'buy', type: 'limit', qty: 0.01, price: 40_000 }));
    expect(e.code).toBe('venue_auth');
    expect(e.message).toMatch(/refused the signing key.*User or API Wallet 0x[0-9a-f]{40} does not exist/);
    expect(actions(stub)).toHaveLength(1);
  });

  it('signs for the chain it trades on: a mainnet venue against a testnet stub is refused', async () => {
    stub = await startHyperliquidStub({ testnet: true });
    await stub.setPrice(BTC, 50_000);
    const live = createCcxtVenue({ exchange: 'hyperliquid', env: 'live', credentials: { apiKey: '', secret: HYPERLIQUID_TEST_KEY, password: stub.walletAddress }, urlOverride: stub.url, enableRateLimit: false, retry: quickRetry() });
    expect((await failure(live.createOrder({ clientId: 'n1', symbol: BTC, side: 'buy', type: 'limit', qty: 0.01, price: 40_000 }))).code).toBe('venue_auth');
  });
});

describe('hyperliquid endpoints per env', () => {
  const creds = { apiKey: '', secret: HYPERLIQUID_TEST_KEY, password: '0x0000000000000000000000000000000000000001' };
  it('paper uses testnet, live uses mainnet', () => {
    const paper = createCcxtVenue({ exchange: 'hyperliquid', env: 'paper', credentials: creds });
    const live = createCcxtVenue({ exchange: 'hyperliquid', env: 'live', credentials: creds });
    expect(paper.target).toBe('hyperliquid:paper');
    expect(paper.ccxt.sign('info', 'public', 'POST', { type: 'allMids' })['url']).toBe('https://api.hyperliquid-testnet.xyz/info');
    expect(paper.ccxt.sign('exchange', 'private', 'POST', {})['url']).toBe('https://api.hyperliquid-testnet.xyz/exchange');
    expect(live.ccxt.sign('exchange', 'private', 'POST', {})['url']).toBe('https://api.hyperliquid.xyz/exchange');
  });
});
