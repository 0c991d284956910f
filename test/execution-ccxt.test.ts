// Signals executed on a real ccxt venue (Binance USDⓈ-M) against its stub server on loopback: the exchange
// down while signals arrive, and a kill -9 of the server while an order is in flight.
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/core/ports.ts';
import { createCcxtVenue } from '../src/exchange/ccxt/index.ts';
import { DIALECTS } from './db.ts';
import { api, NOW, postSignal, startServer, userWithRecorder, type Running } from './server-helpers.ts';
import { runHalyard, serve, type Serving } from './cli-run.ts';
import { startBinanceStub } from './stubs/binance-trade.ts';
import type { TradeStub } from './stubs/trade-shared.ts';

const BTC = 'BTC/USDT:USDT';
const KEY = 'binance-key';
const d = DIALECTS[0];

interface Order {
  role: string;
  action: string;
  qty: number;
  status: string;
  attempts: number;
  error: string | null;
  error_code: string | null;
  filled_qty: number;
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const orderPosts = (stub: TradeStub): number => stub.requests.filter((r) => r.method === 'POST' && r.path === '/fapi/v1/order').length;

describe('executing signals on a ccxt venue (Binance stub)', () => {
  it('records signals and moves positions while the exchange is down, then sends the waiting orders in order', async () => {
    if (!d) throw new Error('no dialect');
    const loc = await d.fresh();
    const store = await loc.open();
    const stub = await startBinanceStub({ balance: 100_000 });
    await stub.setPrice(BTC, 50_000);
    const clock = new ManualClock(NOW);
    const srv: Running = await startServer(store, {}, clock, {
      openCcxt: async (t, credentials) =>
        createCcxtVenue({ exchange: t.exchange, env: t.env, credentials, urlOverride: stub.url, enableRateLimit: false, timeoutMs: 2_000, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 } }),
      dispatchPolicy: { maxAttempts: 6, baseDelayMs: 1_000, maxDelayMs: 1_000, rng: () => 1 },
    });
    cleanups.push(
      () => loc.drop(),
      () => store.close(),
      () => stub.close(),
      () => srv.stop(),
    );
    const { token, secret } = await userWithRecorder(store, 'down', { targets: [{ key: 'binance:paper', multiplier: 0.01 }] });
    const acct = await api(srv.base, token, '/api/accounts', { method: 'POST', body: JSON.stringify({ target: 'binance:paper', api_key: KEY, api_secret: 's' }) });
    expect(acct.status).toBe(201);

    stub.failNext(1_000, '500'); // the exchange answers 500 to everything
    for (const [i, body] of [
      { ticker: 'BTCUSDT', action: 'buy', quantity: 1, price: 50_000, stop_loss: 49_000 },
      { ticker: 'BTCUSDT', action: 'buy', quantity: 1, price: 50_000, stop_loss: 49_500 },
    ].entries()) {
      clock.set(NOW + (i + 1) * 1_000);
      const r = await postSignal(srv.base, secret, JSON.stringify(body));
      expect(r.json.status).toBe('accepted');
      await srv.dispatcher.drain();
    }
    const pos = (await api<{ size: number; broker_size: number | null }[]>(srv.base, token, '/api/positions?exchange=binance&env=paper')).json;
    expect(pos).toEqual([expect.objectContaining({ size: 0.02, broker_size: null })]);
    let orders = (await api<{ items: Order[] }>(srv.base, token, '/api/orders')).json.items.reverse();
    expect(orders.map((o) => [o.role, o.status])).toEqual([
      ['entry', 'pending'],
      ['stop_loss', 'pending'],
      ['entry', 'pending'],
      ['bracket', 'pending'],
      ['stop_loss', 'pending'],
    ]);
    expect(orders[0]).toMatchObject({ attempts: 1, error_code: 'venue_unavailable' });
    expect(orders[0]?.error).toMatch(/failed after 2 attempts/);
    expect(orders[1]?.attempts).toBe(0); // waits behind its entry: never sent
    expect(stub.requestCount()).toBeGreaterThan(0); // it was asked, and answered 500

    stub.clearFaults(); // the exchange is back
    clock.set(NOW + 60_000);
    await srv.dispatcher.drain();
    orders = (await api<{ items: Order[] }>(srv.base, token, '/api/orders')).json.items.reverse();
    expect(orders.map((o) => [o.role, o.qty, o.status, o.error])).toEqual([
      ['entry', 0.01, 'filled', null],
      ['stop_loss', 0.01, 'canceled', null],
      ['entry', 0.01, 'filled', null],
      ['bracket', 0, 'done', null],
      ['stop_loss', 0.02, 'open', null],
    ]);
    expect(orderPosts(stub)).toBe(2); // the two entries, once each (stops go to the algo-order book)
    const held = await stub.sim.fetchPositions();
    expect(held.map((p) => [p.side, p.qty])).toEqual([['long', 0.02]]);
    expect((await stub.sim.fetchOpenOrders()).map((o) => [o.type, o.triggerPrice, o.qty])).toEqual([['stop', 49_500, 0.02]]);
    const after = (await api<{ size: number; broker_size: number | null; diverged: boolean }[]>(srv.base, token, '/api/positions?exchange=binance&env=paper')).json;
    expect(after).toEqual([expect.objectContaining({ size: 0.02, broker_size: 0.02, diverged: false })]);
  });

  it('places an order once when the server is killed -9 while the order is in flight', async () => {
    if (!d) throw new Error('no dialect');
    const loc = await d.fresh();
    const stub = await startBinanceStub({ balance: 100_000 });
    await stub.setPrice(BTC, 50_000);
    cleanups.push(
      () => loc.drop(),
      () => stub.close(),
    );
    const env = {
      ...(loc.url ? { DATABASE_URL: loc.url } : { DATABASE_PATH: loc.path ?? '' }),
      ENCRYPTION_KEY: 'k'.repeat(40),
      HALYARD_EXCHANGE_URL_BINANCE: stub.url,
    };
    const user = JSON.parse((await runHalyard(['users', 'add', 'kim', '--json'], env)).stdout) as { token: string };
    const rec = JSON.parse((await runHalyard(['recorders', 'add', '--user', 'kim', '--name', 'k', '--target', 'binance:paper*0.01', '--json'], env)).stdout) as { webhook_url: string };
    const secret = rec.webhook_url.split('/').at(-1) ?? '';

    let first: Serving | undefined = await serve(env);
    cleanups.push(async () => first?.child.kill('SIGKILL'));
    await api(first.base, user.token, '/api/accounts', { method: 'POST', body: JSON.stringify({ target: 'binance:paper', api_key: KEY, api_secret: 's' }) });
    stub.failNext(1, 'timeout', '/fapi/v1/order'); // the order lands, its answer never comes
    const sent = await postSignal(first.base, secret, JSON.stringify({ ticker: 'BTCUSDT', action: 'buy', quantity: 1, price: 50_000 }));
    expect(sent.json.status).toBe('accepted');
    for (let i = 0; i < 200 && orderPosts(stub) === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(orderPosts(stub)).toBe(1);
    first.child.kill('SIGKILL'); // mid-send: the intent is `sending`, the order is at the exchange
    expect(await first.exited).toBeNull();
    first = undefined;

    const second = await serve(env);
    cleanups.push(async () => second.child.kill('SIGKILL'));
    let orders: Order[] = [];
    for (let i = 0; i < 200; i++) {
      orders = (await api<{ items: Order[] }>(second.base, user.token, '/api/orders')).json.items;
      if (orders[0]?.status === 'filled') break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(orders).toEqual([expect.objectContaining({ role: 'entry', status: 'filled', filled_qty: 0.01, attempts: 1 })]);
    expect(orderPosts(stub)).toBe(1);
    expect((await stub.sim.fetchPositions()).map((p) => p.qty)).toEqual([0.01]);
  });
});
