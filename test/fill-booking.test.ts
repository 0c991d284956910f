import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimVenue } from '../src/exchange/sim/index.ts';
import type { Store } from '../src/store/db.ts';
import { updateIntent } from '../src/store/order-intents.ts';
import { createRecorder } from '../src/store/recorders.ts';
import { createUser } from '../src/store/users.ts';
import { DIALECTS } from './db.ts';
import { api, NOW, startServer, type Running } from './server-helpers.ts';

const BTC = 'BTC/USDT:USDT';

interface Order {
  id: number;
  client_order_id: string;
  status: string;
  role: string;
  type: string;
  side: string;
  qty: number;
  trigger_price: number | null;
  filled_qty: number;
  avg_fill_price: number | null;
  reduce_only: boolean;
  error: string | null;
  attempts: number;
}
interface Pos {
  id: string;
  source: string;
  opened_by: string;
  side: string;
  size: number;
  entry_price: number;
  sl_price: number | null;
  tp_price: number | null;
  status: string;
}

for (const d of DIALECTS) {
  describe(`every fill of a dashboard order is booked once (${d.name})`, () => {
    let loc: Awaited<ReturnType<typeof d.fresh>>;
    let store: Store;
    let srv: Running;
    beforeAll(async () => {
      loc = await d.fresh();
      store = await loc.open();
      srv = await startServer(store, {}, undefined, { settleEveryMs: 3_600_000 });
    });
    afterAll(async () => {
      await srv?.stop();
      await store?.close();
      await loc?.drop();
    });
    const sim = async (s: Running, userId: number): Promise<SimVenue> => (await s.venues.get(userId, 'sim:paper')) as SimVenue;

    it('books a limit fill seen only after a restart, with its bracket, exactly once however often the server restarts', async () => {
      const { user, token } = await createUser(store.db, 'limiter', 'paper', NOW);
      await (await sim(srv, user.id)).setPrice(BTC, 60_000);
      const placed = await api<Order>(srv.base, token, '/api/orders', {
        method: 'POST',
        body: JSON.stringify({ target: 'sim:paper', symbol: 'BTCUSDT', side: 'buy', type: 'limit', qty: 0.5, price: 59_000, stop_loss: 58_000, take_profit: 62_000 }),
      });
      expect(placed.json).toMatchObject({ status: 'open', filled_qty: 0 });
      expect((await api<Pos[]>(srv.base, token, '/api/positions?target=sim:paper')).json).toEqual([]);

      // The market reaches the limit; the process records the fill and dies before booking it.
      const v = await sim(srv, user.id);
      await v.setPrice(BTC, 58_900);
      const landed = await v.fetchOrderByClientId(placed.json.client_order_id, BTC);
      expect(landed).toMatchObject({ status: 'filled', filledQty: 0.5, avgFillPrice: 59_000 });
      await updateIntent(store.db, placed.json.id, { status: 'filled', filled_qty: 0.5, avg_fill_price: 59_000 }, NOW + 1_000);
      await srv.stop();

      for (let restart = 0; restart < 2; restart++) {
        srv = await startServer(store, {}, undefined, { settleEveryMs: 3_600_000 });
        await srv.dispatcher.drain();
        const pos = (await api<Pos[]>(srv.base, token, '/api/positions?target=sim:paper')).json;
        expect(pos).toEqual([expect.objectContaining({ source: 'webapp', opened_by: 'user', side: 'long', size: 0.5, entry_price: 59_000, sl_price: 58_000, tp_price: 62_000, status: 'open' })]);
        const brackets = (await api<{ items: Order[] }>(srv.base, token, '/api/orders?target=sim:paper&action=place')).json.items.filter((o) => o.role !== 'manual');
        expect(brackets.map((o) => [o.role, o.type, o.side, o.qty, o.trigger_price, o.reduce_only, o.status]).sort()).toEqual([
          ['stop_loss', 'stop', 'sell', 0.5, 58_000, true, 'open'],
          ['take_profit', 'take_profit', 'sell', 0.5, 62_000, true, 'open'],
        ]);
        if (restart === 0) await srv.stop();
      }

      // The stop-loss fills: the position closes at the stop's price, and its take-profit is canceled.
      await (await sim(srv, user.id)).setPrice(BTC, 57_900);
      await srv.dispatcher.settle(user.id, 'sim:paper');
      await srv.dispatcher.drain();
      const all = (await api<Pos[]>(srv.base, token, '/api/positions?target=sim:paper&status=all')).json;
      expect(all).toEqual([expect.objectContaining({ source: 'webapp', status: 'closed' })]);
      const trades = (await api<{ realized_pnl: number; exit_price: number }[]>(srv.base, token, '/api/trades?source=webapp')).json;
      expect(trades).toEqual([expect.objectContaining({ exit_price: 57_900, realized_pnl: expect.closeTo((57_900 - 59_000) * 0.5, 6) })]);
      const orders = (await api<{ items: Order[] }>(srv.base, token, '/api/orders?target=sim:paper&action=place')).json.items;
      expect(orders.map((o) => [o.role, o.status]).sort()).toEqual([
        ['manual', 'filled'],
        ['stop_loss', 'filled'],
        ['take_profit', 'canceled'],
      ]);
      expect(await (await sim(srv, user.id)).fetchPositions()).toEqual([]);
    });

    it('lists a signal order that failed for want of keys with its reason, beside the filled one, and says it cannot be canceled', async () => {
      const { user, token } = await createUser(store.db, 'nokeys', 'both', NOW);
      const rec = await createRecorder(store.db, { userId: user.id, name: 'tv', targets: [{ key: 'sim:paper', multiplier: 1 }, { key: 'bybit:paper', multiplier: 1 }] }, NOW);
      const res = await fetch(`${srv.base}/hooks/signals/${rec.secret}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ticker: 'BTCUSDT', action: 'buy', quantity: 0.1, price: 60_000 }) });
      expect(res.status).toBe(200);
      await srv.dispatcher.drain();
      const failed = (await api<{ items: Order[] }>(srv.base, token, '/api/orders?target=bybit:paper&status=failed,rejected')).json.items;
      expect(failed).toEqual([expect.objectContaining({ status: 'failed', side: 'buy', qty: 0.1, error: expect.stringMatching(/bybit:paper/) })]);
      // A failed order is final: nothing to cancel, said in one sentence.
      const refused = await api<{ error: { message: string } }>(srv.base, token, `/api/orders/${failed[0]!.id}`, { method: 'DELETE' });
      expect([refused.status, refused.json.error.message]).toEqual([409, `order ${failed[0]!.id} is failed: nothing to cancel`]);
      // sim:paper filled; both show under every state, newest first.
      const every = (await api<{ items: Order[] }>(srv.base, token, '/api/orders?action=place')).json.items;
      expect(every.map((o) => o.status).sort()).toEqual(['failed', 'filled']);
    });
  });
}
