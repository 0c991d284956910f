// Tenancy by construction: two users A and B on one real server (SQLite and PostgreSQL). Every route of
// the OpenAPI document is called as B naming A's things; nothing answers 5xx, nothing of A's changes, no
// answer to B shows A's data, and B's prices never move A's marks. The routes come from the document at
// run time, so a route added later is swept without editing this file; a path parameter this file has no
// id for fails the test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/core/ports.ts';
import { SimVenue } from '../src/exchange/sim/index.ts';
import { venueSymbol } from '../src/exchange/symbols.ts';
import { signWebhook } from '../src/notify/standard-webhooks.ts';
import { fixtureResult } from '../src/report/test-fixture.ts';
import { writeRun } from '../src/report/write.ts';
import type { Store } from '../src/store/db.ts';
import { createEngineSource } from '../src/store/engine-sources.ts';
import { DIALECTS } from './db.ts';
import { enginePosition } from './engine-fixtures.ts';
import { NOW, api, postSignal, startServer, userWithRecorder, type Running } from './server-helpers.ts';
import { bodiesFor, call, documentedRoutes, ownedRows, sse, type Route } from './tenancy-helpers.ts';

const TARGET = 'sim:paper';
/** The ticker both users trade (A at 50, B far away at 1). */
const SHARED = 'XUSDT';
/** A's own ticker, marked at a price nothing else uses (a marker: it must never reach B). */
const A_ONLY = 'ZAQUSDT';
const A_ONLY_PRICE = 4321.987;

/** One user's world: a recorder with signal positions, a dashboard order, an engine source with a position, an orphan, an account, a backtest run. */
interface World {
  readonly name: string;
  readonly userId: number;
  readonly token: string;
  readonly recorderId: number;
  readonly secret: string;
  readonly source: { readonly id: string; readonly secret: string };
  /** Path parameter (`segment/{param}`) → this user's id, and whether the id is the user's own (another user gets 404). */
  readonly ids: Record<string, { readonly value: string | number; readonly owned: boolean }>;
  readonly positionIds: readonly string[];
  readonly strategy: string;
  readonly runId: string;
}

for (const d of DIALECTS) {
  describe(`tenancy (${d.name})`, () => {
    let loc: Awaited<ReturnType<typeof d.fresh>>;
    let store: Store;
    let srv: Running;
    let out: string;
    let a: World;
    let b: World;
    let routes: Route[];
    let hook = 0;

    const quiet = async (): Promise<void> => {
      await srv.jobs.drain();
      await srv.dispatcher.drain();
    };
    const as = (w: World, init: RequestInit = {}): RequestInit => ({ ...init, headers: { authorization: `Bearer ${w.token}`, ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers } });
    /** A signed position_opened event of an engine source (its `secret`). */
    const engineEvent = (secret: string, positionId: string, strategy: string, symbol: string) => {
      const raw = JSON.stringify({ event_type: 'position_opened', position_id: positionId, target: TARGET, symbol, timestamp: new Date(NOW).toISOString(), strategy, data: enginePosition(NOW, { id: positionId, symbol, entry_price: 20 }) });
      return { raw, headers: { ...signWebhook(secret, `msg_${++hook}`, srv.clock.now(), raw), 'content-type': 'application/json' } };
    };

    /** Builds a user's world through the API (and the store where the API has no door: users, the engine source's secret, a backtest run). */
    const world = async (tag: string, own: string, ownPrice: number): Promise<World> => {
      const name = `tenant-${tag}`;
      const u = await userWithRecorder(store, name, { targets: [{ key: TARGET, multiplier: 1 }] });
      await store.db.updateTable('recorders').set({ name: `${name}-recorder-5e1f` }).where('id', '=', u.recorder.id).execute();
      const sim = (await srv.venues.get(u.user.id, TARGET)) as SimVenue;
      for (const [t, p] of [[SHARED, 50], [own, ownPrice], ['ORPHUSDT', 10]] as const) await sim.setPrice(venueSymbol(t, 'sim'), p);
      expect((await postSignal(srv.base, u.secret, JSON.stringify({ ticker: SHARED, action: 'buy', quantity: 1, price: 50 }))).status).toBe(200);
      expect((await postSignal(srv.base, u.secret, JSON.stringify({ ticker: own, action: 'buy', quantity: 2, price: ownPrice }))).status).toBe(200);
      const order = await api<{ id: number }>(srv.base, u.token, '/api/orders', { method: 'POST', body: JSON.stringify({ target: TARGET, symbol: own, side: 'buy', qty: 0.5 }) });
      expect(order.status).toBe(201);
      const src = await createEngineSource(store.db, undefined, { userId: u.user.id, name: `${name} engine`, targetKey: TARGET }, NOW);
      const ev = engineEvent(src.secret, `${tag}p1`, `${name}-strat`, own);
      expect((await fetch(`${srv.base}/hooks/engine?source=${src.id}`, { method: 'POST', body: ev.raw, headers: ev.headers })).status).toBe(202);
      await quiet();
      // An orphan: what the venue holds and no ledger position explains.
      await sim.createOrder({ clientId: `orphan-${tag}`, symbol: venueSymbol('ORPHUSDT', 'sim'), side: 'buy', type: 'market', qty: 1 });
      expect((await api(srv.base, u.token, '/api/snapshots', { method: 'POST', body: JSON.stringify({ target: TARGET }) })).status).toBe(201);
      const issue = (await api<{ id: number }[]>(srv.base, u.token, '/api/reconciliation')).json[0];
      const account = await api<{ id: number }>(srv.base, u.token, '/api/accounts', { method: 'POST', body: JSON.stringify({ target: 'bybit:paper', label: `${name} keys`, api_key: 'k', api_secret: 's' }) });
      expect(account.status).toBe(201);
      const strategy = (await api<{ id: number; name: string }[]>(srv.base, u.token, '/api/strategies')).json.find((s) => s.name === `${name}-strat`);
      expect(strategy && issue).toBeTruthy();
      const token = await store.db.selectFrom('api_tokens').select('id').where('user_id', '=', u.user.id).orderBy('id').executeTakeFirstOrThrow();
      const runId = `${name}-run-31d`;
      await writeRun(fixtureResult(400), join(out, runId), { owner: name });
      await quiet();
      const positionIds = (await store.db.selectFrom('positions').select('id').where('user_id', '=', u.user.id).orderBy('id').execute()).map((p) => p.id);
      return {
        name,
        userId: u.user.id,
        token: u.token,
        recorderId: u.recorder.id,
        secret: u.secret,
        source: { id: src.id, secret: src.secret },
        positionIds,
        strategy: `${name}-strat`,
        runId,
        ids: {
          'recorders/{id}': { value: u.recorder.id, owned: true },
          'accounts/{id}': { value: account.json.id, owned: true },
          'orders/{id}': { value: order.json.id, owned: true },
          'engine-sources/{id}': { value: src.id, owned: true },
          'strategies/{id}': { value: strategy!.id, owned: true },
          'reconciliation/{id}': { value: issue!.id, owned: true },
          'backtests/{id}': { value: runId, owned: true },
          'tokens/{id}': { value: token.id, owned: true },
          // Target keys are one namespace for everyone: B naming A's target reaches B's own.
          'targets/{key}': { value: TARGET, owned: false },
        },
      };
    };

    beforeAll(async () => {
      loc = await d.fresh();
      store = await loc.open();
      out = mkdtempSync(join(tmpdir(), 'halyard-tenancy-'));
      srv = await startServer(store, {}, new ManualClock(NOW), { outputDir: out, live: { tickMs: 20, heartbeatMs: 60_000 }, settleEveryMs: 3_600_000 });
      a = await world('a', A_ONLY, A_ONLY_PRICE);
      b = await world('b', 'QBQUSDT', 777.125);
      routes = await documentedRoutes(srv.base);
    });
    afterAll(async () => {
      await srv?.stop();
      await store?.close();
      await loc?.drop();
      rmSync(out, { recursive: true, force: true });
    });

    /** A path with every parameter filled from `w`'s ids; a parameter with no id fails the test. */
    const fill = (r: Route, w: World): string => {
      let p = r.path;
      for (const x of r.pathParams) {
        const id = w.ids[x.key];
        if (!id) throw new Error(`add an id for path parameter ${x.name} (${x.key} in ${r.method} ${r.path}) to World.ids in test/tenancy.test.ts`);
        p = p.replace(`{${x.name}}`, encodeURIComponent(String(id.value)));
      }
      return p;
    };
    /** Query values naming `w`'s things; a required query parameter missing here fails the test. */
    const queryOf = (r: Route, w: World, all: boolean): string => {
      const known: Record<string, string | number> = { recorder_id: w.recorderId, position_id: w.positionIds[0] ?? '', source_id: w.source.id, target: TARGET, exchange: 'sim', symbol: A_ONLY, ticker: A_ONLY, strategy: w.strategy };
      const q = new URLSearchParams();
      for (const x of r.query) {
        if (!(x.name in known)) {
          if (x.required) throw new Error(`add a value for query parameter ${x.name} of ${r.method} ${r.path} in test/tenancy.test.ts`);
          continue;
        }
        if (all || x.required) q.set(x.name, String(known[x.name]));
      }
      const s = q.toString();
      return s ? `?${s}` : '';
    };
    /** Every answer A's GET routes give A now (times do not tick: the server's clock is held). */
    const answersOfA = async (): Promise<Record<string, string>> => {
      const got: Record<string, string> = {};
      for (const r of routes) {
        if (r.method !== 'GET' || r.path.startsWith('/hooks/')) continue;
        for (const q of [false, true]) {
          const url = `${fill(r, a)}${queryOf(r, a, q)}`;
          const res = await call(`${srv.base}${url}`, as(a));
          got[url] = `${res.status} ${res.text}`;
        }
      }
      return got;
    };

    it('move: B’s signal at a far price moves B’s marks, positions and stream, never A’s', async () => {
      const positionsOf = async (w: World) => (await api<{ symbol: string; source: string; mark_price: number; pnl: number }[]>(srv.base, w.token, `/api/positions?symbol=${SHARED}`)).json.filter((p) => p.source === 'signal');
      const marksOf = async (w: World) => (await api<Record<string, { price: number }>>(srv.base, w.token, '/api/marks')).json;
      const stream = async (w: World) => {
        const ctl = new AbortController();
        const s = await sse(await fetch(`${srv.base}/api/stream`, { ...as(w), signal: ctl.signal }), ctl);
        await s.until((e) => e.event === 'marks');
        return s;
      };
      const sa = await stream(a);
      const sb = await stream(b);
      const beforeA = await answersOfA();
      expect((await positionsOf(a)).map((p) => [p.mark_price, p.pnl])).toEqual([[50, 0]]);
      const marksBefore = await marksOf(a);
      expect(marksBefore[SHARED]?.price).toBe(50);

      expect((await postSignal(srv.base, b.secret, JSON.stringify({ ticker: SHARED, action: 'buy', quantity: 1, price: 1 }))).status).toBe(200);
      await quiet();
      // B's stream says so; then a mark of A's own, so every event the hub sent A before it has arrived.
      await sb.until((e) => e.event === 'marks' && (e.data[SHARED] as { price: number } | undefined)?.price === 1);
      srv.marks.set(a.userId, 'PINGUSDT', 8642.1357, NOW);
      await sa.until((e) => e.event === 'marks' && 'PINGUSDT' in e.data);
      const aMarks = sa.events.filter((e) => e.event === 'marks');
      expect(aMarks.filter((e) => (e.data[SHARED] as { price: number } | undefined)?.price !== 50)).toEqual([]);
      expect(sb.events.filter((e) => e.event === 'marks' && ('PINGUSDT' in e.data || A_ONLY in e.data))).toEqual([]);
      await sa.close();
      await sb.close();

      expect((await positionsOf(a)).map((p) => [p.mark_price, p.pnl])).toEqual([[50, 0]]);
      expect((await marksOf(a))[SHARED]?.price).toBe(50);
      const afterA = await answersOfA();
      // A's marks are A's own: the same but for the mark set above; every other answer of A's is the same.
      expect(await marksOf(a)).toEqual({ ...marksBefore, PINGUSDT: { price: 8642.1357, ts: NOW } });
      for (const k of ['/api/marks', '/api/stream']) {
        delete afterA[k];
        delete beforeA[k];
      }
      expect(afterA).toEqual(beforeA);
      // B's own view moved: B's position of the ticker is marked at B's price.
      expect((await positionsOf(b)).map((p) => p.mark_price)).toEqual([1]);
      expect((await marksOf(b))[SHARED]?.price).toBe(1);
    });

    it('every documented route called as B naming A’s things: no 5xx, 404 for A’s ids, nothing of A’s changes or shows', async () => {
      // A's unique things, and the server's own output folder (no answer names a server path).
      const markers = [a.name, `${a.name}-recorder-5e1f`, a.runId, a.secret, a.source.secret, a.strategy, String(A_ONLY_PRICE), '8642.1357', ...a.positionIds, out];
      const before = await answersOfA();
      const owned = await ownedRows(store.db, a.userId);
      const problems: string[] = [];
      let calls = 0;
      const check = async (what: string, sent: string, status: number, text: string, mayChange: boolean, want404: boolean) => {
        calls++;
        if (status >= 500) problems.push(`${what}: ${status} ${text.slice(0, 200)}`);
        if (want404 && status !== 404) problems.push(`${what}: ${status} (another user's id must answer 404) ${text.slice(0, 200)}`);
        for (const m of markers) if (text.includes(m) && !sent.includes(m)) problems.push(`${what}: the answer shows A's ${JSON.stringify(m)}`);
        if (mayChange) {
          await quiet();
          const now = await ownedRows(store.db, a.userId);
          if (JSON.stringify(now) !== JSON.stringify(owned)) problems.push(`${what}: ${status} changed A's rows: ${now.filter((x) => !owned.includes(x)).join(' | ').slice(0, 400)}`);
        }
      };
      const values = { target: TARGET, symbol: A_ONLY, ticker: A_ONLY, qty: 0.001, side: 'buy', name: 'made-by-b', reconcile_policy: 'record', account_type: 'paper', api_key: 'k', api_secret: 's', recorder_id: a.recorderId, source_id: a.source.id };
      const lists = { position_id: a.positionIds };

      for (const r of routes) {
        if (r.path === '/hooks/signals/{secret}') {
          // B's own webhook, naming A's ticker (at a price of B's): it may move only B's things.
          const body = JSON.stringify({ ticker: A_ONLY, action: 'buy', quantity: 1, price: 1 });
          const res = await call(`${srv.base}/hooks/signals/${b.secret}`, { method: r.method, body, headers: { 'content-type': 'application/json' } });
          await check(`${r.method} ${r.path} (B's secret)`, body, res.status, res.text, true, false);
          continue;
        }
        if (r.path === '/hooks/engine') {
          // B's secret under A's source id, then B's own source naming A's engine position id.
          for (const [sourceId, positionId] of [[a.source.id, 'ap1'], [b.source.id, 'ap1']] as const) {
            const ev = engineEvent(b.source.secret, positionId, 'made-by-b', A_ONLY);
            const res = await call(`${srv.base}/hooks/engine?source=${sourceId}`, { method: r.method, body: ev.raw, headers: ev.headers });
            await check(`${r.method} ${r.path}?source=${sourceId === a.source.id ? "A's" : "B's"}`, ev.raw, res.status, res.text, true, false);
            if (sourceId === a.source.id) expect(res.status).toBe(401);
          }
          continue;
        }
        if (r.path.startsWith('/hooks/')) throw new Error(`add a way to call the webhook ${r.method} ${r.path} as B naming A's things in test/tenancy.test.ts`);
        const ownedParam = r.pathParams.some((x) => a.ids[x.key]?.owned);
        const bodies = r.body ? bodiesFor(r.body, values, lists) : [null];
        for (const q of r.method === 'GET' ? [false, true] : [true]) {
          for (const body of bodies) {
            const url = `${fill(r, a)}${queryOf(r, a, q)}`;
            const init = as(b, { method: r.method, ...(body ? { body: JSON.stringify(body) } : {}) });
            const res = await call(`${srv.base}${url}`, init);
            await check(`${r.method} ${url}${body ? ` ${JSON.stringify(body)}` : ''}`, `${url} ${JSON.stringify(body)}`, res.status, res.text, r.method !== 'GET', ownedParam);
          }
        }
      }
      expect(problems).toEqual([]);
      expect(calls).toBeGreaterThan(routes.length);
      expect(await ownedRows(store.db, a.userId)).toEqual(owned);
      expect(await answersOfA()).toEqual(before);
    });
  });
}
