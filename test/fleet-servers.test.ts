import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../src/store/db.ts';
import { createAccount } from '../src/store/accounts.ts';
import { createEngineSource } from '../src/store/engine-sources.ts';
import { SecretBox } from '../src/store/secrets.ts';
import { allLeases } from '../src/store/leases.ts';
import { createRecorder, type Recorder } from '../src/store/recorders.ts';
import { createUser } from '../src/store/users.ts';
import { rebuildSignalPositions } from '../src/tracker/rebuild.ts';
import { serve, type Serving } from './cli-run.ts';
import { DIALECTS, PG_ADMIN_URL } from './db.ts';
import { startBinanceStub } from './stubs/binance-trade.ts';
import type { TradeStub } from './stubs/trade-shared.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const pgDialect = DIALECTS.find((d) => d.name === 'postgres');

/** Waits until `ok()` holds, polling; fails with `what` after `ms`. */
async function until(what: string, ok: () => Promise<boolean> | boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`still waiting for ${what}`);
    await sleep(100);
  }
}

/** A loopback engine whose positions API answers after `delayMs` (a poll job that takes its time). */
async function slowEngine(): Promise<{ url: string; delayMs: number; requests: number; close(): Promise<void> }> {
  const state = { delayMs: 0, requests: 0 };
  const http: HttpServer = createServer((req, res) => {
    state.requests += 1;
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ run_id: null, target: 'bybit:paper', strategy: 'slow', positions: [] }));
    }, state.delayMs);
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return Object.assign(state, { url, close: () => new Promise<void>((r) => http.close(() => r())) });
}

/** The signal-based projection the rebuild recomputes (what must equal a replay of the signal log). */
async function projection(store: Store) {
  const signalPositions = store.db.selectFrom('positions').select('id').where('source', '=', 'signal');
  return {
    positions: await store.db.selectFrom('positions').selectAll().where('source', '=', 'signal').orderBy('id').execute(),
    entries: await store.db
      .selectFrom('position_entries')
      .select(['position_id', 'kind', 'qty', 'price', 'realized_pnl', 'ts', 'signal_id'])
      .where('position_id', 'in', signalPositions)
      .orderBy('position_id')
      .orderBy('ts')
      .orderBy('signal_id')
      .orderBy('kind')
      .execute(),
    trades: await store.db.selectFrom('trades').select(['position_id', 'qty', 'entry_price', 'exit_price', 'realized_pnl', 'max_adverse', 'opened_at', 'closed_at']).where('source', '=', 'signal').orderBy('position_id').execute(),
    equity: await store.db.selectFrom('equity_points').select(['recorder_id', 'ts', 'realized', 'unrealized']).where('recorder_id', 'is not', null).orderBy('recorder_id').orderBy('ts').orderBy('id').execute(),
  };
}

/** The pid in a holder name `host:pid:random`. */
const pidOf = (holder: string | null): number => Number((holder ?? '').split(':').at(-2));

const ENCRYPTION_KEY = 'fleet-test-key-'.repeat(3);

describe.runIf(pgDialect)('three `halyard serve` on one PostgreSQL', () => {
  let loc: Awaited<ReturnType<NonNullable<typeof pgDialect>['fresh']>>;
  let store: Store;
  let engine: Awaited<ReturnType<typeof slowEngine>>;
  let exchange: TradeStub;
  const servers: Serving[] = [];
  const alive = (): Serving[] => servers.filter((s) => s.child.exitCode === null && s.child.signalCode === null);
  let alice: { token: string; userId: number };
  let bob: { token: string; userId: number };
  const recorders: Recorder[] = [];

  beforeAll(async () => {
    loc = await pgDialect!.fresh();
    engine = await slowEngine();
    exchange = await startBinanceStub({ balance: 1_000_000, apiKey: 'fleet-key' });
    await exchange.setPrice('BTC/USDT:USDT', 100);
    await exchange.setPrice('SOL/USDT:USDT', 100);
    await exchange.setPrice('ETH/USDT:USDT', 3_333);
    // An empty database (an operator's CREATE DATABASE); three servers then start together and migrate it.
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${new URL(loc.url!).pathname.slice(1)}"`);
    await admin.end();
    const env = {
      DATABASE_URL: loc.url!,
      LEASE_TTL_S: '2',
      MONITOR_INTERVAL_S: '1',
      SNAPSHOT_INTERVAL_MIN: '0.05',
      ENGINE_POLL_INTERVAL_S: '1',
      RATE_LIMIT_PER_IP_PER_MIN: '1000000',
      RATE_LIMIT_PER_RECORDER_PER_MIN: '1000000',
      ENCRYPTION_KEY,
      HALYARD_EXCHANGE_URL_BINANCE: exchange.url,
    };
    servers.push(...(await Promise.all([serve(env), serve(env), serve(env)])));
    store = await loc.open();
    const a = await createUser(store.db, 'alice', 'both', Date.now());
    const b = await createUser(store.db, 'bob', 'both', Date.now());
    alice = { token: a.token, userId: a.user.id };
    bob = { token: b.token, userId: b.user.id };
    // The signal load: alice's recorders trade on Binance (the stub) at 0.01 of their size, bob's only track;
    // one more recorder is linked to sim:paper, so the monitor has a target.
    await createAccount(store.db, new SecretBox(ENCRYPTION_KEY), a.user.id, 'binance:paper', 'stub', { apiKey: 'fleet-key', secret: 's' }, Date.now());
    for (let i = 0; i < 6; i++) {
      const mine = i % 2 === 0;
      recorders.push(await createRecorder(store.db, { userId: mine ? a.user.id : b.user.id, name: `stream ${i}`, targets: mine ? [{ key: 'binance:paper', multiplier: 0.01 }] : [] }, Date.now()));
    }
    await createRecorder(store.db, { userId: a.user.id, name: 'on sim' }, Date.now());
    await createEngineSource(store.db, undefined, { userId: a.user.id, name: 'slow engine', targetKey: 'bybit:paper', pollUrl: engine.url }, Date.now());
  }, 180_000);

  afterAll(async () => {
    for (const s of alive()) s.child.kill('SIGTERM');
    await Promise.all(servers.map((s) => s.exited));
    await engine?.close();
    await exchange?.close();
    await store?.close();
    await loc?.drop();
  });

  it('migrates the new database once while the three start together', async () => {
    const names = (await store.db.selectFrom('kysely_migration' as never).select('name' as never).execute()) as { name: string }[];
    expect(names.length).toBeGreaterThanOrEqual(9);
    expect(new Set(names.map((n) => n.name)).size).toBe(names.length);
    for (const s of servers) expect((await fetch(`${s.base}/readyz`)).status).toBe(200);
  });

  it('pushes a signal taken by server A to the user\'s stream on server B, and to no one else\'s', async () => {
    const [a, b] = servers;
    const open = async (token: string) => {
      const ctl = new AbortController();
      const res = await fetch(`${b!.base}/api/stream`, { headers: { authorization: `Bearer ${token}` }, signal: ctl.signal });
      const reader = res.body!.getReader();
      let text = '';
      const pump = (async () => {
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) return;
            text += Buffer.from(value).toString('utf8');
          }
        } catch {
          // aborted
        }
      })();
      return { read: () => text, close: async () => void (ctl.abort(), await pump) };
    };
    const mine = await open(alice.token);
    const theirs = await open(bob.token);
    await until('both streams to open', () => mine.read().includes('event: marks') && theirs.read().includes('event: marks'));
    const res = await fetch(`${a!.base}/hooks/signals/${recorders[0]!.secret}`, { method: 'POST', body: JSON.stringify({ ticker: 'ETHUSDT', action: 'buy', quantity: 1, price: 3_333.25 }) });
    expect(res.status).toBe(200);
    // Marks live in each server's memory: only A's NOTIFY can bring this price to B.
    await until('the mark on B', () => mine.read().includes('3333.25'), 20_000);
    expect((await (await fetch(`${b!.base}/api/marks`, { headers: { authorization: `Bearer ${alice.token}` } })).json()) as object).toMatchObject({ ETHUSDT: { price: 3_333.25 } });
    await sleep(500);
    expect(theirs.read()).not.toContain('3333.25');
    expect((await (await fetch(`${b!.base}/api/marks`, { headers: { authorization: `Bearer ${bob.token}` } })).json()) as object).toEqual({});
    await mine.close();
    await theirs.close();
  });

  it('runs each scheduled loop on one server at a time: one equity point per snapshot slot', async () => {
    const scheduled = async () =>
      (await store.db.selectFrom('snapshots').select('ts').where('user_id', '=', alice.userId).where('target_key', '=', 'sim:paper').where('trigger', '=', 'scheduled').orderBy('ts').execute()).map((r) => Number(r.ts));
    await until('three scheduled snapshots', async () => (await scheduled()).length >= 3, 90_000);
    const ts = await scheduled();
    // Slots are 3 s apart and visits 1 s apart: two servers running the loop would give points within a visit of each other.
    const gaps = ts.slice(1).map((t, i) => t - ts[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1_500);
    const leases = await allLeases(store.db);
    expect(leases.map((l) => l.name)).toEqual(expect.arrayContaining(['engine-poller', 'monitor', 'settle']));
    const pids = new Set(servers.map((s) => s.child.pid));
    for (const l of leases.filter((x) => !x.name.startsWith('target:'))) expect(pids.has(pidOf(l.holder))).toBe(true);
  });

  it('loses no acknowledged signal when a server is killed mid-load, and the positions equal a rebuild from the signal log', async () => {
    // Each recorder's signals go to one server at a time (routing by recorder); a dead server's recorders
    // move to the next live one.
    const route = new Map(recorders.map((r, i) => [r.id, i % 3]));
    const victim = servers[1]!;
    const total = 240;
    const answers = new Map<number, { status: string; signal_id: number }>();
    let sent = 0;
    let killed = false;
    let unacknowledged = 0;
    const post = async (n: number): Promise<void> => {
      const rec = recorders[n % recorders.length]!;
      const body = JSON.stringify({ ticker: n % 3 === 0 ? 'BTCUSDT' : 'SOLUSDT', action: n % 5 < 3 ? 'buy' : 'sell', quantity: 1 + (n % 4), price: 100 + (n % 17), time: String(Date.now()), order_id: `load-${n}` });
      for (let attempt = 0; attempt < 20; attempt++) {
        let idx = route.get(rec.id)!;
        while (servers[idx] !== undefined && !alive().includes(servers[idx]!)) idx = (idx + 1) % 3;
        route.set(rec.id, idx);
        try {
          const res = await fetch(`${servers[idx]!.base}/hooks/signals/${rec.secret}`, { method: 'POST', body });
          const json = (await res.json()) as { status: string; signal_id: number };
          if (res.status >= 500) throw new Error(`HTTP ${res.status}`);
          answers.set(n, json);
          return;
        } catch {
          // Not acknowledged (the server died under it): send the same body again, to a live server.
          unacknowledged += 1;
          await sleep(100);
        }
      }
      throw new Error(`signal ${n} never acknowledged`);
    };
    const workers = Array.from({ length: 12 }, async () => {
      for (let n = sent++; n < total; n = sent++) {
        // An order reaches the exchange but its answer never comes (its sender waits, then looks it up by
        // client id; or it dies waiting, and another server looks it up): sent once all the same.
        if (n === total / 3 - 12) exchange.failNext(1, 'timeout', '/fapi/v1/order');
        if (!killed && n >= total / 3) {
          killed = true;
          victim.child.kill('SIGKILL');
        }
        await post(n);
      }
    });
    await Promise.all(workers);
    await victim.exited;
    expect(answers.size).toBe(total);
    // The kill hit requests in flight (or sent before the death was seen): they were sent again.
    expect(unacknowledged).toBeGreaterThan(0);
    // Every signal once: accepted by one server, at most repeated as a duplicate of it.
    const rows = await store.db.selectFrom('signals').select(['id', 'order_id', 'outcome']).where('order_id', 'like', 'load-%').execute();
    const accepted = rows.filter((r) => r.outcome === 'accepted');
    expect(accepted).toHaveLength(total);
    expect(new Set(accepted.map((r) => r.order_id)).size).toBe(total);
    const ids = new Set(rows.map((r) => r.id));
    for (const [, a] of answers) {
      expect(['accepted', 'duplicate']).toContain(a.status);
      expect(ids.has(a.signal_id)).toBe(true);
    }
    const live = await projection(store);
    expect(live.positions.length).toBeGreaterThan(0);
    const report = await rebuildSignalPositions(store.db);
    expect(report.refused).toEqual([]);
    expect(await projection(store)).toEqual(live);
    // Every order the signals meant reached the exchange once (by client id), the dead server's included.
    await until('every order intent finished', async () => {
      const open = await store.db.selectFrom('order_intents').select('id').where('status', 'in', ['pending', 'sending']).execute();
      return open.length === 0;
    }, 150_000);
    const intents = await store.db.selectFrom('order_intents').select(['client_id', 'status', 'signal_id']).where('target_key', '=', 'binance:paper').execute();
    expect(intents.length).toBeGreaterThanOrEqual(total / 2);
    const posted = exchange.requests.filter((r) => r.method === 'POST' && r.path === '/fapi/v1/order').map((r) => String(r.params.newClientOrderId));
    const perClient = new Map<string, number>();
    for (const c of posted) perClient.set(c, (perClient.get(c) ?? 0) + 1);
    expect([...perClient.values()].every((n) => n === 1)).toBe(true);
    const filled = intents.filter((i) => i.status === 'filled');
    expect(filled.length).toBeGreaterThan(0);
    for (const i of filled) expect(perClient.get(i.client_id)).toBe(1);
    for (const c of perClient.keys()) expect(intents.some((i) => i.client_id === c)).toBe(true);
    // The loops the dead server led are taken over by a live one.
    await until('every loop lease held by a live server', async () => {
      const livePids = new Set(alive().map((s) => s.child.pid));
      const leases = (await allLeases(store.db)).filter((l) => !l.name.startsWith('target:'));
      return leases.length >= 3 && leases.every((l) => livePids.has(pidOf(l.holder)));
    }, 30_000);
  }, 300_000);

  it('takes a job over from a server killed while working it, and works it once more', async () => {
    engine.delayMs = 8_000;
    const running = async () => store.db.selectFrom('jobs').selectAll().where('kind', '=', 'engine_poll').where('status', '=', 'running').executeTakeFirst();
    await until('a poll job running on a server', async () => (await running()) !== undefined, 60_000);
    const job = (await running())!;
    const claimer = alive().find((s) => s.child.pid === pidOf(job.claimed_by));
    expect(claimer).toBeDefined();
    const requestsBefore = engine.requests;
    claimer!.child.kill('SIGKILL');
    await claimer!.exited;
    engine.delayMs = 0;
    await until('the job done by the survivor', async () => {
      const row = await store.db.selectFrom('jobs').selectAll().where('id', '=', job.id).executeTakeFirstOrThrow();
      return row.status === 'done';
    }, 60_000);
    const row = await store.db.selectFrom('jobs').selectAll().where('id', '=', job.id).executeTakeFirstOrThrow();
    expect(row.attempts).toBe(job.attempts + 1);
    expect(engine.requests).toBeGreaterThan(requestsBefore);
    const last = alive();
    expect(last).toHaveLength(1);
    await until('every loop lease held by the last server', async () => {
      const leases = (await allLeases(store.db)).filter((l) => !l.name.startsWith('target:'));
      return leases.length >= 3 && leases.every((l) => pidOf(l.holder) === last[0]!.child.pid);
    }, 30_000);
    // Every poll job was claimed once, but those a killed server held (one per kill at most).
    const polls = await store.db.selectFrom('jobs').select(['id', 'attempts']).where('kind', '=', 'engine_poll').where('status', '=', 'done').execute();
    expect(polls.length).toBeGreaterThan(3);
    expect(polls.filter((p) => p.attempts > 1).length).toBeLessThanOrEqual(2);
  });
});
