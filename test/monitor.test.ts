// The monitor against real exchange adapters: ccxt talking to the Bybit stub on loopback (which fails on
// demand), and the server's simulated exchange. Which targets are visited, the equity history schedule,
// retries with backoff, and failures that never turn into ghosts. Both dialects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCcxtVenue } from '../src/exchange/ccxt/index.ts';
import type { Store } from '../src/store/db.ts';
import { setTargetSettings } from '../src/store/target-settings.ts';
import { createUser } from '../src/store/users.ts';
import { Monitor } from '../src/tracker/monitor.ts';
import { DIALECTS } from './db.ts';
import { api, insertEnginePosition, NOW, startServer, type Running } from './server-helpers.ts';
import { startBybitStub } from './stubs/bybit-trade.ts';
import type { TradeStub } from './stubs/trade-shared.ts';

const BTC = 'BTC/USDT:USDT';
const ETH = 'ETH/USDT:USDT';
const MIN = 60_000;

interface Issue {
  id: number;
  symbol: string;
  kind: string;
  label: string;
  status: string;
  flat_checks: number;
  exchange_qty: number | null;
  ledger_qty: number | null;
}
interface History {
  target: string;
  points: { ts: number; trigger: string; status: string; equity: number | null; error: string | null }[];
}

for (const d of DIALECTS) {
  describe(`the monitor (${d.name})`, () => {
    let loc: Awaited<ReturnType<typeof d.fresh>>;
    let store: Store;
    let srv: Running;
    /** One stub exchange account per API key, so tests do not see each other's positions. */
    const stubs = new Map<string, TradeStub>();

    beforeAll(async () => {
      loc = await d.fresh();
      store = await loc.open();
      srv = await startServer(store, {}, undefined, {
        openCcxt: async (t, credentials) => {
          const stub = stubs.get(credentials.apiKey);
          if (!stub) throw new Error(`no stub for key ${credentials.apiKey}`);
          return createCcxtVenue({ exchange: t.exchange, env: t.env, credentials, urlOverride: stub.url, enableRateLimit: false, timeoutMs: 2_000, retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
        },
        monitor: { snapshotIntervalMs: 30 * MIN, intervalMs: MIN, retry: { maxAttempts: 3, baseDelayMs: 10_000, maxDelayMs: 10_000, rng: () => 1 } },
      });
    });
    afterAll(async () => {
      await srv?.stop();
      for (const s of stubs.values()) await s.close();
      await store?.close();
      await loc?.drop();
    });

    /** A user with a Bybit demo account on a stub of its own. */
    const bybitUser = async (name: string, mode: 'paper' | 'live' | 'both' = 'paper') => {
      const key = `key-${name}`;
      const stub = await startBybitStub({ apiKey: key, balance: 10_000 });
      stubs.set(key, stub);
      const { user, token } = await createUser(store.db, name, mode, NOW);
      const acct = await api(srv.base, token, '/api/accounts', { method: 'POST', body: JSON.stringify({ target: 'bybit:paper', api_key: key, api_secret: 's' }) });
      expect(acct.status).toBe(201);
      return { user, token, stub };
    };
    const issues = async (token: string, q = ''): Promise<Issue[]> => (await api<Issue[]>(srv.base, token, `/api/reconciliation?exchange=bybit&env=paper${q}`)).json;
    const refresh = async (token: string, t: number): Promise<number> => {
      srv.clock.set(t);
      return (await api(srv.base, token, '/api/snapshots', { method: 'POST', body: JSON.stringify({ target: 'bybit:paper' }) })).status;
    };
    const mine = async (userId: number, t: number) => (await srv.monitor.runOnce(t)).filter((v) => v.userId === userId).map((v) => [v.targetKey, v.trigger, v.ok]);

    it("visits only the targets of each user's trading mode: accounts, linked recorders, open positions", async () => {
      const paper = await bybitUser('paperuser', 'paper');
      const live = await createUser(store.db, 'liveuser', 'live', NOW);
      const both = await createUser(store.db, 'bothuser', 'both', NOW);
      await api(srv.base, paper.token, '/api/accounts', { method: 'POST', body: JSON.stringify({ target: 'bybit:live', api_key: 'key-paperuser', api_secret: 's' }) });
      await api(srv.base, paper.token, '/api/recorders', { method: 'POST', body: JSON.stringify({ name: 'r', targets: [{ target: 'sim:paper' }, { target: 'sim:live' }] }) });
      await api(srv.base, live.token, '/api/recorders', { method: 'POST', body: JSON.stringify({ name: 'r', targets: [{ target: 'sim:paper' }] }) });
      await insertEnginePosition(store.db, { id: 'live-e', userId: live.user.id, target: 'sim:live', symbol: BTC, side: 'long', qty: 1, price: 1, openedAt: NOW + 20 * MIN });
      // An exchange target without an account cannot be read: not visited.
      await insertEnginePosition(store.db, { id: 'live-b', userId: live.user.id, target: 'binance:live', symbol: BTC, side: 'long', qty: 1, price: 1, openedAt: NOW + 20 * MIN });
      await insertEnginePosition(store.db, { id: 'both-e', userId: both.user.id, target: 'sim:paper', symbol: ETH, side: 'short', qty: 1, price: 1, openedAt: NOW + 20 * MIN });

      const visits = (await srv.monitor.runOnce(NOW + 20 * MIN)).filter((v) => [paper.user.id, live.user.id, both.user.id].includes(v.userId));
      expect(visits.map((v) => [v.userId, v.targetKey, v.trigger, v.ok])).toEqual([
        [paper.user.id, 'bybit:paper', 'scheduled', true],
        [paper.user.id, 'sim:paper', 'scheduled', true],
        [live.user.id, 'sim:live', 'scheduled', true],
        [both.user.id, 'sim:paper', 'scheduled', true],
      ]);
      expect(paper.stub.requestCount()).toBeGreaterThan(0);
    });

    it('detects an orphan on the exchange, and a failing exchange (500) never makes a ghost nor counts as flat', async () => {
      const { user, token, stub } = await bybitUser('stubby');
      await stub.setPrice(ETH, 3_000);
      await stub.sim.createOrder({ clientId: 'byhand1', symbol: ETH, side: 'sell', type: 'market', qty: 0.5 });
      await insertEnginePosition(store.db, { id: 'stub-e', userId: user.id, target: 'bybit:paper', symbol: BTC, side: 'long', qty: 0.01, price: 50_000, openedAt: NOW - 60 * MIN });

      stub.failNext(1_000, '500');
      expect(await refresh(token, NOW)).toBe(503);
      expect(await refresh(token, NOW + MIN)).toBe(503);
      expect(await issues(token, '&status=all')).toEqual([]);
      const failed = (await api<History[]>(srv.base, token, '/api/snapshots?exchange=bybit&status=all')).json;
      expect(failed[0]?.points.map((p) => [p.status, p.trigger])).toEqual([
        ['failed', 'manual'],
        ['failed', 'manual'],
      ]);
      expect(failed[0]?.points[0]?.error).toMatch(/fetchPositions/);

      stub.clearFaults();
      expect(await refresh(token, NOW + 2 * MIN)).toBe(201);
      let open = await issues(token);
      expect(open.map((i) => [i.symbol, i.kind, i.label, i.flat_checks, i.ledger_qty, i.exchange_qty])).toEqual([
        [ETH, 'orphan', 'untracked', 0, null, 0.5],
        [BTC, 'ghost', 'ghost', 1, 0.01, null],
      ]);

      // Down again for two checks: the ghost keeps its count and its position stays open.
      stub.failNext(1_000, '500');
      expect(await refresh(token, NOW + 3 * MIN)).toBe(503);
      expect(await srv.monitor.runOnce(NOW + 4 * MIN).then((v) => v.find((x) => x.userId === user.id))).toMatchObject({ targetKey: 'bybit:paper', ok: false });
      open = await issues(token);
      expect(open.find((i) => i.kind === 'ghost')?.flat_checks).toBe(1);
      const pos = await store.db.selectFrom('positions').select(['status', 'close_reason']).where('id', '=', 'stub-e').executeTakeFirstOrThrow();
      expect(pos).toEqual({ status: 'open', close_reason: null });

      stub.clearFaults();
      expect(await refresh(token, NOW + 5 * MIN)).toBe(201);
      const all = await issues(token, '&status=all');
      expect(all.find((i) => i.kind === 'ghost')).toMatchObject({ status: 'closed_externally', flat_checks: 2 });
      expect(all.find((i) => i.kind === 'orphan')).toMatchObject({ status: 'open' });
      expect(await store.db.selectFrom('positions').select(['status', 'close_reason']).where('id', '=', 'stub-e').executeTakeFirstOrThrow()).toEqual({ status: 'closed', close_reason: 'closed_externally' });
    });

    it('makes a conflicting engine position follow the exchange (bybit defaults to exchange), warning with both values; record leaves it', async () => {
      const { user, stub } = await bybitUser('truthful');
      await stub.setPrice(BTC, 25_620);
      await stub.sim.createOrder({ clientId: 'seed0', symbol: BTC, side: 'buy', type: 'market', qty: 0.4 });
      await insertEnginePosition(store.db, { id: 'mon-seed0', userId: user.id, target: 'bybit:paper', symbol: BTC, side: 'long', qty: 0.5, price: 25_600, openedAt: NOW - 60 * MIN });
      const lines: { obj: object; msg: string }[] = [];
      const monitor = new Monitor(store.db, srv.venues, srv.clock, { loop: false }, { warn: (obj, msg) => lines.push({ obj, msg }) });
      const position = () => store.db.selectFrom('positions').select(['qty', 'entry_price']).where('id', '=', 'mon-seed0').executeTakeFirstOrThrow();

      await setTargetSettings(store.db, user.id, 'bybit:paper', { reconcilePolicy: 'record' }, NOW);
      const recorded = await monitor.check(user.id, 'bybit:paper', 'manual', NOW);
      expect(recorded.result).toMatchObject({ conflictPolicy: 'record', adjusted: [] });
      expect(await position()).toEqual({ qty: 0.5, entry_price: 25_600 });
      expect(lines.map((l) => l.msg)).toEqual(['reconciliation conflict on bybit:paper BTC/USDT:USDT: ledger long 0.5 @ 25600, exchange long 0.4 @ 25620; recorded (policy record)']);

      await setTargetSettings(store.db, user.id, 'bybit:paper', { reconcilePolicy: 'exchange' }, NOW);
      const adjusted = await monitor.check(user.id, 'bybit:paper', 'manual', NOW + MIN);
      expect(adjusted.result.adjusted).toEqual([expect.objectContaining({ positionId: 'mon-seed0', from: { qty: 0.5, entryPrice: 25_600 }, to: { qty: 0.4, entryPrice: 25_620 } })]);
      expect(await position()).toEqual({ qty: 0.4, entry_price: 25_620 });
      expect(lines[1]?.msg).toBe("reconciliation conflict on bybit:paper BTC/USDT:USDT: ledger long 0.5 @ 25600, exchange long 0.4 @ 25620; mon-seed0 takes the exchange's values (was 0.5 @ 25600)");
      expect(lines[1]?.obj).toMatchObject({ policy: 'exchange', adjusted: true, ledger: { qty: 0.5, price: 25_600 }, exchange: { qty: 0.4, price: 25_620 } });
      // Matched from then on: nothing more to say.
      expect((await monitor.check(user.id, 'bybit:paper', 'manual', NOW + 2 * MIN)).result.findings).toEqual([]);
      expect(lines).toHaveLength(2);
    });

    it('builds the equity history on the schedule, adds event points, retries a failed snapshot with backoff, then falls back to the schedule', async () => {
      const { user, token, stub } = await bybitUser('sched');
      const T = NOW + 1_000 * MIN;
      expect(await mine(user.id, T)).toEqual([['bybit:paper', 'scheduled', true]]);
      expect(await mine(user.id, T + MIN)).toEqual([['bybit:paper', 'monitor', true]]); // a check: no equity point
      srv.clock.set(T + 10 * MIN);
      await srv.monitor.refresh(user.id, 'bybit:paper', 'event');
      expect(await mine(user.id, T + 30 * MIN)).toEqual([['bybit:paper', 'scheduled', true]]);

      stub.failNext(10_000, '500');
      expect(await mine(user.id, T + 60 * MIN)).toEqual([['bybit:paper', 'scheduled', false]]);
      expect(await mine(user.id, T + 60 * MIN + 5_000)).toEqual([['bybit:paper', 'skipped', false]]); // backoff: 10 s
      expect(await mine(user.id, T + 60 * MIN + 10_000)).toEqual([['bybit:paper', 'scheduled', false]]);
      expect(await mine(user.id, T + 60 * MIN + 20_000)).toEqual([['bybit:paper', 'scheduled', false]]); // third attempt: gives up
      expect(await mine(user.id, T + 61 * MIN)).toEqual([['bybit:paper', 'skipped', false]]);
      expect(await mine(user.id, T + 89 * MIN)).toEqual([['bybit:paper', 'skipped', false]]);
      stub.clearFaults();
      expect(await mine(user.id, T + 90 * MIN)).toEqual([['bybit:paper', 'scheduled', true]]);
      expect(await mine(user.id, T + 91 * MIN)).toEqual([['bybit:paper', 'monitor', true]]);

      const h = (await api<History[]>(srv.base, token, '/api/snapshots?exchange=bybit&env=paper')).json;
      expect(h.map((x) => x.target)).toEqual(['bybit:paper']);
      expect(h[0]?.points.map((p) => [p.ts - T, p.trigger])).toEqual([
        [0, 'scheduled'],
        [10 * MIN, 'event'],
        [30 * MIN, 'scheduled'],
        [90 * MIN, 'scheduled'],
      ]);
      expect(h[0]?.points[0]?.equity).toBe(10_000);
      const all = (await api<History[]>(srv.base, token, `/api/snapshots?exchange=bybit&env=paper&status=all&from=${T + 60 * MIN}&to=${T + 61 * MIN}`)).json;
      expect(all[0]?.points.map((p) => [p.ts - T, p.status])).toEqual([
        [60 * MIN, 'failed'],
        [60 * MIN + 10_000, 'failed'],
        [60 * MIN + 20_000, 'failed'],
      ]);
    });
  });
}
