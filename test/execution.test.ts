import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/core/ports.ts';
import { clientOrderId } from '../src/exchange/client-id.ts';
import { SimVenue } from '../src/exchange/sim/index.ts';
import type { Store } from '../src/store/db.ts';
import { insertIntents } from '../src/store/order-intents.ts';
import { OrderDispatcher } from '../src/tracker/dispatcher.ts';
import { VenueRegistry } from '../src/tracker/venue-registry.ts';
import { DIALECTS } from './db.ts';
import { NOW, api, postSignal, startServer, userWithRecorder, type Running } from './server-helpers.ts';

interface Order {
  id: number;
  target: string;
  symbol: string;
  action: string;
  role: string;
  side: string;
  type: string;
  qty: number;
  trigger_price: number | null;
  position_side: string | null;
  reduce_only: boolean;
  client_order_id: string;
  status: string;
  error: string | null;
  error_code: string | null;
  filled_qty: number;
  avg_fill_price: number | null;
  source: string;
  opened_by: string;
  signal_id: number | null;
  cancels_order_id: number | null;
  raw: unknown;
}
interface Pos {
  symbol: string;
  side: string;
  size: number;
  target: string;
  broker_size: number | null;
  diverged: boolean;
}

const sig = (o: Record<string, unknown>): string => JSON.stringify(o);
const BTC = 'BTC/USDT:USDT';

for (const d of DIALECTS) {
  describe(`executing signals on targets (${d.name})`, () => {
    let loc: Awaited<ReturnType<typeof d.fresh>>;
    let store: Store;
    let srv: Running;

    beforeAll(async () => {
      loc = await d.fresh();
      store = await loc.open();
      srv = await startServer(store);
    });
    afterAll(async () => {
      await srv?.stop();
      await store?.close();
      await loc?.drop();
    });

    /** Sends a signal one second later and waits until its orders are worked. */
    const send = async (secret: string, body: Record<string, unknown>): Promise<number> => {
      srv.clock.set(srv.clock.now() + 1000);
      const r = await postSignal(srv.base, secret, sig(body));
      expect(r.json.status).toBe('accepted');
      await srv.dispatcher.drain();
      return r.json.signal_id as number;
    };
    const orders = async (token: string, q = ''): Promise<Order[]> => (await api<{ items: Order[] }>(srv.base, token, `/api/orders${q}`)).json.items.reverse();

    it('turns signals into orders on every linked target × multiplier, with brackets replaced safely', async () => {
      const { token, secret, user } = await userWithRecorder(store, 'exec', {
        targets: [
          { key: 'sim:paper', multiplier: 2 },
          { key: 'sim:live', multiplier: 0.5 },
        ],
      });
      const s1 = await send(secret, { ticker: 'BTCUSDT', action: 'buy', quantity: 1, price: 50_000, stop_loss: 49_000, take_profit: 52_000 });
      let all = await orders(token);
      const paper = all.filter((o) => o.target === 'sim:paper');
      expect(paper.map((o) => [o.role, o.side, o.type, o.qty, o.trigger_price, o.status])).toEqual([
        ['entry', 'buy', 'market', 2, null, 'filled'],
        ['stop_loss', 'sell', 'stop', 2, 49_000, 'open'],
        ['take_profit', 'sell', 'take_profit', 2, 52_000, 'open'],
      ]);
      expect(paper[0]).toMatchObject({ symbol: BTC, avg_fill_price: 50_000, source: 'signal', opened_by: 'signal', signal_id: s1 });
      expect(paper[0]?.client_order_id).toBe(clientOrderId([user.id, 'sim:paper', s1, 'net', 'entry']));
      expect(all.filter((o) => o.target === 'sim:live').map((o) => [o.role, o.qty, o.status])).toEqual([
        ['entry', 0.5, 'filled'],
        ['stop_loss', 0.5, 'open'],
        ['take_profit', 0.5, 'open'],
      ]);

      // DCA with a new bracket: the old bracket (and only it) is canceled, the new one covers the whole position.
      const venue = await srv.venues.get(user.id, 'sim:paper');
      await venue.createOrder({ clientId: 'userown1', symbol: BTC, side: 'buy', type: 'limit', qty: 0.01, price: 40_000 });
      await send(secret, { ticker: 'BTCUSDT', action: 'buy', quantity: 1, price: 50_100, stop_loss: 49_500, take_profit: 52_500 });
      all = await orders(token, '?target=sim:paper');
      expect(all.slice(3).map((o) => [o.action, o.role, o.qty, o.trigger_price, o.status])).toEqual([
        ['place', 'entry', 2, null, 'filled'],
        ['cancel', 'bracket', 0, null, 'done'],
        ['place', 'stop_loss', 4, 49_500, 'open'],
        ['place', 'take_profit', 4, 52_500, 'open'],
      ]);
      expect(all.slice(1, 3).map((o) => o.status)).toEqual(['canceled', 'canceled']);
      const open = await venue.fetchOpenOrders(BTC);
      expect(open.map((o) => o.clientId).sort()).toEqual([all[5]?.client_order_id, all[6]?.client_order_id, 'userown1'].sort());
      expect((await venue.fetchPositions())[0]).toMatchObject({ side: 'long', qty: 4 });

      // Broker beside signal: equal now.
      let pos = (await api<Pos[]>(srv.base, token, '/api/positions?exchange=sim&env=paper')).json;
      expect(pos).toEqual([expect.objectContaining({ size: 4, broker_size: 4, diverged: false })]);

      // Exit: reduce-only sell, the bracket goes, the user's own order stays.
      await send(secret, { ticker: 'BTCUSDT', action: 'sell', quantity: 2, price: 51_000 });
      all = await orders(token, '?target=sim:paper');
      expect(all.slice(7).map((o) => [o.action, o.role, o.side, o.qty, o.reduce_only, o.status]), JSON.stringify(all.slice(7))).toEqual([
        ['place', 'exit', 'sell', 4, true, 'filled'],
        ['cancel', 'bracket', 'buy', 0, false, 'done'],
      ]);
      expect(await venue.fetchPositions()).toHaveLength(0);
      expect((await venue.fetchOpenOrders(BTC)).map((o) => o.clientId)).toEqual(['userown1']);
      pos = (await api<Pos[]>(srv.base, token, '/api/positions?exchange=sim&env=paper')).json;
      expect(pos).toEqual([]);
    });

    it('places, lists, cancels and closes through the API, recorded as webapp orders of the user', async () => {
      const { token, secret } = await userWithRecorder(store, 'apiuser', { targets: [{ key: 'sim:paper' }] });
      await send(secret, { ticker: 'ETHUSDT', action: 'buy', quantity: 2, price: 3_000 });

      const placed = await api<Order>(srv.base, token, '/api/orders', {
        method: 'POST',
        body: JSON.stringify({ target: 'sim:paper', symbol: 'ETHUSDT', side: 'buy', type: 'limit', qty: 1, price: 2_500, client_order_id: 'my-key-1' }),
      });
      expect(placed.status).toBe(201);
      expect(placed.json).toMatchObject({ status: 'open', source: 'webapp', opened_by: 'user', role: 'manual', symbol: 'ETH/USDT:USDT' });
      const again = await api<Order>(srv.base, token, '/api/orders', {
        method: 'POST',
        body: JSON.stringify({ exchange: 'sim', env: 'paper', symbol: 'ETHUSDT', side: 'buy', type: 'limit', qty: 1, price: 2_500, client_order_id: 'my-key-1' }),
      });
      expect(again.status).toBe(200);
      expect(again.json.id).toBe(placed.json.id);

      const canceled = await api<Order>(srv.base, token, `/api/orders/${placed.json.id}`, { method: 'DELETE' });
      expect(canceled.status).toBe(200);
      expect(canceled.json.status).toBe('canceled');
      const twice = await api<{ error: { code: string } }>(srv.base, token, `/api/orders/${placed.json.id}`, { method: 'DELETE' });
      expect([twice.status, twice.json.error.code]).toEqual([409, 'conflict']);
      const cancels = (await orders(token)).filter((o) => o.action === 'cancel' && o.cancels_order_id === placed.json.id);
      expect(cancels).toEqual([expect.objectContaining({ status: 'done', source: 'webapp', opened_by: 'user' })]);

      // A refusal is an error with the venue's reason, and the order stays visible with it.
      const refused = await api<{ error: { code: string; message: string } }>(srv.base, token, '/api/orders', {
        method: 'POST',
        body: JSON.stringify({ target: 'sim:paper', symbol: 'ETHUSDT', side: 'buy', type: 'stop', qty: 1, trigger_price: 2_000 }),
      });
      expect(refused.status).toBe(422);
      expect(refused.json.error.message).toMatch(/would trigger immediately/);
      expect((await orders(token, '?status=rejected')).map((o) => o.error)).toEqual([expect.stringMatching(/would trigger immediately/)]);

      // A close by symbol closes only what no ledger position explains: here the signal position holds it all.
      const held = await api<{ error: { code: string; message: string } }>(srv.base, token, '/api/positions/close', { method: 'POST', body: JSON.stringify({ target: 'sim:paper', symbol: 'ETHUSDT' }) });
      expect([held.status, held.json.error.code]).toEqual([409, 'conflict']);
      expect(held.json.error.message).toMatch(/close those positions by position_id/);
      // Closing the signal position by its id closes it in its recorder: a CLOSE in the signal log, the exit on the venue.
      const [signalPos] = (await api<(Pos & { id: string })[]>(srv.base, token, '/api/positions?exchange=sim&env=paper')).json;
      const closed = await api<Order>(srv.base, token, '/api/positions/close', { method: 'POST', body: JSON.stringify({ target: 'sim:paper', position_id: signalPos?.id }) });
      expect(closed.status).toBe(201);
      expect(closed.json).toMatchObject({ role: 'exit', side: 'sell', qty: 2, filled_qty: 2, reduce_only: true, status: 'filled', source: 'signal' });
      expect((await api<Pos[]>(srv.base, token, '/api/positions?exchange=sim&env=paper')).json).toEqual([]);
      const again2 = await api<{ error: { code: string } }>(srv.base, token, '/api/positions/close', { method: 'POST', body: JSON.stringify({ target: 'sim:paper', position_id: signalPos?.id }) });
      expect([again2.status, again2.json.error.code]).toEqual([409, 'conflict']);
      const none = await api<{ error: { code: string } }>(srv.base, token, '/api/positions/close', { method: 'POST', body: JSON.stringify({ target: 'sim:paper', symbol: 'ETHUSDT' }) });
      expect([none.status, none.json.error.code]).toEqual([404, 'not_found']);
      const bad = await api<{ error: { code: string } }>(srv.base, token, '/api/orders', { method: 'POST', body: JSON.stringify({ target: 'sim:paper', symbol: 'ETHUSDT', side: 'buy', qty: -1 }) });
      expect(bad.status).toBe(400);
    });

    it('routes hedge-mode signals to venue legs with positionSide', async () => {
      const { token, secret, user } = await userWithRecorder(store, 'hedger', { positionMode: 'hedge', targets: [{ key: 'sim:paper' }] });
      await send(secret, { ticker: 'BTCUSDT', action: 'buy', quantity: 1, price: 50_000 });
      await send(secret, { ticker: 'BTCUSDT', action: 'sell', quantity: 2, price: 50_000 });
      await send(secret, { ticker: 'BTCUSDT', action: 'sell', quantity: 1, price: 50_500, position_side: 'long' });
      const all = await orders(token);
      expect(all.map((o) => [o.side, o.position_side, o.qty, o.reduce_only, o.status])).toEqual([
        ['buy', 'long', 1, false, 'filled'],
        ['sell', 'short', 2, false, 'filled'],
        ['sell', 'long', 1, false, 'filled'],
      ]);
      const venue = await srv.venues.get(user.id, 'sim:paper');
      expect(venue.positionMode()).toBe('hedge');
      expect((await venue.fetchPositions()).map((p) => [p.positionSide, p.qty])).toEqual([['short', 2]]);
    });

    it('never places an order twice when a restart finds it mid-send', async () => {
      const { user } = await userWithRecorder(store, 'crashy', { targets: [{ key: 'sim:paper' }] });
      // The venue outlives our process, as an exchange does. It is the running server's own (its dispatcher
      // may pick these intents up too: whichever works them, they meet the same venue).
      const venue = (await srv.venues.get(user.id, 'sim:paper')) as SimVenue;
      await venue.setPrice(BTC, 50_000);
      const registry = new VenueRegistry(async () => venue);
      const base = { user_id: user.id, target_key: 'sim:paper', recorder_id: null, signal_id: null, action: 'place', role: 'manual', cancels_intent_id: null, symbol: BTC, side: 'buy', type: 'market', price: null, trigger_price: null, position_side: null, reduce_only: 0, source: 'webapp', opened_by: 'user' };
      const [landed, lost] = await insertIntents(
        store.db,
        [
          { ...base, group_key: 'g-landed', client_id: 'crash-landed', qty: 0.01, status: 'sending', attempts: 1 } as never,
          { ...base, group_key: 'g-lost', client_id: 'crash-lost', qty: 0.02, status: 'sending' } as never,
        ],
        NOW,
      );
      // The first reached the venue before the crash; the second never left.
      await venue.createOrder({ clientId: 'crash-landed', symbol: BTC, side: 'buy', type: 'market', qty: 0.01 });
      const restarted = new OrderDispatcher(store.db, registry, new ManualClock(NOW + 5_000));
      await restarted.drain();
      const rows = await store.db.selectFrom('order_intents').select(['id', 'status', 'filled_qty']).where('id', 'in', [landed ?? 0, lost ?? 0]).orderBy('id').execute();
      expect(rows.map((r) => [r.status, r.filled_qty])).toEqual([
        ['filled', 0.01],
        ['filled', 0.02],
      ]);
      expect((await venue.fetchPositions())[0]).toMatchObject({ qty: 0.03 });
      await restarted.drain();
      expect((await venue.fetchPositions())[0]).toMatchObject({ qty: 0.03 });
    });

    it('rebuilds the simulated account from its orders after a restart', async () => {
      const { token, secret, user } = await userWithRecorder(store, 'restarter', { targets: [{ key: 'sim:paper' }] });
      await send(secret, { ticker: 'BTCUSDT', action: 'buy', quantity: 1, price: 50_000, stop_loss: 48_000 });
      await send(secret, { ticker: 'BTCUSDT', action: 'buy', quantity: 1, price: 51_000, stop_loss: 49_000 });
      const before = await srv.venues.get(user.id, 'sim:paper');
      const [wasPos] = await before.fetchPositions();
      const [wasBal] = await before.fetchBalance();
      await srv.stop();
      srv = await startServer(store, {}, srv.clock);
      const after = await srv.venues.get(user.id, 'sim:paper');
      const [pos] = await after.fetchPositions();
      expect(pos).toMatchObject({ side: 'long', qty: 2, entryPrice: wasPos?.entryPrice });
      expect((await after.fetchBalance())[0]?.total).toBeCloseTo(wasBal?.total ?? 0, 6);
      expect((await after.fetchOpenOrders()).map((o) => [o.type, o.triggerPrice, o.qty])).toEqual([['stop', 49_000, 2]]);
      await send(secret, { ticker: 'BTCUSDT', action: 'close', price: 52_000 });
      const last = (await orders(token)).filter((o) => o.action === 'place').at(-1);
      expect(last).toMatchObject({ role: 'exit', qty: 2, status: 'filled' });
      expect(await after.fetchPositions()).toHaveLength(0);
    });

    it('keeps tracking when a target cannot execute: the failed orders carry their errors', async () => {
      const { token, secret } = await userWithRecorder(store, 'noacct', { targets: [{ key: 'binance:paper' }] });
      await send(secret, { ticker: 'BTCUSDT', action: 'buy', quantity: 1, price: 50_000 });
      const pos = (await api<Pos[]>(srv.base, token, '/api/positions?exchange=binance&env=paper')).json;
      expect(pos).toEqual([expect.objectContaining({ size: 1, broker_size: null, diverged: false })]);
      expect((await orders(token)).map((o) => [o.status, o.error_code, o.error])).toEqual([['failed', 'invalid_config', expect.stringMatching(/no account for binance:paper/)]]);
    });
  });
}
