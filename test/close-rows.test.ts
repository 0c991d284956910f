// Closing one row on a real ccxt venue (the Binance USDⓈ-M stub on loopback): an engine position beside a
// signal position on the same symbol closes on its own, booked against it; a holding no ledger position
// explains closes by symbol, and only that part.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/core/ports.ts';
import { createCcxtVenue } from '../src/exchange/ccxt/index.ts';
import type { Venue } from '../src/core/venue.ts';
import type { Store } from '../src/store/db.ts';
import { DIALECTS } from './db.ts';
import { api, insertEnginePosition, NOW, postSignal, startServer, userWithRecorder, type Running } from './server-helpers.ts';
import { startBinanceStub } from './stubs/binance-trade.ts';
import type { TradeStub } from './stubs/trade-shared.ts';

const BTC = 'BTC/USDT:USDT';
const KEY = 'binance-key';

interface Order {
  side: string;
  qty: number;
  status: string;
  filled_qty: number;
  reduce_only: boolean;
  role: string;
}
interface Pos {
  id: string;
  source: string;
  size: number;
  status: string;
  broker_size: number | null;
  diverged: boolean;
}

for (const d of DIALECTS) {
  describe(`closing one row on a ccxt venue (${d.name})`, () => {
    let loc: Awaited<ReturnType<typeof d.fresh>>;
    let store: Store;
    let stub: TradeStub;
    let srv: Running;
    let outside: Venue;
    beforeAll(async () => {
      loc = await d.fresh();
      store = await loc.open();
      stub = await startBinanceStub({ balance: 100_000 });
      await stub.setPrice(BTC, 50_000);
      const open = (credentials: { apiKey: string; secret: string }) =>
        createCcxtVenue({ exchange: 'binance', env: 'paper', credentials, urlOverride: stub.url, enableRateLimit: false, timeoutMs: 2_000, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 } });
      srv = await startServer(store, {}, new ManualClock(NOW), { openCcxt: async (_t, credentials) => open(credentials), settleEveryMs: 3_600_000 });
      outside = await open({ apiKey: KEY, secret: 's' });
    });
    afterAll(async () => {
      await srv?.stop();
      await outside?.close();
      await stub?.close();
      await store?.close();
      await loc?.drop();
    });

    it("closes an engine position beside a signal's on one symbol, booked against it; then only what the ledger does not explain", async () => {
      const { user, token, secret } = await userWithRecorder(store, `closer-${d.name}`, { targets: [{ key: 'binance:paper', multiplier: 1 }] });
      expect((await api(srv.base, token, '/api/accounts', { method: 'POST', body: JSON.stringify({ target: 'binance:paper', api_key: KEY, api_secret: 's' }) })).status).toBe(201);
      // The engine's 0.5 long is on the venue (placed by the engine itself), and a signal adds 0.2.
      await outside.createOrder({ clientId: 'engine-open-1', symbol: BTC, side: 'buy', type: 'market', qty: 0.5 });
      await insertEnginePosition(store.db, { id: 'e-close-1', userId: user.id, target: 'binance:paper', symbol: 'BTCUSDT', side: 'long', qty: 0.5, price: 50_000, openedAt: NOW - 60_000 });
      expect((await postSignal(srv.base, secret, JSON.stringify({ ticker: 'BTCUSDT', action: 'buy', quantity: 0.2, price: 50_000 }))).json.status).toBe('accepted');
      await srv.dispatcher.drain();
      expect((await outside.fetchPositions([BTC]))[0]).toMatchObject({ side: 'long', qty: 0.7 });

      // Close the engine's row: an order of its size, reduce-only (the venue holds more than that on its side).
      const closed = await api<Order>(srv.base, token, '/api/positions/close', { method: 'POST', body: JSON.stringify({ target: 'binance:paper', position_id: 'e-close-1' }) });
      expect(closed.status, JSON.stringify(closed.json)).toBe(201);
      expect(closed.json).toMatchObject({ role: 'close', side: 'sell', qty: 0.5, filled_qty: 0.5, status: 'filled', reduce_only: true });
      const engine = await store.db.selectFrom('positions').select(['status', 'close_reason', 'qty']).where('id', '=', 'e-close-1').executeTakeFirstOrThrow();
      expect(engine).toEqual({ status: 'closed', close_reason: 'closed_from_dashboard', qty: 0 });
      const trades = (await api<{ position_id: string; source: string; qty: number }[]>(srv.base, token, '/api/trades?source=engine')).json;
      expect(trades).toEqual([expect.objectContaining({ position_id: 'e-close-1', source: 'engine', qty: 0.5 })]);
      // The signal's position did not move, and the venue holds exactly it.
      const open = (await api<Pos[]>(srv.base, token, '/api/positions?exchange=binance&env=paper')).json;
      expect(open.map((p) => [p.source, p.size, p.broker_size, p.diverged])).toEqual([['signal', 0.2, 0.2, false]]);

      // 0.1 more from outside Halyard: closing by symbol closes that 0.1 only.
      await outside.createOrder({ clientId: 'outside-2', symbol: BTC, side: 'buy', type: 'market', qty: 0.1 });
      const untracked = await api<Order>(srv.base, token, '/api/positions/close', { method: 'POST', body: JSON.stringify({ target: 'binance:paper', symbol: 'BTCUSDT' }) });
      expect(untracked.status, JSON.stringify(untracked.json)).toBe(201);
      expect(untracked.json).toMatchObject({ side: 'sell', qty: 0.1, filled_qty: 0.1, status: 'filled', reduce_only: true });
      expect((await outside.fetchPositions([BTC]))[0]).toMatchObject({ side: 'long', qty: 0.2 });
      // Now the ledger explains all of it: a close by symbol is refused with the positions to close instead.
      const refused = await api<{ error: { code: string; message: string } }>(srv.base, token, '/api/positions/close', { method: 'POST', body: JSON.stringify({ target: 'binance:paper', symbol: 'BTCUSDT' }) });
      expect([refused.status, refused.json.error.code]).toEqual([409, 'conflict']);
      expect(refused.json.error.message).toMatch(/close those positions by position_id/);
      // Another user can neither close nor see these rows, and no refusal stores an order.
      const countOrders = async () => Number((await store.db.selectFrom('order_intents').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
      const before = await countOrders();
      const stranger = await userWithRecorder(store, `stranger-${d.name}`, { targets: [{ key: 'binance:paper', multiplier: 1 }] });
      const theirs = await api<{ error: { code: string } }>(srv.base, stranger.token, '/api/positions/close', { method: 'POST', body: JSON.stringify({ target: 'binance:paper', position_id: open[0]!.id }) });
      expect([theirs.status, theirs.json.error.code]).toEqual([404, 'not_found']);
      const vague = await api<{ error: { code: string } }>(srv.base, token, '/api/positions/close', { method: 'POST', body: JSON.stringify({ target: 'binance:paper' }) });
      expect([vague.status, vague.json.error.code]).toEqual([400, 'invalid_input']);
      expect(await countOrders()).toBe(before);
      expect((await api<Pos[]>(srv.base, token, '/api/positions?exchange=binance&env=paper')).json.map((p) => p.size)).toEqual([0.2]);
      // An engine's position in its own simulated exchange is the engine's to close.
      await insertEnginePosition(store.db, { id: 'e-sim-1', userId: user.id, target: 'sim:paper', symbol: 'BTCUSDT', side: 'long', qty: 1, price: 50_000, openedAt: NOW });
      const own = await api<{ error: { code: string; message: string } }>(srv.base, token, '/api/positions/close', { method: 'POST', body: JSON.stringify({ target: 'sim:paper', position_id: 'e-sim-1' }) });
      expect([own.status, own.json.error.message]).toEqual([400, "position e-sim-1 is in its engine's own simulated exchange: only the engine closes it"]);
    });
  });
}
