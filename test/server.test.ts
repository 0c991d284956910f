import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../src/store/db.ts';
import { rebuildSignalPositions } from '../src/tracker/rebuild.ts';
import { DIALECTS } from './db.ts';
import { NOW, api, postSignal, startServer, userWithRecorder, type Running } from './server-helpers.ts';

interface Pos {
  id: string;
  symbol: string;
  side: string;
  position_side: string | null;
  size: number;
  entry_price: number;
  mark_price: number;
  pnl: number;
  realized_pnl: number;
  exchange: string;
  env: string;
  account_type: string;
  strategy: string | null;
  source: string;
  opened_by: string;
  tp_price: number | null;
  sl_price: number | null;
}

const sig = (o: Record<string, unknown>): string => JSON.stringify(o);

for (const d of DIALECTS) {
  describe(`tracking server over HTTP on ${d.name}`, () => {
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

    const count = async (table: 'signals' | 'positions' | 'trades'): Promise<number> =>
      Number((await store.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

    it('runs the seed scenario: BUY 1@25600, BUY 1@25610 → +2@25605, SELL 1@25620 → +1@25605, CLOSE → flat', async () => {
      const { token, secret, recorder } = await userWithRecorder(store, 'seed', { targets: [{ key: 'bybit:paper' }] });
      const steps: [string, number, number][] = [];
      for (const [body, size, entry] of [
        [{ ticker: 'BTCUSDT', action: 'buy', quantity: 1, price: 25600 }, 1, 25600],
        [{ ticker: 'BTCUSDT', action: 'buy', quantity: 1, price: 25610 }, 2, 25605],
        [{ ticker: 'BTCUSDT', action: 'sell', quantity: 1, price: 25620 }, 1, 25605],
      ] as const) {
        srv.clock.set(srv.clock.now() + 1000);
        const r = await postSignal(srv.base, secret, sig(body));
        expect(r.status).toBe(200);
        expect(r.json.status).toBe('accepted');
        const pos = await api<Pos[]>(srv.base, token, '/api/positions?exchange=bybit&env=paper');
        expect(pos.status).toBe(200);
        expect(pos.json).toHaveLength(1);
        steps.push([pos.json[0]!.side, pos.json[0]!.size, pos.json[0]!.entry_price]);
        expect(pos.json[0]!.size).toBe(size);
        expect(pos.json[0]!.entry_price).toBeCloseTo(entry, 9);
      }
      expect(steps.map((s) => s[0])).toEqual(['long', 'long', 'long']);
      const open = (await api<Pos[]>(srv.base, token, '/api/positions?exchange=bybit&account_type=demo')).json;
      // The seed example's fields, with the legacy account type of bybit paper.
      expect(open[0]).toMatchObject({ symbol: 'BTCUSDT', side: 'long', size: 1, entry_price: 25605, mark_price: 25620, pnl: 15, realized_pnl: 15, exchange: 'bybit', env: 'paper', account_type: 'demo', source: 'signal', opened_by: 'signal', strategy: 'seed stream', tp_price: null, sl_price: null });
      srv.clock.set(srv.clock.now() + 1000);
      const close = await postSignal(srv.base, secret, sig({ ticker: 'BTCUSDT', action: 'close', price: 25630 }));
      expect(close.json.status).toBe('accepted');
      expect((await api<Pos[]>(srv.base, token, '/api/positions?exchange=bybit&env=paper')).json).toEqual([]);
      const trades = (await api<{ realized_pnl: number; qty: number; entry_price: number; exit_price: number }[]>(srv.base, token, '/api/trades')).json;
      // Realized: 15 on the SELL, then (25630 - 25605) × 1 = 25 on the CLOSE.
      expect(trades).toHaveLength(1);
      expect(trades[0]).toMatchObject({ realized_pnl: 40, qty: 2, entry_price: 25605 });
      expect(trades[0]!.exit_price).toBeCloseTo(25625, 9);
      const rp = (await api<{ entries: { kind: string; qty: number; price: number }[] }[]>(srv.base, token, `/api/recorders/${recorder.id}/positions?status=all`)).json;
      expect(rp[0]!.entries.map((e) => `${e.kind} ${e.qty}@${e.price}`)).toEqual(['open 1@25600', 'add 1@25610', 'reduce 1@25620', 'close 1@25630']);
      const equity = (await api<{ equity: number; drawdown: number }[]>(srv.base, token, `/api/recorders/${recorder.id}/equity`)).json;
      expect(equity.map((e) => e.equity)).toEqual([0, 10, 30, 40]);
    });

    it('flips on an excess and keeps hedge legs apart', async () => {
      const oneway = await userWithRecorder(store, 'flipper');
      srv.clock.set(srv.clock.now() + 1000);
      await postSignal(srv.base, oneway.secret, sig({ ticker: 'ETHUSDT', action: 'buy', quantity: 1, price: 2000 }));
      srv.clock.set(srv.clock.now() + 1000);
      await postSignal(srv.base, oneway.secret, sig({ ticker: 'ETHUSDT', action: 'sell', quantity: 3, price: 2100 }));
      const after = (await api<Pos[]>(srv.base, oneway.token, '/api/positions?exchange=sim&env=paper')).json;
      expect(after.map((p) => [p.side, p.size, p.entry_price])).toEqual([['short', 2, 2100]]);
      const trades = (await api<{ realized_pnl: number }[]>(srv.base, oneway.token, '/api/trades')).json;
      expect(trades.map((t) => t.realized_pnl)).toEqual([100]);

      const hedge = await userWithRecorder(store, 'hedger', { positionMode: 'hedge' });
      for (const body of [
        { ticker: 'BTCUSDT', action: 'buy', quantity: 2, price: 100 },
        { ticker: 'BTCUSDT', action: 'sell', quantity: 1, price: 101 },
        { ticker: 'BTCUSDT', action: 'sell', quantity: 1, price: 104, position_side: 'long' },
      ]) {
        srv.clock.set(srv.clock.now() + 1000);
        expect((await postSignal(srv.base, hedge.secret, sig(body))).json.status).toBe('accepted');
      }
      const legs = (await api<Pos[]>(srv.base, hedge.token, '/api/positions')).json;
      expect(legs.map((p) => [p.position_side, p.side, p.size, p.entry_price])).toEqual([
        ['long', 'long', 1, 100],
        ['short', 'short', 1, 101],
      ]);
      srv.clock.set(srv.clock.now() + 1000);
      await postSignal(srv.base, hedge.secret, sig({ ticker: 'BTCUSDT', action: 'close', position_side: 'short', price: 99 }));
      const left = (await api<Pos[]>(srv.base, hedge.token, '/api/positions')).json;
      expect(left.map((p) => p.position_side)).toEqual(['long']);
    });

    it('accepts every documented body format, whatever the content-type', async () => {
      const u = await userWithRecorder(store, 'formats', { positionMode: 'oneway' });
      const t = new Date(NOW).toISOString();
      const bodies: [string, string, string][] = [
        ['native', sig({ ticker: 'BTCUSDT', action: 'buy', quantity: 1, price: 100 }), 'application/json'],
        ['tradingview', sig({ ticker: 'BINANCE:BTCUSDT.P', action: 'buy', contracts: '1', price: '101', market_position: 'long', market_position_size: '2', time: t }), 'text/plain; charset=utf-8'],
        ['traderspost', sig({ ticker: 'BTCUSDT', action: 'add', sentiment: 'bullish', quantity: 1, price: 102 }), 'application/json'],
        ['3commas', sig({ secret: 'x', max_lag: '300', timestamp: t, trigger_price: '103', tv_instrument: 'BTCUSDT', action: 'sell', strategy_info: { market_position: 'long', market_position_size: '2', prev_market_position: 'long', prev_market_position_size: '3' }, order: { amount: '1', currency_type: 'base' } }), 'application/json'],
        ['okx', sig({ action: 'sell', marketPosition: 'flat', prevMarketPosition: 'long', instrument: 'BTCUSDT', signalToken: 'x', timestamp: t, maxLag: '60', investmentType: 'base', amount: '2' }), 'application/json'],
        ['pineconnector', '60123456789,buy,BTCUSDT,risk=0.5,price=104', 'text/plain'],
        ['form', 'ticker=BTCUSDT&action=sell&quantity=0.5&price=105', 'application/x-www-form-urlencoded'],
      ];
      const seen: string[] = [];
      for (const [format, body, ct] of bodies) {
        srv.clock.set(srv.clock.now() + 1000);
        const r = await postSignal(srv.base, u.secret, body, ct);
        expect(r.status, `${format}: ${JSON.stringify(r.json)}`).toBe(200);
        expect(r.json.status).toBe('accepted');
        seen.push(format);
      }
      const log = (await api<{ items: { format: string; outcome: string }[] }>(srv.base, u.token, '/api/signals?limit=50')).json.items;
      expect(log.map((s) => s.format).reverse()).toEqual(seen);
      // Net: +1, → target +2, +1 = 3, → target +2, → flat (okx), +0.5 (pine), −0.5 (form) = flat.
      expect((await api<Pos[]>(srv.base, u.token, '/api/positions')).json).toEqual([]);
      const trades = (await api<{ qty: number }[]>(srv.base, u.token, '/api/trades')).json;
      expect(trades.map((x) => x.qty).sort()).toEqual([0.5, 3]);
    });

    it('keys a delivery with its own stop-loss / take-profit: the same alert with and without a bracket in one second is two signals', async () => {
      const u = await userWithRecorder(store, 'dupes-bracket');
      const plain = sig({ ticker: 'ETHUSDT', action: 'buy', quantity: 1, price: 100 });
      const bracketed = sig({ ticker: 'ETHUSDT', action: 'buy', quantity: 1, price: 100, stop_loss: 90, take_profit: 120 });
      const answers = [await postSignal(srv.base, u.secret, plain), await postSignal(srv.base, u.secret, bracketed), await postSignal(srv.base, u.secret, bracketed)];
      expect(answers.map((r) => r.json.status)).toEqual(['accepted', 'accepted', 'duplicate']);
    });

    it('answers a duplicate 200 without applying it twice, and rejects stale signals with the reason stored', async () => {
      const u = await userWithRecorder(store, 'dupes', { maxLagMs: 60_000 });
      const body = sig({ ticker: 'BTCUSDT', action: 'buy', quantity: 1, price: 100, time: new Date(srv.clock.now()).toISOString() });
      const a = await postSignal(srv.base, u.secret, body);
      srv.clock.set(srv.clock.now() + 2000);
      const b = await postSignal(srv.base, u.secret, body);
      expect([a.status, b.status]).toEqual([200, 200]);
      expect(b.json).toMatchObject({ status: 'duplicate', duplicate_of: a.json.signal_id });
      expect((await api<Pos[]>(srv.base, u.token, '/api/positions')).json.map((p) => p.size)).toEqual([1]);
      const stale = sig({ ticker: 'BTCUSDT', action: 'buy', quantity: 1, price: 100, time: new Date(srv.clock.now() - 61_000).toISOString() });
      const s = await postSignal(srv.base, u.secret, stale);
      expect(s.status).toBe(422);
      expect(String(s.json.reason)).toMatch(/stale.*max lag is 60 s/);
      expect((await api<Pos[]>(srv.base, u.token, '/api/positions')).json.map((p) => p.size)).toEqual([1]);
      const log = (await api<{ items: { outcome: string; reason: string | null; raw_body: string }[] }>(srv.base, u.token, '/api/signals')).json.items;
      expect(log.map((x) => x.outcome)).toEqual(['rejected', 'duplicate', 'accepted']);
      expect(log[0]!.raw_body).toBe(stale);
      const rejected = (await api<{ items: unknown[] }>(srv.base, u.token, '/api/signals?outcome=rejected')).json.items;
      expect(rejected).toHaveLength(1);
    });

    it('applies nothing and stores nothing for wrong secrets and malformed bodies', async () => {
      const u = await userWithRecorder(store, 'strict');
      const before = await count('signals');
      const wrong = await postSignal(srv.base, 'not-a-secret', sig({ ticker: 'BTCUSDT', action: 'buy', price: 1 }));
      expect(wrong.status).toBe(404);
      expect(wrong.json).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
      for (const bad of ['', '{"ticker":"BTCUSDT",', '[1,2]', '{"action":"buy","price":1}', '{"ticker":"BTCUSDT","action":"explode","price":1}', '{"ticker":"BTCUSDT","action":"buy","quantity":"lots"}', 'hello world']) {
        const r = await postSignal(srv.base, u.secret, bad, 'text/plain');
        expect(r.status, bad).toBe(400);
        expect((r.json.error as { code: string }).code).toBe('invalid_input');
      }
      const big = await postSignal(srv.base, u.secret, sig({ ticker: 'BTCUSDT', action: 'buy', price: 1, pad: 'x'.repeat(70 * 1024) }));
      expect(big.status).toBe(413);
      expect((big.json.error as { code: string }).code).toBe('payload_too_large');
      expect(await count('signals')).toBe(before);
      expect((await api<Pos[]>(srv.base, u.token, '/api/positions')).json).toEqual([]);
    });

    it("scopes every query to the caller: another user's ids answer 404", async () => {
      const a = await userWithRecorder(store, 'owner-a');
      const b = await userWithRecorder(store, 'owner-b');
      srv.clock.set(srv.clock.now() + 1000);
      await postSignal(srv.base, a.secret, sig({ ticker: 'SOLUSDT', action: 'buy', quantity: 1, price: 10 }));
      expect((await api(srv.base, b.token, `/api/recorders/${a.recorder.id}`)).status).toBe(404);
      expect((await api(srv.base, b.token, `/api/recorders/${a.recorder.id}/positions`)).status).toBe(404);
      expect((await api(srv.base, b.token, `/api/recorders/${a.recorder.id}`, { method: 'DELETE' })).status).toBe(404);
      expect((await api<Pos[]>(srv.base, b.token, '/api/positions')).json).toEqual([]);
      expect((await api<{ items: unknown[] }>(srv.base, b.token, '/api/signals')).json.items).toEqual([]);
      expect((await api<Pos[]>(srv.base, a.token, '/api/positions')).json.map((p) => p.symbol)).toEqual(['SOLUSDT']);
      expect((await api(srv.base, 'hly_wrong', '/api/positions')).status).toBe(401);
      expect((await fetch(`${srv.base}/api/positions`)).status).toBe(401);
    });

    it('manages recorders and accounts over the API without ever returning credentials', async () => {
      const u = await userWithRecorder(store, 'manager');
      const created = await api<{ id: number; webhook_url: string; targets: unknown[] }>(srv.base, u.token, '/api/recorders', {
        method: 'POST',
        body: JSON.stringify({ name: 'ETH swing', position_mode: 'hedge', targets: [{ target: 'hyperliquid:testnet', multiplier: 0.5 }] }),
      });
      expect(created.status).toBe(201);
      expect(created.json.targets).toEqual([{ target: 'hyperliquid:paper', multiplier: 0.5 }]);
      const secret = created.json.webhook_url.split('/').pop()!;
      srv.clock.set(srv.clock.now() + 1000);
      expect((await postSignal(srv.base, secret, sig({ ticker: 'ETHUSDT', action: 'sell', quantity: 4, price: 3000 }))).status).toBe(200);
      const hl = (await api<Pos[]>(srv.base, u.token, '/api/positions?exchange=hyperliquid&account_type=testnet&env=paper')).json;
      expect(hl.map((p) => [p.side, p.size, p.account_type])).toEqual([['short', 2, 'testnet']]);
      expect((await api(srv.base, u.token, '/api/positions?exchange=hyperliquid&account_type=demo')).status).toBe(400);
      expect((await api(srv.base, u.token, '/api/recorders', { method: 'POST', body: JSON.stringify({ name: '' }) })).status).toBe(400);
      expect((await api(srv.base, u.token, `/api/recorders/${created.json.id}`, { method: 'DELETE' })).status).toBe(204);
      expect((await postSignal(srv.base, secret, sig({ ticker: 'ETHUSDT', action: 'buy', price: 1 }))).status).toBe(404);

      const acct = await api<Record<string, unknown>>(srv.base, u.token, '/api/accounts', {
        method: 'POST',
        body: JSON.stringify({ target: 'bybit:paper', label: 'demo', api_key: 'KEY-abc-123', api_secret: 'SECRET-xyz-789' }),
      });
      expect(acct.status).toBe(201);
      const listed = await api<unknown[]>(srv.base, u.token, '/api/accounts');
      const text = JSON.stringify([acct.json, listed.json]);
      expect(text).not.toMatch(/KEY-abc-123|SECRET-xyz-789|credentials/);
      const raw = await store.db.selectFrom('accounts').select('credentials_enc').where('user_id', '=', u.user.id).executeTakeFirstOrThrow();
      expect(raw.credentials_enc).not.toMatch(/KEY-abc|SECRET-xyz/);
      const targets = (await api<{ target: string; has_account: boolean; account_type: string }[]>(srv.base, u.token, '/api/targets')).json;
      expect(targets.filter((t) => t.has_account).map((t) => t.target)).toEqual(['sim:paper', 'sim:live', 'bybit:paper']);
      expect(targets.find((t) => t.target === 'hyperliquid:live')?.account_type).toBe('mainnet');
      expect((await api(srv.base, u.token, `/api/accounts/${String(acct.json.id)}`, { method: 'DELETE' })).status).toBe(204);
      expect((await api(srv.base, u.token, `/api/accounts/${String(acct.json.id)}`, { method: 'DELETE' })).status).toBe(404);
    });

    it('serves /healthz and the OpenAPI document at /docs', async () => {
      expect(await (await fetch(`${srv.base}/healthz`)).json()).toEqual({ ok: true, database: d.name });
      const doc = (await (await fetch(`${srv.base}/docs/json`)).json()) as { openapi: string; paths: Record<string, unknown> };
      expect(doc.openapi).toMatch(/^3\./);
      expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/positions', '/api/recorders', '/api/signals', '/api/trades', '/api/targets', '/api/accounts', '/hooks/signals/{secret}']));
      expect((await fetch(`${srv.base}/docs`)).status).toBe(200);
      const nf = await fetch(`${srv.base}/nope`);
      expect(nf.status).toBe(404);
      expect(await nf.json()).toMatchObject({ error: { code: 'not_found' } });
    });

    it('keeps everything across a restart, and a rebuild from the signal log equals the live ledger', async () => {
      const u = await userWithRecorder(store, 'durable');
      for (const [action, qty, price] of [
        ['buy', 1, 50],
        ['buy', 3, 54],
        ['sell', 2, 60],
      ] as const) {
        srv.clock.set(srv.clock.now() + 1000);
        await postSignal(srv.base, u.secret, sig({ ticker: 'BTCUSDT', action, quantity: qty, price }));
      }
      await srv.stop();
      await store.close();
      store = await loc.open();
      srv = await startServer(store, {}, srv.clock);
      const p = (await api<Pos[]>(srv.base, u.token, '/api/positions')).json;
      expect(p.map((x) => [x.size, x.entry_price, x.realized_pnl])).toEqual([[2, 53, 14]]);
      srv.clock.set(srv.clock.now() + 1000);
      await postSignal(srv.base, u.secret, sig({ ticker: 'BTCUSDT', action: 'buy', quantity: 2, price: 57 }));
      const q = (await api<Pos[]>(srv.base, u.token, '/api/positions')).json;
      expect(q.map((x) => [x.id, x.size, x.entry_price])).toEqual([[p[0]!.id, 4, 55]]);

      const snapshot = async () => ({
        positions: await store.db.selectFrom('positions').selectAll().orderBy('id').execute(),
        entries: (await store.db.selectFrom('position_entries').select(['position_id', 'kind', 'qty', 'price', 'realized_pnl', 'ts', 'signal_id']).orderBy('position_id').orderBy('ts').orderBy('signal_id').orderBy('kind').execute()),
        trades: (await store.db.selectFrom('trades').select(['position_id', 'qty', 'entry_price', 'exit_price', 'realized_pnl', 'max_adverse', 'opened_at', 'closed_at']).orderBy('position_id').execute()),
        equity: (await store.db.selectFrom('equity_points').select(['recorder_id', 'ts', 'realized', 'unrealized']).orderBy('recorder_id').orderBy('ts').orderBy('id').execute()),
      });
      const live = await snapshot();
      expect(live.positions.length).toBeGreaterThan(5);
      const report = await rebuildSignalPositions(store.db);
      expect(report.refused).toEqual([]);
      expect(report.positions).toBe(live.positions.length);
      expect(await snapshot()).toEqual(live);
    });

    it('answers malformed API input with a JSON 4xx, never a 5xx', async () => {
      const u = await userWithRecorder(store, 'sloppy');
      const cases: [string, RequestInit, number][] = [
        ['/api/recorders', { method: 'POST', body: '{"name":' }, 400],
        ['/api/recorders', { method: 'POST', body: JSON.stringify({ name: 'x', position_mode: 'sideways' }) }, 400],
        ['/api/recorders', { method: 'POST', body: JSON.stringify({ name: 'x', targets: [{ target: 'kraken:paper' }] }) }, 400],
        ['/api/recorders/abc', {}, 400],
        ['/api/recorders/999999', {}, 404],
        ['/api/signals?limit=0', {}, 400],
        ['/api/signals?outcome=maybe', {}, 400],
        ['/api/positions?exchange=kraken', {}, 400],
        ['/api/positions?env=paper', {}, 400],
        ['/api/positions?exchange=bybit&env=demo', {}, 400],
        ['/api/accounts', { method: 'POST', body: JSON.stringify({ target: 'bybit:paper' }) }, 400],
        ['/api/accounts', { method: 'POST', body: JSON.stringify({ target: 'nowhere:paper', api_key: 'k', api_secret: 's' }) }, 400],
      ];
      for (const [path, init, status] of cases) {
        const r = await api<{ error: { code: string; message: string } }>(srv.base, u.token, path, init);
        expect(r.status, `${path} ${String(init.body ?? '')}`).toBe(status);
        expect(r.json.error.message.length).toBeGreaterThan(5);
      }
    });

    it('limits requests per client IP', async () => {
      const limited = await startServer(store, { perIpPerMinute: 4 }, srv.clock);
      try {
        const u = await userWithRecorder(store, 'greedy');
        const codes: number[] = [];
        for (let i = 0; i < 6; i++) codes.push((await api(limited.base, u.token, '/api/targets')).status);
        expect(codes).toEqual([200, 200, 200, 200, 429, 429]);
        const r = await api<{ error: { code: string } }>(limited.base, u.token, '/api/targets');
        expect(r.json.error.code).toBe('rate_limited');
      } finally {
        await limited.stop();
      }
    });

    it('limits deliveries per recorder', async () => {
      const limited = await startServer(store, { perRecorderPerMinute: 3 }, srv.clock);
      try {
        const u = await userWithRecorder(store, 'chatty');
        const codes: number[] = [];
        for (let i = 0; i < 5; i++) {
          srv.clock.set(srv.clock.now() + 1000);
          codes.push((await postSignal(limited.base, u.secret, sig({ ticker: 'BTCUSDT', action: 'buy', quantity: 1, price: 100 + i }))).status);
        }
        expect(codes).toEqual([200, 200, 200, 429, 429]);
        const other = await userWithRecorder(store, 'quiet');
        expect((await postSignal(limited.base, other.secret, sig({ ticker: 'BTCUSDT', action: 'buy', price: 1 }))).status).toBe(200);
      } finally {
        await limited.stop();
      }
    });
  });
}
