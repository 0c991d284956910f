// The polling fallback: a tiny loopback engine serving /positions/active and /positions/history, the real
// server polling it through its job queue, on SQLite and PostgreSQL.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnginePositionData } from '../src/core/engine-event.ts';
import { ManualClock } from '../src/core/ports.ts';
import { signWebhook } from '../src/notify/standard-webhooks.ts';
import type { Store } from '../src/store/db.ts';
import { jobsOfKind } from '../src/store/jobs.ts';
import { createUser } from '../src/store/users.ts';
import { ENGINE_POLL_JOB } from '../src/tracker/engine-poller.ts';
import type { RefreshTrigger } from '../src/tracker/refresh-port.ts';
import { DIALECTS } from './db.ts';
import { NOW, api, startServer, type Running } from './server-helpers.ts';
import { enginePosition } from './engine-fixtures.ts';

/** A fake engine's positions API: what it lists, what it was asked, whether it is up. */
interface EngineStub {
  readonly base: string;
  active: EnginePositionData[];
  history: EnginePositionData[];
  /** Status to answer with instead of the lists (e.g. 503), or null. */
  failWith: number | null;
  readonly seen: { path: string; auth: string | undefined }[];
  close(): Promise<void>;
}

async function engineStub(token: string): Promise<EngineStub> {
  const stub = { active: [], history: [], failWith: null, seen: [] } as unknown as EngineStub & { server: Server };
  const server = createServer((req, res) => {
    stub.seen.push({ path: req.url ?? '', auth: req.headers.authorization });
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${token}`) return send(401, { error: 'unauthorized' });
    if (stub.failWith !== null) return send(stub.failWith, { error: 'down' });
    const path = (req.url ?? '').split('?')[0];
    const positions = path === '/positions/active' ? stub.active : path === '/positions/history' ? stub.history : null;
    if (!positions) return send(404, { error: 'no route' });
    send(200, { run_id: 'run-1', target: 'bybit:paper', strategy: 'trend', positions });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(stub, { base: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) });
}

const pos = (o: Partial<EnginePositionData> = {}): EnginePositionData => enginePosition(NOW - 600_000, o);

interface Pos {
  id: string;
  status: string;
  size: number;
  entry_price: number;
  source: string;
  strategy: string | null;
  target: string;
}

for (const d of DIALECTS) {
  describe(`polling engines when events stop (${d.name})`, () => {
    let loc: Awaited<ReturnType<typeof d.fresh>>;
    let store: Store;
    let srv: Running;
    let engine: EngineStub;
    const refreshed: [number, string, RefreshTrigger][] = [];

    beforeAll(async () => {
      loc = await d.fresh();
      store = await loc.open();
      engine = await engineStub('poll-secret');
      srv = await startServer(store, {}, new ManualClock(NOW), { refresher: { refresh: async (u, t, trigger) => void refreshed.push([u, t, trigger]) }, enginePollIntervalS: 60 });
    });
    afterAll(async () => {
      await srv?.stop();
      await engine?.close();
      await store?.close();
      await loc?.drop();
    });

    it('heals a missed open and a missed close, only for sources whose events stopped', async () => {
      const { user, token } = await createUser(store.db, 'poller', 'both', NOW);
      const created = await api<{ id: string; secret: string; has_poll_token: boolean }>(srv.base, token, '/api/engine-sources', {
        method: 'POST',
        body: JSON.stringify({ name: 'paper runtime', poll_url: `${engine.base}/`, poll_token: 'poll-secret' }),
      });
      expect(created.status).toBe(201);
      const src = created.json;
      expect(src.has_poll_token).toBe(true);
      const listed = JSON.stringify((await api(srv.base, token, '/api/engine-sources')).json);
      expect(listed).not.toContain('poll-secret');
      expect(listed).not.toContain(src.secret);

      // The engine holds p1 open, but its position_opened webhook never arrived.
      engine.active = [pos({ id: 'p1', qty: 2, max_qty: 2, entry_price: 101 })];
      expect(await srv.enginePoller.tick()).toBe(1);
      await srv.jobs.drain();
      let list = (await api<Pos[]>(srv.base, token, '/api/positions?status=all')).json;
      expect(list.map((p) => [p.id, p.status, p.size, p.entry_price, p.source, p.strategy, p.target])).toEqual([[`e${user.id}-${src.id}-p1`, 'open', 2, 101, 'engine', 'trend', 'bybit:paper']]);
      expect(engine.seen.map((s) => [s.path, s.auth])).toEqual([
        ['/positions/active', 'Bearer poll-secret'],
        ['/positions/history?limit=100', 'Bearer poll-secret'],
      ]);
      expect(refreshed).toEqual([[user.id, 'bybit:paper', 'poll']]);
      const evs = (await api<{ items: { webhook_id: string; status: string; event_type: string }[] }>(srv.base, token, '/api/engine-events')).json.items;
      expect(evs.map((e) => [e.webhook_id, e.event_type, e.status])).toEqual([[`poll:${NOW}:p1`, 'position_updated', 'processed']]);

      // p2 arrives by webhook: the source is not quiet, so no poll.
      srv.clock.set(NOW + 10_000);
      const raw = JSON.stringify({ event_type: 'position_opened', position_id: 'p2', target: 'bybit:paper', symbol: 'ETHUSDT', timestamp: new Date(NOW + 10_000).toISOString(), strategy: 'trend', data: pos({ id: 'p2', symbol: 'ETHUSDT', entry_price: 2000 }) });
      const res = await fetch(`${srv.base}/hooks/engine?source=${src.id}`, { method: 'POST', body: raw, headers: { ...signWebhook(src.secret, 'msg_p2', NOW + 10_000, raw) } });
      expect(res.status).toBe(202);
      await srv.jobs.drain();
      srv.clock.set(NOW + 40_000);
      expect(await srv.enginePoller.tick()).toBe(0);

      // Then p2 closes on the engine and that webhook is lost; a minute later the source is quiet and polled.
      engine.history = [pos({ id: 'p2', symbol: 'ETHUSDT', status: 'closed', qty: 0, entry_price: 2000, realized_pnl: 50, fees: 1, exit_price: 2050, closed_at: NOW + 30_000, exit_reason: 'take_profit' })];
      srv.clock.set(NOW + 71_000);
      refreshed.length = 0;
      engine.seen.length = 0;
      expect(await srv.enginePoller.tick()).toBe(1);
      await srv.jobs.drain();
      list = (await api<Pos[]>(srv.base, token, '/api/positions?status=all')).json;
      expect(list.map((p) => [p.id.split('-').pop(), p.status, p.size])).toEqual([
        ['p1', 'open', 2],
        ['p2', 'closed', 0],
      ]);
      const trades = (await api<{ position_id: string; realized_pnl: number; exit_price: number }[]>(srv.base, token, '/api/trades')).json;
      expect(trades.map((t) => [t.position_id.split('-').pop(), t.realized_pnl, t.exit_price])).toEqual([['p2', 50, 2050]]);
      const audit = (await api<{ action: string; detail: { via: string } }[]>(srv.base, token, `/api/audit?position_id=e${user.id}-${src.id}-p2`)).json;
      expect(audit.map((a) => [a.action, a.detail.via])).toEqual([
        ['opened', 'webhook'],
        ['closed', 'poll'],
      ]);
      // p1 had not changed, so the second poll recorded nothing for it.
      const p1Events = await store.db.selectFrom('engine_events').select('id').where('source_id', '=', src.id).where('position_id', '=', 'p1').execute();
      expect(p1Events).toHaveLength(1);
      expect(refreshed).toEqual([[user.id, 'bybit:paper', 'poll']]);
      const row = await store.db.selectFrom('engine_sources').select(['last_poll_at', 'last_event_at']).where('id', '=', src.id).executeTakeFirstOrThrow();
      expect(row).toEqual({ last_poll_at: NOW + 71_000, last_event_at: NOW + 10_000 });
    });

    it('retries a poll while the engine is down', async () => {
      const { token } = await createUser(store.db, 'poller-down', 'both', NOW);
      const created = await api<{ id: string }>(srv.base, token, '/api/engine-sources', {
        method: 'POST',
        body: JSON.stringify({ name: 'down', target: 'bybit:paper', poll_url: engine.base, poll_token: 'poll-secret' }),
      });
      engine.failWith = 503;
      const before = (await jobsOfKind(store.db, ENGINE_POLL_JOB)).length;
      expect(await srv.enginePoller.tick()).toBeGreaterThanOrEqual(1);
      await srv.jobs.drain();
      const job = (await jobsOfKind(store.db, ENGINE_POLL_JOB)).slice(before).find((j) => j.payload === JSON.stringify({ sourceId: created.json.id }));
      expect(job).toMatchObject({ status: 'queued', attempts: 1 });
      expect(job?.last_error).toMatch(/positions\/active answered HTTP 503/);
      expect(job?.run_at).toBeGreaterThan(srv.clock.now());
      // The retry is pending: a tick queues no second poll for that source.
      const queued = (await jobsOfKind(store.db, ENGINE_POLL_JOB)).length;
      await srv.enginePoller.tick();
      const again = (await jobsOfKind(store.db, ENGINE_POLL_JOB)).slice(queued).filter((j) => j.payload === JSON.stringify({ sourceId: created.json.id }));
      expect(again).toEqual([]);
      engine.failWith = null;
    });
  });
}
