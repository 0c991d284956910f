import type { MarkBook } from '../src/tracker/marks.ts';
import type { Kysely } from 'kysely';
import { pino } from 'pino';
import { ManualClock } from '../src/core/ports.ts';
import { buildServer, type ServerDeps, type ServerLimits } from '../src/server/app.ts';
import type { OrderDispatcher } from '../src/tracker/dispatcher.ts';
import type { Monitor } from '../src/tracker/monitor.ts';
import type { EnginePoller } from '../src/tracker/engine-poller.ts';
import type { JobWorker } from '../src/tracker/jobs.ts';
import type { VenueRegistry } from '../src/tracker/venue-registry.ts';
import type { Store } from '../src/store/db.ts';
import type { Database } from '../src/store/schema.ts';
import { createRecorder, type NewRecorder } from '../src/store/recorders.ts';
import { SecretBox } from '../src/store/secrets.ts';
import { createUser } from '../src/store/users.ts';

/** 2026-11-21T10:00:00Z: the tests' "now". */
export const NOW = Date.UTC(2026, 10, 21, 10, 0, 0);

/** A running server on a loopback port over `store`, with a hand-set clock. */
export interface Running {
  readonly base: string;
  readonly clock: ManualClock;
  readonly dispatcher: OrderDispatcher;
  readonly venues: VenueRegistry;
  /** The server's monitor (its loop is off unless `extra.monitor.loop` says so: tests call runOnce). */
  readonly monitor: Monitor;
  /** The durable job worker (tests call `drain()` to wait for queued jobs). */
  readonly jobs: JobWorker;
  readonly enginePoller: EnginePoller;
  /** The server's latest prices (what positions are marked at). */
  readonly marks: MarkBook;
  stop(): Promise<void>;
}

/** Starts the real HTTP server on 127.0.0.1 (a free port). */
export async function startServer(
  store: Store,
  limits: Partial<ServerLimits> = {},
  clock = new ManualClock(NOW),
  extra: Pick<ServerDeps, 'openCcxt' | 'dispatchPolicy' | 'monitor' | 'refresher' | 'enginePollIntervalS' | 'outputDir' | 'live' | 'settleEveryMs' | 'metricsToken'> = {},
): Promise<Running> {
  const { app, dispatcher, venues, monitor, jobs, enginePoller, marks } = await buildServer({
    ...extra,
    monitor: { loop: false, ...extra.monitor },
    store,
    clock,
    logger: pino({ level: 'silent' }),
    publicUrl: 'http://127.0.0.1:8080',
    box: new SecretBox('test-key-'.repeat(5)),
    limits,
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  return { base, clock, dispatcher, venues, monitor, jobs, enginePoller, marks, stop: () => app.close() };
}

/** A user with a token and a recorder, made through the store. */
export async function userWithRecorder(store: Store, name: string, rec: Partial<NewRecorder> = {}) {
  const { user, token } = await createUser(store.db, name, 'both', NOW);
  const recorder = await createRecorder(store.db, { userId: user.id, name: `${name} stream`, ...rec }, NOW);
  return { user, token, recorder, secret: recorder.secret };
}

/** POSTs a body to the signal webhook; returns status and parsed JSON. */
export async function postSignal(base: string, secret: string, body: string, contentType = 'application/json'): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}/hooks/signals/${secret}`, { method: 'POST', body, headers: { 'content-type': contentType } });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** GETs an API path with a bearer token. */
export async function api<T = unknown>(base: string, token: string, path: string, init: RequestInit = {}): Promise<{ status: number; json: T }> {
  const res = await fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/json' } : {}), ...init.headers } });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : null) as T };
}

/** An engine position row on a target, as the engine-event processor writes them. */
export async function insertEnginePosition(
  db: Kysely<Database>,
  p: { id: string; userId: number; target: string; symbol: string; side: 'long' | 'short'; qty: number; price: number; openedAt: number; positionSide?: 'long' | 'short'; source?: 'engine' | 'exchange' },
): Promise<void> {
  await db
    .insertInto('positions')
    .values({
      id: p.id, user_id: p.userId, recorder_id: null, target_key: p.target, source: p.source ?? 'engine', opened_by: p.source ?? 'engine', strategy: 'sma', symbol: p.symbol, side: p.side,
      position_side: p.positionSide ?? null, status: 'open', qty: p.qty, max_qty: p.qty, entry_price: p.price, realized_pnl: 0, fees: 0, funding: 0, max_adverse: 0,
      stop_loss: null, take_profit: null, last_price: null, opened_at: p.openedAt, closed_at: null, exit_price: null, avg_exit_price: null, exited_qty: 0,
      updated_at: p.openedAt, external_id: p.id, engine_source_id: 'es_test', close_reason: null, strategy_id: null,
    })
    .execute();
}
