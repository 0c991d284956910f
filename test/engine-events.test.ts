// Engine events end to end: signed webhooks into the real server on loopback, the durable job queue, the
// ledger, strategies and the audit log, on SQLite and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnginePositionData } from '../src/core/engine-event.ts';
import { ManualClock } from '../src/core/ports.ts';
import { signWebhook } from '../src/notify/standard-webhooks.ts';
import type { Store } from '../src/store/db.ts';
import { createEngineSource } from '../src/store/engine-sources.ts';
import { jobsOfKind } from '../src/store/jobs.ts';
import { SecretBox } from '../src/store/secrets.ts';
import { createUser } from '../src/store/users.ts';
import { EngineIntake, ENGINE_EVENT_JOB } from '../src/tracker/engine-intake.ts';
import { enqueue, JobWorker } from '../src/tracker/jobs.ts';
import type { RefreshTrigger } from '../src/tracker/refresh-port.ts';
import { runHalyard } from './cli-run.ts';
import { DIALECTS } from './db.ts';
import { NOW, api, startServer, type Running } from './server-helpers.ts';
import { enginePosition } from './engine-fixtures.ts';

interface Pos {
  id: string;
  symbol: string;
  side: string;
  size: number;
  entry_price: number;
  realized_pnl: number;
  target: string;
  strategy: string | null;
  source: string;
  opened_by: string;
  recorder_id: number | null;
  status: string;
  sl_price: number | null;
  closed_at: number | null;
}
interface Ev {
  id: number;
  webhook_id: string;
  event_type: string;
  status: string;
  error: string | null;
}
interface Audit {
  action: string;
  source: string;
  detail: { before: { qty: number; entry_price: number } | null; after: { qty: number; entry_price: number; status: string } };
}

const data = (o: Partial<EnginePositionData> = {}): EnginePositionData => enginePosition(NOW, o);

type EventType = 'position_opened' | 'position_updated' | 'position_closed';
const event = (type: EventType, d: EnginePositionData, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  event_type: type,
  position_id: d.id,
  target: 'bybit:paper',
  symbol: d.symbol,
  timestamp: new Date(NOW).toISOString(),
  strategy: 'trend',
  data: d,
  ...extra,
});

for (const d of DIALECTS) {
  describe(`engine events (${d.name})`, () => {
    let loc: Awaited<ReturnType<typeof d.fresh>>;
    let store: Store;
    let srv: Running;
    const refreshed: [number, string, RefreshTrigger][] = [];
    let failRefresh = false;
    let hook = 0;

    beforeAll(async () => {
      loc = await d.fresh();
      store = await loc.open();
      const refresher = {
        refresh: async (userId: number, targetKey: string, trigger: RefreshTrigger): Promise<void> => {
          refreshed.push([userId, targetKey, trigger]);
          if (failRefresh) throw new Error('exchange down');
        },
      };
      srv = await startServer(store, {}, new ManualClock(NOW), { refresher });
    });
    afterAll(async () => {
      await srv?.stop();
      await store?.close();
      await loc?.drop();
    });

    /** A user with a token and an engine source (default target bybit:paper). */
    const setup = async (name: string) => {
      const { user, token } = await createUser(store.db, name, 'both', NOW);
      const src = await createEngineSource(store.db, undefined, { userId: user.id, name: 'engine', targetKey: 'bybit:paper' }, NOW);
      return { user, token, src };
    };
    /** Posts a body signed with `secret` (at `atMs`, default the server's now) under webhook-id `id`. */
    const post = async (sourceId: string, secret: string, body: Record<string, unknown> | string, o: { id?: string; atMs?: number; rawOverride?: string } = {}) => {
      const raw = typeof body === 'string' ? body : JSON.stringify(body);
      const headers = signWebhook(secret, o.id ?? `msg_${++hook}`, o.atMs ?? srv.clock.now(), raw);
      const res = await fetch(`${srv.base}/hooks/engine?source=${sourceId}`, { method: 'POST', body: o.rawOverride ?? raw, headers: { ...headers, 'content-type': 'application/json' } });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };
    /** Posts and waits until the job queue has worked it. */
    const deliver = async (sourceId: string, secret: string, body: Record<string, unknown>, id?: string) => {
      const r = await post(sourceId, secret, body, id ? { id } : {});
      expect(r.status).toBe(202);
      await srv.jobs.drain();
      return r.json.event_id as number;
    };
    const positions = async (token: string, q = '?status=all') => (await api<Pos[]>(srv.base, token, `/api/positions${q}`)).json;
    const events = async (token: string) => (await api<{ items: Ev[] }>(srv.base, token, '/api/engine-events')).json.items;

    it('takes a signed event (202), lists its position as an engine position with its strategy, and asks for a snapshot', async () => {
      const { user, token, src } = await setup('ev-basic');
      refreshed.length = 0;
      const r = await post(src.id, src.secret, event('position_opened', data({ stop_loss: 90 }), { target: undefined, exchange: 'bybit', account_type: 'demo' }));
      expect(r.status).toBe(202);
      expect(r.json).toMatchObject({ status: 'queued' });
      await srv.jobs.drain();
      const list = await positions(token, '?exchange=bybit&env=paper');
      expect(list).toHaveLength(1);
      expect(list[0]).toMatchObject({ id: `e${user.id}-${src.id}-p1`, symbol: 'BTCUSDT', side: 'long', size: 1, entry_price: 100, sl_price: 90, target: 'bybit:paper', source: 'engine', opened_by: 'engine', strategy: 'trend', recorder_id: null, status: 'open' });
      expect(refreshed).toEqual([[user.id, 'bybit:paper', 'event']]);
      const evs = await events(token);
      expect(evs.map((e) => [e.event_type, e.status])).toEqual([['position_opened', 'processed']]);
      const sources = (await api<{ id: string; last_event_at: number | null; secret?: string }[]>(srv.base, token, '/api/engine-sources')).json;
      expect(sources).toEqual([expect.objectContaining({ id: src.id, last_event_at: NOW })]);
      expect(sources[0]?.secret).toBeUndefined();

      // A failing snapshot is logged; the event stays processed (the monitor's schedule is the fallback).
      failRefresh = true;
      await deliver(src.id, src.secret, event('position_updated', data({ qty: 2, max_qty: 2, entry_price: 105 }), { sequence: 2 }));
      failRefresh = false;
      expect((await events(token))[0]?.status).toBe('processed');
      expect((await positions(token))[0]?.size).toBe(2);
    });

    it('refuses bad signatures, stale and future timestamps and malformed events, storing nothing', async () => {
      const { token, src } = await setup('ev-refuse');
      const body = event('position_opened', data());
      const other = (await setup('ev-refuse-other')).src;
      const bad = await post(src.id, other.secret, body);
      expect(bad.status).toBe(401);
      expect(bad.json).toMatchObject({ reason: 'bad_signature', error: { code: 'unauthorized' } });
      const tampered = await post(src.id, src.secret, body, { rawOverride: JSON.stringify({ ...body, symbol: 'ETHUSDT' }) });
      expect(tampered.json.reason).toBe('bad_signature');
      const stale = await post(src.id, src.secret, body, { atMs: NOW - 6 * 60_000 });
      expect([stale.status, stale.json.reason]).toEqual([401, 'stale']);
      const future = await post(src.id, src.secret, body, { atMs: NOW + 6 * 60_000 });
      expect([future.status, future.json.reason]).toEqual([401, 'stale']);
      const bare = await fetch(`${srv.base}/hooks/engine?source=${src.id}`, { method: 'POST', body: JSON.stringify(body) });
      expect([bare.status, ((await bare.json()) as { reason: string }).reason]).toEqual([401, 'missing_headers']);
      const unknown = await post('es_nope', src.secret, body);
      expect(unknown.status).toBe(404);
      const malformed = await post(src.id, src.secret, event('position_opened', { ...data(), qty: 'one' } as unknown as EnginePositionData));
      expect(malformed.status).toBe(400);
      expect((malformed.json.error as { message: string }).message).toMatch(/data\.qty/);
      const notJson = await post(src.id, src.secret, '{"event_type":');
      expect(notJson.status).toBe(400);
      const noTarget = await post(src.id, src.secret, { ...event('position_opened', data()), target: 'kraken:paper' });
      expect(noTarget.status).toBe(400);

      expect(await events(token)).toEqual([]);
      const stored = await store.db.selectFrom('engine_events').select('id').where('source_id', '=', src.id).execute();
      expect(stored).toEqual([]);
      expect(await positions(token)).toEqual([]);
      // Inside the tolerance (4 minutes old) is accepted.
      expect((await post(src.id, src.secret, body, { atMs: NOW - 4 * 60_000 })).status).toBe(202);
    });

    it('answers a repeated webhook-id with 200 duplicate and applies it once', async () => {
      const { token, src } = await setup('ev-dup');
      const body = event('position_opened', data());
      const first = await deliver(src.id, src.secret, body, 'msg_dup');
      srv.clock.set(NOW + 30_000);
      const again = await post(src.id, src.secret, body, { id: 'msg_dup' });
      srv.clock.set(NOW);
      expect(again.status).toBe(200);
      expect(again.json).toMatchObject({ duplicate: true, event_id: first, event_status: 'processed' });
      await srv.jobs.drain();
      expect(await events(token)).toHaveLength(1);
      const [p] = await positions(token);
      const audit = (await api<Audit[]>(srv.base, token, `/api/audit?position_id=${p?.id}`)).json;
      expect(audit.map((a) => a.action)).toEqual(['opened']);
    });

    it('opened → updated (DCA) → closed gives the position, one trade and an audit trail', async () => {
      const { token, src } = await setup('ev-life');
      await deliver(src.id, src.secret, event('position_opened', data(), { sequence: 1 }));
      await deliver(src.id, src.secret, event('position_updated', data({ qty: 2, max_qty: 2, entry_price: 105, stop_loss: 95 }), { sequence: 2 }));
      const closed = data({ status: 'closed', qty: 0, max_qty: 2, entry_price: 105, realized_pnl: 30, fees: 2, exit_price: 120, closed_at: NOW + 60_000, exit_reason: 'take_profit' });
      await deliver(src.id, src.secret, event('position_closed', closed, { sequence: 3 }));
      // The engine re-sends the close under a new id (its outbox lost our answer): a close is final.
      await deliver(src.id, src.secret, event('position_closed', closed, { sequence: 3 }));
      const [p] = await positions(token);
      expect(p).toMatchObject({ status: 'closed', size: 0, entry_price: 105, realized_pnl: 30, closed_at: NOW + 60_000 });
      const row = await store.db.selectFrom('positions').selectAll().where('id', '=', p?.id ?? '').executeTakeFirstOrThrow();
      expect(row).toMatchObject({ max_qty: 2, exited_qty: 2, avg_exit_price: 120, close_reason: 'take_profit', external_id: 'p1', engine_source_id: src.id });
      const trades = (await api<Record<string, unknown>[]>(srv.base, token, '/api/trades')).json;
      expect(trades).toHaveLength(1);
      expect(trades[0]).toMatchObject({ position_id: p?.id, source: 'engine', strategy: 'trend', qty: 2, entry_price: 105, exit_price: 120, realized_pnl: 30, fees: 2, target: 'bybit:paper' });
      const audit = (await api<Audit[]>(srv.base, token, `/api/audit?position_id=${p?.id}`)).json;
      expect(audit.map((a) => [a.action, a.source, a.detail.before?.qty ?? null, a.detail.after.qty, a.detail.after.entry_price])).toEqual([
        ['opened', 'engine', null, 1, 100],
        ['updated', 'engine', 1, 2, 105],
        ['closed', 'engine', 2, 0, 105],
      ]);
      expect((await events(token)).map((e) => e.status)).toEqual(['ignored', 'processed', 'processed', 'processed']);
      const stranger = await setup('ev-life-stranger');
      expect((await api(srv.base, stranger.token, `/api/audit?position_id=${p?.id}`)).status).toBe(404);
    });

    it('keeps the newest state when events arrive out of order (by sequence, else by time)', async () => {
      const { token, src } = await setup('ev-order');
      const closed = data({ status: 'closed', qty: 0, max_qty: 2, entry_price: 105, realized_pnl: 10, exit_price: 110, closed_at: NOW + 2_000, exit_reason: 'signal' });
      await deliver(src.id, src.secret, event('position_closed', closed, { sequence: 3 }));
      await deliver(src.id, src.secret, event('position_updated', data({ qty: 2, max_qty: 2, entry_price: 105 }), { sequence: 2 }));
      await deliver(src.id, src.secret, event('position_opened', data(), { sequence: 1 }));
      // Without sequences, the event time decides.
      const q = data({ id: 'q1', symbol: 'ETHUSDT', qty: 3, max_qty: 3, entry_price: 2000 });
      await deliver(src.id, src.secret, event('position_updated', q, { timestamp: new Date(NOW + 5_000).toISOString() }));
      await deliver(src.id, src.secret, event('position_opened', { ...q, qty: 1, max_qty: 1 }, { timestamp: (NOW + 1_000) / 1000 }));
      const list = await positions(token);
      expect(list.map((p) => [p.symbol, p.status, p.size])).toEqual([
        ['BTCUSDT', 'closed', 0],
        ['ETHUSDT', 'open', 3],
      ]);
      expect((await events(token)).map((e) => [e.event_type, e.status])).toEqual([
        ['position_opened', 'ignored'],
        ['position_updated', 'processed'],
        ['position_opened', 'ignored'],
        ['position_updated', 'ignored'],
        ['position_closed', 'processed'],
      ]);
      expect((await api<unknown[]>(srv.base, token, '/api/trades')).json).toHaveLength(1);
    });

    it('creates strategies from event names and computes their analytics', async () => {
      const { token, src } = await setup('ev-strat');
      const t = (id: string, realized: number, fees: number, funding: number, closedAt: number) =>
        data({ id, status: 'closed', qty: 0, realized_pnl: realized, fees, funding, exit_price: 100 + realized, closed_at: closedAt, exit_reason: 'signal' });
      // Net: 33 − 2 − 1 = +30, then −8 − 2 + 0 = −10: trades 2, win rate 0.5, PnL 20, max drawdown 10.
      await deliver(src.id, src.secret, event('position_closed', t('a1', 33, 2, -1, NOW + 1_000), { strategy: 'alpha' }));
      await deliver(src.id, src.secret, event('position_closed', t('a2', -8, 2, 0, NOW + 2_000), { strategy: 'alpha' }));
      await deliver(src.id, src.secret, event('position_opened', data({ id: 'a3' }), { strategy: 'alpha' }));
      await deliver(src.id, src.secret, event('position_opened', data({ id: 'b1' }), { strategy: 'beta' }));
      await deliver(src.id, src.secret, event('position_opened', data({ id: 'n1' }), { strategy: null }));
      const stats = (await api<Record<string, unknown>[]>(srv.base, token, '/api/strategies')).json;
      expect(stats.map(({ id: _i, created_at: _c, ...s }) => s)).toEqual([
        { name: 'alpha', trades: 2, wins: 1, win_rate: 0.5, pnl: 20, max_drawdown: 10, open_positions: 1 },
        { name: 'beta', trades: 0, wins: 0, win_rate: null, pnl: 0, max_drawdown: 0, open_positions: 1 },
      ]);
      const alpha = stats[0]?.id as number;
      const ps = (await api<{ id: string; status: string }[]>(srv.base, token, `/api/strategies/${alpha}/positions`)).json;
      expect(ps.map((p) => p.id.split('-').pop()).sort()).toEqual(['a1', 'a2', 'a3']);
      const unassigned = (await positions(token)).find((p) => p.id.endsWith('-n1'));
      expect(unassigned?.strategy).toBeNull();
      const stranger = await setup('ev-strat-stranger');
      expect((await api(srv.base, stranger.token, `/api/strategies/${alpha}/positions`)).status).toBe(404);
      expect((await api(srv.base, stranger.token, '/api/strategies')).json).toEqual([]);
    });

    it('retries a failing job with backoff and marks it failed with the last error', async () => {
      const clock = new ManualClock(NOW);
      const worker = new JobWorker(store.db, clock, { maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 10_000, idleCheckMs: 1_000, rng: () => 0.5 });
      let runs = 0;
      worker.register('test_fail', async () => {
        runs += 1;
        throw new Error(`boom ${runs}`);
      });
      await enqueue(store.db, 'test_fail', { n: 1 }, NOW);
      await worker.drain();
      let [job] = await jobsOfKind(store.db, 'test_fail');
      expect(job).toMatchObject({ status: 'queued', attempts: 1, run_at: NOW + 500, last_error: 'boom 1' });
      await worker.drain();
      expect(runs).toBe(1); // not due yet
      clock.set(NOW + 500);
      await worker.drain();
      [job] = await jobsOfKind(store.db, 'test_fail');
      expect(job).toMatchObject({ status: 'queued', attempts: 2, run_at: NOW + 1_500 });
      clock.set(NOW + 1_500);
      await worker.drain();
      [job] = await jobsOfKind(store.db, 'test_fail');
      expect(job).toMatchObject({ status: 'failed', attempts: 3, last_error: 'boom 3' });
    });

    it('lists engine sources and prints the webhook URL from the CLI', async () => {
      await createUser(store.db, 'ev-cli', 'both', NOW);
      const env = { ...(loc.url ? { DATABASE_URL: loc.url } : { DATABASE_PATH: loc.path ?? '' }), ENCRYPTION_KEY: 'k'.repeat(40) };
      const add = await runHalyard(['engines', 'add', 'ev-cli', '--name', 'jesse', '--target', 'bybit:demo', '--poll-url', 'http://127.0.0.1:9/', '--poll-token', 'poll-token-123', '--json'], env);
      expect(add.stderr).toBe('');
      const v = JSON.parse(add.stdout) as { id: string; secret: string; webhook_url: string; target: string; poll_url: string; has_poll_token: boolean };
      expect(v.id).toMatch(/^es_[A-Za-z0-9_-]{16}$/);
      expect(v.secret).toMatch(/^whsec_/);
      expect(v).toMatchObject({ webhook_url: `http://127.0.0.1:8080/hooks/engine?source=${v.id}`, target: 'bybit:paper', poll_url: 'http://127.0.0.1:9', has_poll_token: true });
      const row = await store.db.selectFrom('engine_sources').selectAll().where('id', '=', v.id).executeTakeFirstOrThrow();
      expect(row.poll_token_enc).not.toContain('poll-token-123');
      expect(new SecretBox('k'.repeat(40)).decrypt(row.poll_token_enc ?? '')).toBe('poll-token-123');
      const list = await runHalyard(['engines', 'list', 'ev-cli'], env);
      expect(list.stdout).toMatch(new RegExp(`^${v.id}\\tjesse\\tbybit:paper\\thttp://127\\.0\\.0\\.1:8080/hooks/engine\\?source=${v.id}\\tlast event never\\n$`));
      expect(list.stdout).not.toContain(v.secret);
      const dup = await runHalyard(['engines', 'add', 'ev-cli', '--name', 'jesse'], env);
      expect(dup.stderr).toMatch(/^error \[conflict\]/);
    });
  });

  describe(`the job queue survives a crash (${d.name})`, () => {
    it('re-runs a job a killed worker left running', async () => {
      const loc = await d.fresh();
      try {
        const first = await loc.open();
        const { user, token } = await createUser(first.db, 'crash', 'both', NOW);
        const src = await createEngineSource(first.db, undefined, { userId: user.id, name: 'engine', targetKey: 'bybit:paper' }, NOW);
        const clock = new ManualClock(NOW);
        const raw = JSON.stringify(event('position_opened', data()));
        const got = await new EngineIntake(first.db, clock).receive(src.id, raw, { ...signWebhook(src.secret, 'msg_crash', NOW, raw) });
        expect(got.status).toBe('queued');
        // A worker claims the job and dies inside the handler.
        const doomed = new JobWorker(first.db, clock);
        let entered: () => void = () => {};
        const inHandler = new Promise<void>((r) => (entered = r));
        doomed.register(ENGINE_EVENT_JOB, () => {
          entered();
          return new Promise<void>(() => {});
        });
        void doomed.runOnce();
        await inHandler;
        void doomed.stop();
        expect((await jobsOfKind(first.db, ENGINE_EVENT_JOB)).map((j) => j.status)).toEqual(['running']);
        await first.close();

        const second = await loc.open();
        const srv = await startServer(second, {}, new ManualClock(NOW + 10_000));
        try {
          await srv.jobs.drain();
          expect((await jobsOfKind(second.db, ENGINE_EVENT_JOB)).map((j) => [j.status, j.attempts])).toEqual([['done', 2]]);
          const list = (await api<Pos[]>(srv.base, token, '/api/positions')).json;
          expect(list.map((p) => [p.source, p.size, p.entry_price])).toEqual([['engine', 1, 100]]);
        } finally {
          await srv.stop();
          await second.close();
        }
      } finally {
        await loc.drop();
      }
    });
  });
}
