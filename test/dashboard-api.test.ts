// The API the dashboard reads, on both dialects: who am I, the terminal (ledger merged with the venue),
// orders with a bracket booked as webapp positions, dismissing issues, marks, the live push, backtest runs.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimVenue } from '../src/exchange/sim/index.ts';
import { fixtureResult } from '../src/report/test-fixture.ts';
import { writeRun } from '../src/report/write.ts';
import type { Store } from '../src/store/db.ts';
import { createUser } from '../src/store/users.ts';
import { DIALECTS } from './db.ts';
import { api, insertEnginePosition, NOW, postSignal, startServer, userWithRecorder, type Running } from './server-helpers.ts';
import { pumpSse } from './tenancy-helpers.ts';

const BTC = 'BTC/USDT:USDT';

interface Row {
  id: string;
  kind: string;
  status: string;
  realized_pnl: number;
  symbol: string;
  side: string;
  size: number;
  source: string;
  opened_by: string;
  sl_price: number | null;
  tp_price: number | null;
  mark_price: number;
  pnl: number;
  issue_id: number | null;
  diverged: boolean;
  broker_size: number | null;
  closable: boolean;
}
interface Terminal {
  target: string;
  badge: string;
  snapshot_at: number | null;
  rows: Row[];
}
interface Order {
  id: number;
  role: string;
  type: string;
  side: string;
  qty: number;
  trigger_price: number | null;
  reduce_only: boolean;
  status: string;
  avg_fill_price: number | null;
}

for (const d of DIALECTS) {
  describe(`the dashboard's API (${d.name})`, () => {
    let loc: Awaited<ReturnType<typeof d.fresh>>;
    let store: Store;
    let srv: Running;
    const out = mkdtempSync(join(tmpdir(), 'halyard-runs-'));

    beforeAll(async () => {
      loc = await d.fresh();
      store = await loc.open();
      srv = await startServer(store, {}, undefined, { outputDir: out, live: { tickMs: 50, heartbeatMs: 1_000 } });
    });
    afterAll(async () => {
      await srv?.stop();
      await store?.close();
      await loc?.drop();
      rmSync(out, { recursive: true, force: true });
    });

    const sim = async (userId: number): Promise<SimVenue> => (await srv.venues.get(userId, 'sim:paper')) as SimVenue;
    const terminal = async (token: string, target = 'sim:paper') => (await api<Terminal>(srv.base, token, `/api/terminal?target=${target}`)).json;
    const snapshot = async (token: string) => expect((await api(srv.base, token, '/api/snapshots', { method: 'POST', body: JSON.stringify({ target: 'sim:paper' }) })).status).toBe(201);

    it('says who is signed in, and refuses a missing or unknown token', async () => {
      const { user, token } = await createUser(store.db, 'alice', 'paper', NOW);
      expect((await api(srv.base, token, '/api/me')).json).toEqual({ id: user.id, name: 'alice', trading_mode: 'paper' });
      expect((await fetch(`${srv.base}/api/me`)).status).toBe(401);
      expect((await api(srv.base, 'nope', '/api/me')).status).toBe(401);
    });

    it('places an order with a stop-loss and take-profit: a webapp position with its levels, a reduce-only bracket, and a close that books the trade', async () => {
      const { user, token } = await createUser(store.db, 'trader', 'paper', NOW);
      const other = await createUser(store.db, 'neighbour', 'paper', NOW);
      await (await sim(user.id)).setPrice(BTC, 60_000);

      // Levels that cannot work are refused before anything is sent.
      const bad = await api<{ error: { code: string; message: string } }>(srv.base, token, '/api/orders', {
        method: 'POST',
        body: JSON.stringify({ target: 'sim:paper', symbol: 'BTCUSDT', side: 'buy', qty: 0.5, stop_loss: 62_000, take_profit: 61_000 }),
      });
      expect(bad.status).toBe(400);
      expect(bad.json.error.message).toMatch(/stop_loss below take_profit/);
      expect((await api<{ items: Order[] }>(srv.base, token, '/api/orders')).json.items).toEqual([]);

      const placed = await api<Order>(srv.base, token, '/api/orders', {
        method: 'POST',
        body: JSON.stringify({ target: 'sim:paper', symbol: 'BTCUSDT', side: 'buy', qty: 0.5, stop_loss: 58_000, take_profit: 63_000 }),
      });
      expect(placed.status).toBe(201);
      expect(placed.json.status).toBe('filled');
      const fill = placed.json.avg_fill_price ?? 0;
      expect(fill).toBeGreaterThan(59_000);

      const orders = (await api<{ items: Order[] }>(srv.base, token, '/api/orders?status=open')).json.items;
      expect(orders.map((o) => [o.role, o.type, o.side, o.qty, o.trigger_price, o.reduce_only]).sort()).toEqual([
        ['stop_loss', 'stop', 'sell', 0.5, 58_000, true],
        ['take_profit', 'take_profit', 'sell', 0.5, 63_000, true],
      ]);

      await snapshot(token);
      const t = await terminal(token);
      expect(t.badge).toBe('DEMO');
      expect(t.rows).toHaveLength(1);
      const row = t.rows[0]!;
      expect(row).toMatchObject({ kind: 'tracked', symbol: 'BTCUSDT', side: 'long', size: 0.5, source: 'webapp', opened_by: 'user', sl_price: 58_000, tp_price: 63_000, broker_size: 0.5, diverged: false, closable: true });
      // Nobody else sees it.
      expect((await terminal(other.token)).rows).toEqual([]);

      // Marked at the user's latest price (another user's price marks nothing of this user's).
      srv.marks.set(other.user.id, 'BTCUSDT', 1, NOW);
      expect((await terminal(token)).rows[0]!.mark_price).not.toBe(1);
      srv.marks.set(user.id, 'BTCUSDT', 61_000, NOW);
      const marked = (await terminal(token)).rows[0]!;
      expect(marked.mark_price).toBe(61_000);
      expect(marked.pnl).toBeCloseTo((61_000 - fill) * 0.5, 6);
      expect((await api<Record<string, { price: number }>>(srv.base, token, '/api/marks')).json.BTCUSDT?.price).toBe(61_000);
      const listed = (await api<Row[]>(srv.base, token, '/api/positions?exchange=sim&env=paper')).json;
      expect(listed.find((p) => p.id === row.id)?.pnl).toBeCloseTo((61_000 - fill) * 0.5, 6);

      // Close from the terminal: the position closes, the trade is booked, the bracket goes with it.
      await (await sim(user.id)).setPrice(BTC, 61_000);
      const byVenue = await api<{ error: { code: string } }>(srv.base, token, '/api/positions/close', { method: 'POST', body: JSON.stringify({ target: 'sim:paper', symbol: 'BTCUSDT' }) });
      expect([byVenue.status, byVenue.json.error.code]).toEqual([409, 'conflict']); // the ledger explains all of it: close the row
      const closed = await api<Order>(srv.base, token, '/api/positions/close', { method: 'POST', body: JSON.stringify({ target: 'sim:paper', position_id: row.id }) });
      expect(closed.status).toBe(201);
      expect(closed.json.status).toBe('filled');
      await snapshot(token);
      const gone = (await terminal(token)).rows;
      // The closed position stays a day as a `closed` row: the terminal's realized card sums it.
      expect(gone.map((r) => [r.kind, r.status, r.closable])).toEqual([['closed', 'closed', false]]);
      const trades = (await api<{ source: string; qty: number; entry_price: number; exit_price: number; realized_pnl: number; target: string }[]>(srv.base, token, '/api/trades?source=webapp')).json;
      expect(trades).toHaveLength(1);
      expect(trades[0]).toMatchObject({ source: 'webapp', qty: 0.5, entry_price: fill, target: 'sim:paper' });
      expect(trades[0]!.realized_pnl).toBeCloseTo(((closed.json.avg_fill_price ?? 0) - fill) * 0.5, 6);
      expect(gone[0]!.realized_pnl).toBe(trades[0]!.realized_pnl);
      expect((await api<unknown[]>(srv.base, token, '/api/trades?source=signal')).json).toEqual([]);
      expect((await api<unknown[]>(srv.base, token, `/api/trades?source=webapp&from=${NOW + 86_400_000}`)).json).toEqual([]);
      expect((await api<unknown[]>(srv.base, token, '/api/trades?source=webapp&side=short')).json).toEqual([]);
      expect((await api<unknown[]>(srv.base, token, '/api/trades?target=sim:live')).json).toEqual([]);
      expect((await api<unknown[]>(srv.base, other.token, '/api/trades')).json).toEqual([]);
      expect((await api<{ items: Order[] }>(srv.base, token, '/api/orders?status=open')).json.items).toEqual([]);
    });

    it("closes a dashboard position on its own when the venue nets it with a signal's position", async () => {
      const a = await userWithRecorder(store, 'netter', { targets: [{ key: 'sim:paper', multiplier: 1 }] });
      expect((await postSignal(srv.base, a.secret, JSON.stringify({ ticker: 'XRPUSDT', action: 'sell', quantity: 100, price: 0.5 }))).status).toBe(200);
      await srv.dispatcher.drain();
      const placed = await api<Order>(srv.base, a.token, '/api/orders', {
        method: 'POST',
        body: JSON.stringify({ target: 'sim:paper', symbol: 'XRPUSDT', side: 'buy', qty: 20, stop_loss: 0.4, take_profit: 0.6 }),
      });
      expect(placed.json, JSON.stringify(placed.json)).toMatchObject({ status: 'filled' });
      await snapshot(a.token);
      const before = (await terminal(a.token)).rows;
      expect(before.map((r) => [r.source, r.side, r.size, r.broker_size, r.diverged])).toEqual([
        ['signal', 'short', 100, 80, false],
        ['webapp', 'long', 20, 80, false],
      ]);
      const mine = before.find((r) => r.source === 'webapp')!;
      const closed = await api<Order>(srv.base, a.token, '/api/positions/close', { method: 'POST', body: JSON.stringify({ target: 'sim:paper', symbol: 'XRPUSDT', position_id: mine.id }) });
      expect(closed.status).toBe(201);
      expect(closed.json).toMatchObject({ side: 'sell', qty: 20, status: 'filled', reduce_only: false });
      await snapshot(a.token);
      const after = (await terminal(a.token)).rows.filter((r) => r.kind !== 'closed');
      expect(after.map((r) => [r.source, r.side, r.size, r.broker_size, r.diverged])).toEqual([['signal', 'short', 100, 100, false]]);
      // Its stop-loss and take-profit went with it.
      expect((await api<{ items: Order[] }>(srv.base, a.token, '/api/orders?status=open')).json.items).toEqual([]);
      // A signal position closes in its recorder: a CLOSE signal (shown in the signal log) and its exit on the venue.
      const signalRow = after[0]!;
      const closedSignal = await api<Order>(srv.base, a.token, '/api/positions/close', { method: 'POST', body: JSON.stringify({ target: 'sim:paper', position_id: signalRow.id }) });
      expect(closedSignal.status).toBe(201);
      expect(closedSignal.json).toMatchObject({ side: 'buy', qty: 100, filled_qty: 100, status: 'filled', source: 'signal', role: 'exit' });
      await snapshot(a.token);
      expect((await terminal(a.token)).rows.map((r) => [r.source, r.kind])).toEqual([
        ['signal', 'closed'],
        ['webapp', 'closed'],
      ]);
      const log = await store.db.selectFrom('signals').select(['format', 'action', 'outcome']).where('user_id', '=', a.user.id).orderBy('id').execute();
      expect(log.at(-1)).toEqual({ format: 'dashboard', action: 'CLOSE', outcome: 'accepted' });
    });

    it('shows a venue position no ledger position explains as untracked; dismissing it keeps it dismissed while it lasts', async () => {
      const { user, token } = await createUser(store.db, 'dismisser', 'paper', NOW);
      const nosy = await createUser(store.db, 'nosy2', 'paper', NOW);
      const v = await sim(user.id);
      await v.setPrice(BTC, 60_000);
      await v.createOrder({ clientId: 'outside-1', symbol: BTC, side: 'sell', type: 'market', qty: 0.2 });
      await snapshot(token);
      const [row] = (await terminal(token)).rows;
      expect(row).toMatchObject({ kind: 'untracked', symbol: BTC, side: 'short', size: 0.2, source: 'exchange' });
      expect(row?.issue_id).toEqual(expect.any(Number));
      const id = row!.issue_id!;

      expect((await api(srv.base, nosy.token, `/api/reconciliation/${id}/dismiss`, { method: 'POST' })).status).toBe(404);
      const dismissed = await api<{ status: string }>(srv.base, token, `/api/reconciliation/${id}/dismiss`, { method: 'POST' });
      expect(dismissed.status).toBe(200);
      expect(dismissed.json.status).toBe('dismissed');
      expect((await api(srv.base, token, `/api/reconciliation/${id}/dismiss`, { method: 'POST' })).status).toBe(409);
      expect((await api<unknown[]>(srv.base, token, '/api/reconciliation')).json).toEqual([]);

      // Checked again: the same difference stays dismissed (no new open issue), and is resolved once gone.
      srv.clock.set(NOW + 60_000);
      await snapshot(token);
      expect((await api<unknown[]>(srv.base, token, '/api/reconciliation')).json).toEqual([]);
      const all = (await api<{ id: number; status: string }[]>(srv.base, token, '/api/reconciliation?status=all')).json;
      expect(all.map((i) => [i.id, i.status])).toEqual([[id, 'dismissed']]);
      await v.createOrder({ clientId: 'outside-2', symbol: BTC, side: 'buy', type: 'market', qty: 0.2, reduceOnly: true });
      srv.clock.set(NOW + 120_000);
      await snapshot(token);
      expect((await api<{ id: number; status: string }[]>(srv.base, token, '/api/reconciliation?status=all')).json.map((i) => i.status)).toEqual(['resolved']);
      expect((await terminal(token)).rows).toEqual([]);
    });

    it('keeps a position the exchange no longer holds on the terminal as closed externally', async () => {
      const { user, token } = await createUser(store.db, 'ghosted', 'paper', NOW);
      srv.clock.set(NOW);
      await insertEnginePosition(store.db, { id: 'adopted-1', userId: user.id, target: 'sim:paper', symbol: BTC, side: 'long', qty: 1, price: 60_000, openedAt: NOW - 3_600_000, source: 'exchange' });
      for (const t of [NOW + 1_000, NOW + 2_000]) {
        srv.clock.set(t);
        await snapshot(token);
      }
      // An engine's own simulated position is shown, but only the engine can close it.
      await insertEnginePosition(store.db, { id: 'engine-1', userId: user.id, target: 'sim:paper', symbol: BTC, side: 'short', qty: 2, price: 61_000, openedAt: NOW });
      const rows = (await terminal(token)).rows;
      expect(rows.map((r) => [r.id, r.kind, r.closable])).toEqual([
        ['engine-1', 'tracked', false],
        ['adopted-1', 'closed_externally', false],
      ]);
      await store.db.deleteFrom('positions').where('id', '=', 'engine-1').execute();
      // A day later it has left the terminal (it stays in the position history).
      srv.clock.set(NOW + 2_000 + 86_400_001);
      expect((await terminal(token)).rows).toEqual([]);
      srv.clock.set(NOW);
    });

    it('pushes marks and the topics that changed to the signed-in user only', async () => {
      const a = await userWithRecorder(store, 'streamer', { targets: [{ key: 'sim:paper', multiplier: 1 }] });
      const b = await userWithRecorder(store, 'bystander');
      expect((await fetch(`${srv.base}/api/stream`)).status).toBe(401);
      const open = async (token: string) => {
        const ctl = new AbortController();
        const res = await fetch(`${srv.base}/api/stream`, { headers: { authorization: `Bearer ${token}` }, signal: ctl.signal });
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
        const pump = pumpSse(res);
        return { events: pump.state.events, close: async () => (ctl.abort(), await pump.done) };
      };
      const sa = await open(a.token);
      const sb = await open(b.token);
      const until = async (pred: () => boolean) => {
        for (let i = 0; i < 100 && !pred(); i++) await new Promise((r) => setTimeout(r, 20));
        return pred();
      };
      expect(await until(() => sa.events.some((e) => e.event === 'hello'))).toBe(true);
      expect(sa.events[0]).toEqual({ event: 'hello', data: { user: 'streamer' } });

      const r = await postSignal(srv.base, a.secret, JSON.stringify({ ticker: 'ETHUSDT', action: 'buy', quantity: 1, price: 3_210.5 }));
      expect(r.status).toBe(200);
      expect(await until(() => sa.events.some((e) => e.event === 'changed' && (e.data.topics as string[]).includes('signals')))).toBe(true);
      const changed = sa.events.filter((e) => e.event === 'changed').flatMap((e) => e.data.topics as string[]);
      expect(changed).toEqual(expect.arrayContaining(['signals', 'positions']));
      // The signal's price is a mark of its user, pushed to that user only, as is the change itself.
      expect(await until(() => sa.events.some((e) => e.event === 'marks' && (e.data.ETHUSDT as { price: number } | undefined)?.price === 3_210.5))).toBe(true);
      await new Promise((r) => setTimeout(r, 200));
      expect(sb.events.filter((e) => e.event === 'changed')).toEqual([]);
      expect(sb.events.filter((e) => e.event === 'marks' && Object.keys(e.data).length > 0)).toEqual([]);
      await sa.close();
      await sb.close();
      // The recorder's own view of the position is marked at the server's price too.
      srv.marks.set(a.user.id, 'ETHUSDT', 3_300, NOW);
      const recPos = (await api<{ status: string; mark_price: number; pnl: number }[]>(srv.base, a.token, `/api/recorders/${a.recorder.id}/positions?status=open`)).json;
      expect(recPos.map((p) => [p.status, p.mark_price])).toEqual([['open', 3_300]]);
      expect(recPos[0]!.pnl).toBeCloseTo(3_300 - 3_210.5, 9);
    });

    it('lists the backtest runs of the output folder with their figures, and gives one with its chart', async () => {
      const { token } = await createUser(store.db, 'researcher', 'paper', NOW);
      const stranger = await createUser(store.db, 'stranger', 'paper', NOW);
      const result = fixtureResult(3_000);
      await writeRun(result, join(out, 'sma-run-1'), { owner: 'researcher' });
      await writeRun(result, join(out, 'nobodys-run'));
      mkdirSync(join(out, 'not-a-run'));
      writeFileSync(join(out, 'not-a-run', 'notes.txt'), 'hello');
      const list = (await api<{ id: string; trades: number; return_pct: number; win_rate: number; has_report: boolean }[]>(srv.base, token, '/api/backtests')).json;
      expect(list.map((r) => r.id)).toEqual(['sma-run-1']);
      expect(list[0]).toMatchObject({ trades: result.summary.trades, has_report: true });
      expect(list[0]!.return_pct).toBeCloseTo(result.summary.totalReturn * 100, 9);
      expect(list[0]!.win_rate).toBeCloseTo(result.summary.winRate * 100, 9);

      const detail = await api<{ summary: Record<string, number>; trades: unknown[]; chart: { t: number[]; c: number[]; markers: number[][]; eq: number[] } }>(srv.base, token, '/api/backtests/sma-run-1');
      expect(detail.status).toBe(200);
      expect(detail.json.summary.sharpe).toBe(result.summary.sharpe);
      expect(detail.json.trades).toHaveLength(Math.min(500, result.trades.length));
      expect(detail.json.chart.t.length).toBeGreaterThan(100);
      expect(detail.json.chart.eq).toHaveLength(detail.json.chart.t.length);
      expect(detail.json.chart.markers.length).toBeGreaterThan(0);
      expect((await api(srv.base, token, '/api/backtests/nope')).status).toBe(404);
      // Another user's run, and a run nobody owns, are not there for this user: the same 404, naming no path.
      expect((await api(srv.base, stranger.token, '/api/backtests')).json).toEqual([]);
      const hidden = await api<{ error: { message: string } }>(srv.base, stranger.token, '/api/backtests/sma-run-1');
      expect([hidden.status, hidden.json.error.message]).toEqual([404, "no backtest run 'sma-run-1'"]);
      expect((await api(srv.base, token, '/api/backtests/nobodys-run')).status).toBe(404);
      expect((await api(srv.base, token, '/api/backtests/..%2F..%2Fetc')).status).toBe(400);
      expect((await fetch(`${srv.base}/api/backtests`)).status).toBe(401);
    });
  });
}
