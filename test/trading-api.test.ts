// Seed 003 as written, over the real HTTP server on both dialects: the positions response of one exchange
// account in the seed's exact shape, switching the account type (the user's trading mode, which the
// monitor honours), the per-target reconciliation policy, and the terminal's DEMO / REAL badge.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../src/store/db.ts';
import { createUser } from '../src/store/users.ts';
import { DIALECTS } from './db.ts';
import { api, insertEnginePosition, NOW, postSignal, startServer, userWithRecorder, type Running } from './server-helpers.ts';

const BTC = 'BTC/USDT:USDT';
const MIN = 60_000;
/** The fields of seed 003's positions response, and only those. */
const SEED_FIELDS = ['symbol', 'side', 'size', 'entry_price', 'mark_price', 'pnl', 'exchange', 'account_type', 'env', 'strategy', 'tp_price', 'sl_price'];

interface Failure {
  error: { code: string; message: string };
}

for (const d of DIALECTS) {
  describe(`seed 003 trading routes (${d.name})`, () => {
    let loc: Awaited<ReturnType<typeof d.fresh>>;
    let store: Store;
    let srv: Running;

    beforeAll(async () => {
      loc = await d.fresh();
      store = await loc.open();
      srv = await startServer(store, {}, undefined, { openCcxt: null });
    });
    afterAll(async () => {
      await srv?.stop();
      await store?.close();
      await loc?.drop();
    });

    /** A 400 whose message is one sentence matching `re`. */
    const refused = async (token: string, path: string, re: RegExp, init: RequestInit = {}): Promise<void> => {
      const r = await api<Failure>(srv.base, token, path, init);
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe('invalid_input');
      expect(r.json.error.message).toMatch(re);
      expect(r.json.error.message).not.toMatch(/\n/);
    };

    it('GET /api/trading/positions answers the seed\'s shape for exchange & account_type (or env), scoped to the caller', async () => {
      const { user, token } = await createUser(store.db, 'seedshape', 'both', NOW);
      await insertEnginePosition(store.db, { id: 'by-demo', userId: user.id, target: 'bybit:paper', symbol: BTC, side: 'long', qty: 0.01, price: 50_000, openedAt: NOW });
      await store.db.updateTable('positions').set({ take_profit: 55_000, stop_loss: 48_000, strategy: 'elcaro', last_price: 51_000 }).where('id', '=', 'by-demo').execute();
      await insertEnginePosition(store.db, { id: 'by-real', userId: user.id, target: 'bybit:live', symbol: BTC, side: 'short', qty: 0.02, price: 50_000, openedAt: NOW });
      await insertEnginePosition(store.db, { id: 'hl-test', userId: user.id, target: 'hyperliquid:paper', symbol: 'ETH/USDC:USDC', side: 'long', qty: 1, price: 3_000, openedAt: NOW });

      const demo = await api<Record<string, unknown>[]>(srv.base, token, '/api/trading/positions?exchange=bybit&account_type=demo');
      expect(demo.status).toBe(200);
      // The seed's example, field for field.
      expect(demo.json).toEqual([
        { symbol: 'BTCUSDT', side: 'long', size: 0.01, entry_price: 50_000, mark_price: 51_000, pnl: 10, exchange: 'bybit', account_type: 'demo', env: 'paper', strategy: 'elcaro', tp_price: 55_000, sl_price: 48_000 },
      ]);
      expect(Object.keys(demo.json[0] ?? {})).toEqual(SEED_FIELDS); // in the seed's order, too
      expect((await api(srv.base, token, '/api/trading/positions?exchange=bybit&env=paper')).json).toEqual(demo.json);
      // env wins over account_type.
      expect((await api(srv.base, token, '/api/trading/positions?exchange=bybit&env=paper&account_type=real')).json).toEqual(demo.json);
      expect((await api<{ account_type: string; side: string }[]>(srv.base, token, '/api/trading/positions?exchange=bybit&account_type=real')).json.map((p) => [p.account_type, p.side])).toEqual([['real', 'short']]);
      expect((await api<{ symbol: string; account_type: string }[]>(srv.base, token, '/api/trading/positions?exchange=hyperliquid&account_type=testnet')).json.map((p) => [p.symbol, p.account_type])).toEqual([['ETHUSDC', 'testnet']]);
      // Neither env nor account_type: the accounts of the user's trading mode (both here).
      expect((await api<{ env: string }[]>(srv.base, token, '/api/trading/positions?exchange=bybit')).json.map((p) => p.env)).toEqual(['paper', 'live']);

      const stranger = await createUser(store.db, 'seedstranger', 'both', NOW);
      expect((await api(srv.base, stranger.token, '/api/trading/positions?exchange=bybit&account_type=demo')).json).toEqual([]);

      await refused(token, '/api/trading/positions?account_type=demo', /^say which exchange/);
      await refused(token, '/api/trading/positions?exchange=kraken&account_type=demo', /unknown exchange 'kraken'/);
      await refused(token, '/api/trading/positions?exchange=hyperliquid&account_type=demo', /account_type 'demo' does not exist on hyperliquid \(use testnet or mainnet\)/);
      await refused(token, '/api/trading/positions?exchange=bybit&env=prod', /unknown env 'prod'/);
      expect((await api(srv.base, 'nope', '/api/trading/positions?exchange=bybit')).status).toBe(401);
    });

    it('shows signal positions on the recorder\'s linked target, scaled, marked at the latest price', async () => {
      const { token, secret } = await userWithRecorder(store, 'seedsignals', { targets: [{ key: 'sim:paper', multiplier: 2 }], strategy: 'trend' });
      srv.clock.set(NOW);
      expect((await postSignal(srv.base, secret, JSON.stringify({ ticker: 'BTCUSDT', action: 'buy', quantity: 1, price: 50_000 }))).json.status).toBe('accepted');
      expect((await postSignal(srv.base, secret, JSON.stringify({ ticker: 'ETHUSDT', action: 'sell', quantity: 1, price: 3_000 }))).json.status).toBe('accepted');
      const r = await api<Record<string, unknown>[]>(srv.base, token, '/api/trading/positions?exchange=sim&env=paper');
      expect(r.json).toEqual([
        { symbol: 'BTCUSDT', side: 'long', size: 2, entry_price: 50_000, mark_price: expect.any(Number), pnl: expect.any(Number), exchange: 'sim', account_type: 'paper', env: 'paper', strategy: 'trend', tp_price: null, sl_price: null },
        { symbol: 'ETHUSDT', side: 'short', size: 2, entry_price: 3_000, mark_price: 3_000, pnl: 0, exchange: 'sim', account_type: 'paper', env: 'paper', strategy: 'trend', tp_price: null, sl_price: null },
      ]);
      const btc = r.json[0] as { mark_price: number; pnl: number };
      expect(btc.pnl).toBeCloseTo((btc.mark_price - 50_000) * 2, 6);
    });

    it('POST /api/users/switch-account-type maps demo / real / testnet / mainnet / both onto the trading mode, and refuses anything else in one sentence', async () => {
      const { token } = await createUser(store.db, 'switcher', 'paper', NOW);
      const cases: [Record<string, string>, string, string[]][] = [
        [{ account_type: 'real' }, 'live', ['live']],
        [{ account_type: 'demo' }, 'paper', ['paper']],
        [{ account_type: 'mainnet' }, 'live', ['live']],
        [{ account_type: 'testnet' }, 'paper', ['paper']],
        [{ account_type: 'both' }, 'both', ['paper', 'live']],
        [{ account_type: 'REAL', exchange: 'bybit' }, 'live', ['live']],
        [{ account_type: 'testnet', exchange: 'hyperliquid' }, 'paper', ['paper']],
        [{ trading_mode: 'live' }, 'live', ['live']],
      ];
      for (const [body, mode, envs] of cases) {
        const r = await api(srv.base, token, '/api/users/switch-account-type', { method: 'POST', body: JSON.stringify(body) });
        expect([body, r.status, r.json]).toEqual([body, 200, { user: 'switcher', trading_mode: mode, envs }]);
        expect((await api<{ trading_mode: string }>(srv.base, token, '/api/me')).json.trading_mode).toBe(mode);
      }
      const post = (body: unknown): RequestInit => ({ method: 'POST', body: JSON.stringify(body) });
      await refused(token, '/api/users/switch-account-type', /^account type 'prod' is not one of demo, real, testnet, mainnet, both/, post({ account_type: 'prod' }));
      await refused(token, '/api/users/switch-account-type', /^say which account type/, post({}));
      await refused(token, '/api/users/switch-account-type', /account_type 'testnet' does not exist on bybit \(use demo or real\)/, post({ account_type: 'testnet', exchange: 'bybit' }));
      await refused(token, '/api/users/switch-account-type', /disagree/, post({ account_type: 'demo', trading_mode: 'live' }));
      const wrongType = await api<Failure>(srv.base, token, '/api/users/switch-account-type', post({ account_type: 7 }));
      expect(wrongType.status).toBe(400);
      // Nothing refused changed the mode.
      expect((await api<{ trading_mode: string }>(srv.base, token, '/api/me')).json.trading_mode).toBe('live');
    });

    it('the monitor snapshots and reconciles only the envs of the mode the user switched to', async () => {
      const { user, token } = await createUser(store.db, 'monitored', 'both', NOW);
      await insertEnginePosition(store.db, { id: 'mon-p', userId: user.id, target: 'sim:paper', symbol: BTC, side: 'long', qty: 1, price: 1, openedAt: NOW, source: 'exchange' });
      await insertEnginePosition(store.db, { id: 'mon-l', userId: user.id, target: 'sim:live', symbol: BTC, side: 'long', qty: 1, price: 1, openedAt: NOW, source: 'exchange' });
      const visited = async (t: number): Promise<string[]> => (await srv.monitor.runOnce(t)).filter((v) => v.userId === user.id && v.trigger !== 'skipped').map((v) => v.targetKey);

      const ghosts = async () => {
        const all = (await api<{ target: string; kind: string; status: string; flat_checks: number }[]>(srv.base, token, '/api/reconciliation?status=all&exchange=sim')).json;
        return Object.fromEntries(all.map((i) => [i.target, [i.kind, i.status, i.flat_checks]]));
      };

      expect(await visited(NOW + 10 * MIN)).toEqual(['sim:live', 'sim:paper']);
      expect(await ghosts()).toEqual({ 'sim:live': ['ghost', 'open', 1], 'sim:paper': ['ghost', 'open', 1] });
      await api(srv.base, token, '/api/users/switch-account-type', { method: 'POST', body: JSON.stringify({ account_type: 'real' }) });
      expect(await visited(NOW + 11 * MIN)).toEqual(['sim:live']);
      // Only the live account was read again: its ghost reached two flat reports, the paper one did not move.
      expect(await ghosts()).toEqual({ 'sim:live': ['ghost', 'closed_externally', 2], 'sim:paper': ['ghost', 'open', 1] });
      await api(srv.base, token, '/api/users/switch-account-type', { method: 'POST', body: JSON.stringify({ account_type: 'demo' }) });
      expect(await visited(NOW + 12 * MIN)).toEqual(['sim:paper']);
      expect(await ghosts()).toEqual({ 'sim:live': ['ghost', 'closed_externally', 2], 'sim:paper': ['ghost', 'closed_externally', 2] });
    });

    it('GET / PUT /api/targets/:key/settings read and set the reconciliation policy per user and target', async () => {
      const { token } = await createUser(store.db, 'settler', 'both', NOW);
      const other = await createUser(store.db, 'settler2', 'both', NOW);
      const get = (tok: string, key: string) => api<Record<string, unknown>>(srv.base, tok, `/api/targets/${encodeURIComponent(key)}/settings`);
      expect((await get(token, 'bybit:paper')).json).toEqual({ target: 'bybit:paper', exchange: 'bybit', env: 'paper', account_type: 'demo', reconcile_policy: 'exchange', is_default: true, updated_at: null });
      expect((await get(token, 'sim:paper')).json).toMatchObject({ reconcile_policy: 'record', is_default: true });

      srv.clock.set(NOW + 5 * MIN);
      const put = await api(srv.base, token, '/api/targets/bybit:demo/settings', { method: 'PUT', body: JSON.stringify({ reconcile_policy: 'record' }) });
      expect(put.status).toBe(200);
      expect(put.json).toEqual({ target: 'bybit:paper', exchange: 'bybit', env: 'paper', account_type: 'demo', reconcile_policy: 'record', is_default: false, updated_at: NOW + 5 * MIN });
      expect((await get(token, 'bybit:paper')).json).toMatchObject({ reconcile_policy: 'record', is_default: false });
      expect((await get(other.token, 'bybit:paper')).json).toMatchObject({ reconcile_policy: 'exchange', is_default: true });
      const simPut = await api(srv.base, token, '/api/targets/sim:paper/settings', { method: 'PUT', body: JSON.stringify({ reconcile_policy: 'exchange' }) });
      expect(simPut.json).toMatchObject({ target: 'sim:paper', reconcile_policy: 'exchange' });

      const putBody = (body: unknown): RequestInit => ({ method: 'PUT', body: JSON.stringify(body) });
      await refused(token, '/api/targets/bybit:paper/settings', /^reconcile_policy must be exchange or record, got 'trust'/, putBody({ reconcile_policy: 'trust' }));
      await refused(token, '/api/targets/bybit/settings', /a target is exchange:env/);
      await refused(token, '/api/targets/kraken:paper/settings', /unknown exchange 'kraken'/);
      await refused(token, '/api/targets/hyperliquid:demo/settings', /account_type 'demo' does not exist on hyperliquid/, putBody({ reconcile_policy: 'record' }));
      expect((await api(srv.base, token, '/api/targets/bybit:paper/settings', putBody({}))).status).toBe(400);
    });

    it('the terminal badge reads DEMO or REAL', async () => {
      const { token } = await createUser(store.db, 'badger', 'both', NOW);
      const badge = async (q: string) => (await api<{ badge: string }>(srv.base, token, `/api/terminal?${q}`)).json.badge;
      expect(await badge('exchange=bybit&account_type=demo')).toBe('DEMO');
      expect(await badge('exchange=bybit&account_type=real')).toBe('REAL');
      expect(await badge('exchange=hyperliquid&account_type=testnet')).toBe('DEMO');
      expect(await badge('exchange=hyperliquid&account_type=mainnet')).toBe('REAL');
    });
  });
}
