// Reconciliation against the server's simulated exchange (a real in-process account): orphans adopted,
// ghosts closed only after consecutive explicit flat reports, conflicts with both values, on both dialects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimVenue } from '../src/exchange/sim/index.ts';
import type { Store } from '../src/store/db.ts';
import { createUser } from '../src/store/users.ts';
import { DIALECTS } from './db.ts';
import { api, insertEnginePosition, NOW, postSignal, startServer, userWithRecorder, type Running } from './server-helpers.ts';

const BTC = 'BTC/USDT:USDT';
const ETH = 'ETH/USDT:USDT';
const SOL = 'SOL/USDT:USDT';

interface Issue {
  id: number;
  target: string;
  symbol: string;
  side: string;
  kind: string;
  label: string;
  status: string;
  ledger_side: string | null;
  ledger_qty: number | null;
  ledger_price: number | null;
  exchange_side: string | null;
  exchange_qty: number | null;
  exchange_price: number | null;
  position_ids: string[];
  flat_checks: number;
}
interface Pos {
  id: string;
  symbol: string;
  side: string;
  size: number;
  entry_price: number;
  source: string;
  opened_by: string;
  target: string;
  broker_size: number | null;
  diverged: boolean;
}

for (const d of DIALECTS) {
  describe(`reconciliation on the simulated exchange (${d.name})`, () => {
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

    const sim = async (userId: number): Promise<SimVenue> => (await srv.venues.get(userId, 'sim:paper')) as SimVenue;
    const trade = async (userId: number, symbol: string, side: 'buy' | 'sell', qty: number, price: number): Promise<void> => {
      const v = await sim(userId);
      await v.setPrice(symbol, price);
      await v.createOrder({ clientId: `t${Math.floor(Math.random() * 1e9)}`, symbol, side, type: 'market', qty });
    };
    /** Snapshots sim:paper through the API at `t` and returns the open issues. */
    const check = async (token: string, t: number): Promise<Issue[]> => {
      srv.clock.set(t);
      const r = await api<{ status: string; equity: number }>(srv.base, token, '/api/snapshots', { method: 'POST', body: JSON.stringify({ exchange: 'sim', env: 'paper' }) });
      expect(r.status).toBe(201);
      expect(r.json.status).toBe('ok');
      return (await api<Issue[]>(srv.base, token, '/api/reconciliation?exchange=sim&env=paper')).json;
    };
    const positionRow = (id: string) => store.db.selectFrom('positions').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const auditOf = (id: string) => store.db.selectFrom('audit_log').select(['source', 'action']).where('position_id', '=', id).orderBy('id').execute();

    it('shows an untracked exchange position as an orphan, and adopting it makes an exchange-sourced position', async () => {
      const { user, token } = await createUser(store.db, 'orphans', 'both', NOW);
      const other = await createUser(store.db, 'nosy', 'both', NOW);
      await trade(user.id, BTC, 'buy', 0.5, 50_000);

      const issues = await check(token, NOW);
      expect(issues).toEqual([
        expect.objectContaining({ target: 'sim:paper', symbol: BTC, side: 'long', kind: 'orphan', label: 'untracked', status: 'open', ledger_qty: null, exchange_side: 'long', exchange_qty: 0.5, exchange_price: 50_000 }),
      ]);
      const id = issues[0]?.id ?? 0;
      expect((await api<Issue[]>(srv.base, other.token, '/api/reconciliation?status=all')).json).toEqual([]);
      expect((await api(srv.base, other.token, `/api/reconciliation/${id}/adopt`, { method: 'POST' })).status).toBe(404);

      const adopted = await api<{ issue: Issue; position_id: string }>(srv.base, token, `/api/reconciliation/${id}/adopt`, { method: 'POST' });
      expect(adopted.status).toBe(201);
      expect(adopted.json.issue.status).toBe('adopted');
      const pos = (await api<Pos[]>(srv.base, token, '/api/positions?exchange=sim&env=paper')).json;
      expect(pos).toEqual([expect.objectContaining({ id: adopted.json.position_id, symbol: BTC, side: 'long', size: 0.5, entry_price: 50_000, source: 'exchange', opened_by: 'exchange', broker_size: 0.5, diverged: false })]);
      expect((await positionRow(adopted.json.position_id)).external_id).toBe(`sim:paper:${BTC}:long`);
      expect(await auditOf(adopted.json.position_id)).toEqual([{ source: 'webapp', action: 'adopted' }]);
      expect((await api(srv.base, token, `/api/reconciliation/${id}/adopt`, { method: 'POST' })).status).toBe(409);

      // The ledger now holds it: the next check finds nothing.
      expect(await check(token, NOW + 60_000)).toEqual([]);
    });

    it('closes an adopted position as closed_externally only after two consecutive explicit flat reports; engine positions on sim are the engine\'s own', async () => {
      const { user, token } = await createUser(store.db, 'ghosts', 'both', NOW);
      await insertEnginePosition(store.db, { source: 'exchange', id: 'eng-btc', userId: user.id, target: 'sim:paper', symbol: BTC, side: 'long', qty: 1, price: 50_000, openedAt: NOW - 3_600_000 });
      await insertEnginePosition(store.db, { source: 'exchange', id: 'eng-sol', userId: user.id, target: 'sim:paper', symbol: SOL, side: 'short', qty: 10, price: 150, openedAt: NOW - 3_600_000 });
      // Opened 10 s before the first snapshot: inside the grace window, so not a ghost yet.
      await insertEnginePosition(store.db, { source: 'exchange', id: 'eng-eth', userId: user.id, target: 'sim:paper', symbol: ETH, side: 'long', qty: 2, price: 3_000, openedAt: NOW + 1_000_000 - 10_000 });
      // An engine's positions on a sim target live in the engine's own simulated exchange (the paper
      // runtime's), not in the server's: they are never reconciled against it.
      await insertEnginePosition(store.db, { id: 'eng-own', userId: user.id, target: 'sim:paper', symbol: 'DOGE/USDT:USDT', side: 'long', qty: 100, price: 0.1, openedAt: NOW - 3_600_000 });
      const t = NOW + 1_000_000;

      let issues = await check(token, t);
      expect(issues.map((i) => [i.symbol, i.kind, i.flat_checks, i.ledger_qty, i.exchange_qty])).toEqual([
        [SOL, 'ghost', 1, 10, null],
        [BTC, 'ghost', 1, 1, null],
      ]);
      expect((await positionRow('eng-btc')).status).toBe('open');

      // SOL shows up on the exchange again: its ghost resolves; then it goes flat again: a new count from 1.
      await trade(user.id, SOL, 'sell', 10, 150);
      await trade(user.id, ETH, 'buy', 2, 3_000);
      issues = await check(token, t + 60_000);
      expect(issues).toEqual([]); // SOL matches again, BTC's ghost is closed, ETH (no longer young) is there
      expect((await positionRow('eng-btc')).status).toBe('closed');
      expect(await positionRow('eng-btc')).toMatchObject({ close_reason: 'closed_externally', closed_at: t + 60_000 });
      expect(await auditOf('eng-btc')).toEqual([{ source: 'reconciler', action: 'closed_externally' }]);
      expect((await positionRow('eng-sol')).status).toBe('open');
      const all = (await api<Issue[]>(srv.base, token, '/api/reconciliation?status=all')).json;
      expect(all.map((i) => [i.symbol, i.kind, i.status]).sort()).toEqual([
        [BTC, 'ghost', 'closed_externally'],
        [SOL, 'ghost', 'resolved'],
      ]);

      await trade(user.id, SOL, 'buy', 10, 150);
      issues = await check(token, t + 120_000);
      expect(issues.map((i) => [i.symbol, i.kind, i.flat_checks])).toEqual([[SOL, 'ghost', 1]]);
      expect((await positionRow('eng-sol')).status).toBe('open');
      expect((await positionRow('eng-own')).status).toBe('open');
    });

    it('never closes signal positions: their ghost stays open and the position shows diverged', async () => {
      const { user, token, secret } = await userWithRecorder(store, 'sigghost', { targets: [{ key: 'sim:paper', multiplier: 2 }] });
      srv.clock.set(NOW + 2_000_000);
      expect((await postSignal(srv.base, secret, JSON.stringify({ ticker: 'BTCUSDT', action: 'buy', quantity: 1, price: 50_000 }))).json.status).toBe('accepted');
      await srv.dispatcher.drain();
      const t = NOW + 2_000_000 + 120_000;
      expect(await check(token, t)).toEqual([]); // the signal's order made the exchange match: 1 × 2

      await trade(user.id, BTC, 'sell', 2, 50_000); // closed by hand on the exchange
      for (let i = 1; i <= 3; i++) {
        const issues = await check(token, t + i * 60_000);
        expect(issues).toEqual([expect.objectContaining({ symbol: BTC, kind: 'ghost', status: 'open', flat_checks: i, ledger_qty: 2, exchange_qty: null })]);
      }
      const pos = (await api<Pos[]>(srv.base, token, '/api/positions?exchange=sim&env=paper')).json;
      expect(pos).toEqual([expect.objectContaining({ source: 'signal', size: 2, broker_size: 0, diverged: true })]);
    });

    it('records a conflict with both values and resolves it once they agree', async () => {
      const { user, token } = await createUser(store.db, 'conflicts', 'both', NOW);
      await insertEnginePosition(store.db, { source: 'exchange', id: 'eng-c', userId: user.id, target: 'sim:paper', symbol: BTC, side: 'long', qty: 1, price: 50_000, openedAt: NOW - 3_600_000 });
      await trade(user.id, BTC, 'buy', 2, 50_000);
      const t = NOW + 3_000_000;
      let issues = await check(token, t);
      expect(issues).toEqual([
        expect.objectContaining({ symbol: BTC, kind: 'conflict', label: 'conflict', ledger_side: 'long', ledger_qty: 1, ledger_price: 50_000, exchange_side: 'long', exchange_qty: 2, exchange_price: 50_000, position_ids: ['eng-c'] }),
      ]);
      // Still there at the next check: the same issue, one audit row.
      issues = await check(token, t + 60_000);
      expect(issues).toHaveLength(1);
      expect(await auditOf('eng-c')).toEqual([{ source: 'reconciler', action: 'conflict' }]);
      expect((await positionRow('eng-c')).status).toBe('open');

      await trade(user.id, BTC, 'sell', 1, 50_000);
      expect(await check(token, t + 120_000)).toEqual([]);
      expect((await api<Issue[]>(srv.base, token, '/api/reconciliation?status=all')).json.map((i) => i.status)).toEqual(['resolved']);
    });

    it('keeps the equity history of each target, per user', async () => {
      const { user, token } = await createUser(store.db, 'equity', 'both', NOW);
      await check(token, NOW + 4_000_000);
      await trade(user.id, ETH, 'buy', 1, 3_000);
      await (await sim(user.id)).setPrice(ETH, 3_100);
      await check(token, NOW + 4_060_000);
      const h = (await api<{ target: string; points: { ts: number; trigger: string; equity: number; unrealized_pnl: number; balance: number; positions: number }[] }[]>(srv.base, token, '/api/snapshots?exchange=sim&env=paper')).json;
      expect(h).toHaveLength(1);
      expect(h[0]?.target).toBe('sim:paper');
      const pts = h[0]?.points ?? [];
      expect(pts.map((p) => [p.ts, p.trigger, p.positions])).toEqual([
        [NOW + 4_000_000, 'manual', 0],
        [NOW + 4_060_000, 'manual', 1],
      ]);
      expect(pts[0]?.equity).toBe(100_000);
      expect(pts[1]?.unrealized_pnl).toBeCloseTo(100, 6);
      expect(pts[1]?.balance).toBeCloseTo(100_000 - 3_000 * 0.0005, 6); // the taker fee of the buy
      const from = (await api<{ points: unknown[] }[]>(srv.base, token, `/api/snapshots?exchange=sim&from=${NOW + 4_030_000}`)).json;
      expect(from[0]?.points).toHaveLength(1);
      const stranger = await createUser(store.db, 'stranger', 'both', NOW);
      expect((await api(srv.base, stranger.token, '/api/snapshots')).json).toEqual([]);
    });
  });
}
