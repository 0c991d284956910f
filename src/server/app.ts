import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Clock } from '../core/ports.ts';
import type { Store } from '../store/db.ts';
import type { SecretBox } from '../store/secrets.ts';
import { SignalIntake } from '../tracker/intake.ts';
import { DEFAULT_DISPATCH_POLICY, OrderDispatcher, type DispatchPolicy } from '../tracker/dispatcher.ts';
import { ManualOrders } from '../tracker/manual-orders.ts';
import { EngineIntake } from '../tracker/engine-intake.ts';
import { EnginePoller } from '../tracker/engine-poller.ts';
import { JobWorker } from '../tracker/jobs.ts';
import type { TargetRefresher } from '../tracker/refresh-port.ts';
import { Monitor, type MonitorPolicy } from '../tracker/monitor.ts';
import { SimInline } from '../tracker/sim-inline.ts';
import { ccxtOpener, serverVenueOpener, VenueRegistry, type CcxtOpener } from '../tracker/venue-registry.ts';
import { orderRoutes } from './routes/orders.ts';
import { errorBody, installErrorHandling } from './errors.ts';
import { installMetrics } from './metrics.ts';
import { installJsonBody } from './json-body.ts';
import { apiRoutes } from './routes/api.ts';
import { hookRoutes } from './routes/hooks.ts';
import { engineRoutes } from './routes/engine.ts';
import { reconcileRoutes } from './routes/reconcile.ts';
import { tradingRoutes } from './routes/trading.ts';
import { webRoutes } from './routes/web.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { LiveHub, type LiveTiming } from './live.ts';
import { DASHBOARD_DIR, dashboardRoutes } from './static.ts';
import { MarkBook } from '../tracker/marks.ts';
import { PositionCloser } from '../tracker/closes.ts';
import { DEFAULT_LEASE_TTL_MS, Fleet } from '../tracker/fleet.ts';
import { holderId, leaseConnection } from '../store/leases.ts';
import { PgLiveBus } from './live-bus.ts';

/** Limits of the server (requests per minute, bytes). */
export interface ServerLimits {
  /** Requests per minute and client IP, all routes. */
  readonly perIpPerMinute: number;
  /** Signal deliveries per minute and recorder. */
  readonly perRecorderPerMinute: number;
  /** Largest request body (bytes), API and webhooks. */
  readonly bodyLimit: number;
}

/** Sensible limits for one user's alerts on a small server. */
export const DEFAULT_LIMITS: ServerLimits = { perIpPerMinute: 6_000, perRecorderPerMinute: 600, bodyLimit: 64 * 1024 };

/** What the server is built from. */
export interface ServerDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: FastifyBaseLogger;
  /** Base of the webhook URLs shown to users. */
  readonly publicUrl: string;
  readonly box: SecretBox | undefined;
  readonly limits?: Partial<ServerLimits>;
  /** Opens ccxt venues for exchange targets (default: ccxt at the exchange's own endpoints; null: only `sim` targets execute). */
  readonly openCcxt?: CcxtOpener | null;
  /** Accounts of the simulated exchange (`sim:*` targets): starting balance (quote) and leverage. */
  readonly sim?: { readonly balance?: number; readonly leverage?: number };
  /** How orders the venue could not take are retried. */
  readonly dispatchPolicy?: DispatchPolicy;
  /** How often resting orders are read back from their venues and new fills booked (ms; default 5 s). */
  readonly settleEveryMs?: number;
  /** Snapshots, reconciliation and the monitor loop (intervals, ghost checks, grace; `loop: false` in tests). */
  readonly monitor?: Partial<MonitorPolicy>;
  /** Snapshots and reconciles a target after an engine event or poll changed a position (optional). */
  readonly refresher?: TargetRefresher;
  /** Seconds between engine polls, and how long a source must be quiet before it is polled (ENGINE_POLL_INTERVAL_S; default 60). */
  readonly enginePollIntervalS?: number;
  /** The latest prices (shared with a demo feed; a new one by default). */
  readonly marks?: MarkBook;
  /** How often the live push looks for changes (default every second; a comment every 15 s). */
  readonly live?: Partial<LiveTiming>;
  /** The folder of backtest runs the dashboard lists (default `output`). */
  readonly outputDir?: string;
  /** The built dashboard served at `/` (default web/dist of this package). */
  readonly dashboardDir?: string;
  /** Bearer token that may read `/metrics` from another host (METRICS_TOKEN; unset: loopback only). */
  readonly metricsToken?: string;
  /**
   * Several servers on one PostgreSQL (always on when the store is PostgreSQL; SQLite has one process):
   * the database URL for the live push's LISTEN connection (unset: each server's push sees other servers'
   * changes only by its look at the database every second, and no marks), the lifetime of leases and
   * claims (ms; LEASE_TTL_S, default 10 s), and this server's name (default `host:pid:random`).
   */
  readonly fleet?: { readonly url?: string; readonly leaseTtlMs?: number; readonly holder?: string };
}

/** The server and the intake it feeds. */
export interface Server {
  readonly app: FastifyInstance;
  readonly intake: SignalIntake;
  /** Sends order intents to the venues (signal orders and API orders). */
  readonly dispatcher: OrderDispatcher;
  readonly venues: VenueRegistry;
  /** Snapshots and reconciles targets (on its loop, after engine events, on request). */
  readonly monitor: Monitor;
  /** The durable job queue worker (engine events, engine polls, ...). */
  readonly jobs: JobWorker;
  /** Takes signed engine events. */
  readonly engineIntake: EngineIntake;
  /** Polls engines whose events stopped arriving. */
  readonly enginePoller: EnginePoller;
  /** The latest price per ticker (signals, the demo feed). */
  readonly marks: MarkBook;
  /** The live push to the dashboard. */
  readonly live: LiveHub;
  /** This server's leases and claims among the servers of one PostgreSQL database (null on SQLite). */
  readonly fleet: Fleet | null;
  /** The live push across servers (null on SQLite, or without `fleet.url`). */
  readonly bus: PgLiveBus | null;
}

/** Builds the HTTP app: signal webhooks, the JSON API, its OpenAPI document at /docs, /healthz. */
export async function buildServer(deps: ServerDeps): Promise<Server> {
  const limits = { ...DEFAULT_LIMITS, ...deps.limits };
  const app = Fastify({
    loggerInstance: deps.logger,
    // One log line per request would cost the intake more than the database does.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: limits.bodyLimit,
    trustProxy: false,
    return503OnClosing: true,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app);
  // Read by the bearer-token hook of every /api scope (token expiry and last use follow the server's clock).
  app.decorate('clock', deps.clock);
  installJsonBody(app, limits.bodyLimit);
  await app.register(rateLimit, { global: true, max: limits.perIpPerMinute, timeWindow: 60_000 });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Halyard tracking server', version: '0.1.0', description: 'Positions from signals, engines and exchanges, per user and target.' },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // One commit lane: a delivery's transaction then sees every ledger change the simulated exchange moved with.
  const intake = new SignalIntake(deps.store.db, deps.clock, 1);
  const marks = deps.marks ?? new MarkBook();
  const live = new LiveHub(deps.store.db, marks, { tickMs: deps.live?.tickMs ?? 1000, heartbeatMs: deps.live?.heartbeatMs ?? 15_000 }, deps.logger, deps.clock);
  // Several servers on one PostgreSQL: leases for the scheduled loops, claims on queued rows, one pass per
  // target across the fleet, and the live push carried to the other servers by LISTEN/NOTIFY.
  const holder = deps.fleet?.holder ?? holderId();
  // Leases renew on a small pool of their own, so a busy server never lets one lapse while it works.
  const leaseConn = deps.store.dialect === 'postgres' && deps.fleet?.url ? leaseConnection(deps.fleet.url) : null;
  const fleet =
    deps.store.dialect === 'postgres'
      ? new Fleet(deps.store.db, { holder, leaseTtlMs: deps.fleet?.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS, log: deps.logger, ...(leaseConn ? { leaseDb: leaseConn.db } : {}) })
      : null;
  const bus =
    fleet && deps.fleet?.url
      ? new PgLiveBus(
          deps.fleet.url,
          holder,
          {
            // Another server's mark of this user: kept unless this server saw a later one.
            mark: (userId, ticker, price, ts) => {
              if ((marks.get(userId, ticker)?.ts ?? -Infinity) <= ts) marks.set(userId, ticker, price, ts);
            },
            changed: (userId) => live.poke(userId),
          },
          deps.logger,
        )
      : null;
  intake.onPrice = (userId, ticker, price, ts) => {
    marks.set(userId, ticker, price, ts);
    bus?.mark(userId, ticker, price, ts);
  };
  // Open event streams would keep close() waiting for ever.
  app.addHook('preClose', async () => live.closeAll());
  const venues = new VenueRegistry(
    serverVenueOpener({
      db: deps.store.db,
      box: deps.box ?? null,
      clock: deps.clock,
      openCcxt: deps.openCcxt === undefined ? ccxtOpener() : deps.openCcxt,
      // The defaults of SIM_BALANCE and SIM_LEVERAGE, for servers built without settings (tests, embedding).
      sim: { balance: deps.sim?.balance ?? 100_000, leverage: deps.sim?.leverage ?? 10 },
    }),
  );
  const dispatcher = new OrderDispatcher(deps.store.db, venues, deps.clock, deps.dispatchPolicy ?? DEFAULT_DISPATCH_POLICY, deps.logger);
  intake.onIntents = () => dispatcher.wake();
  // `sim:*` orders are executed inside the signal's own transaction; exchange targets go through the dispatcher.
  const sim = new SimInline(venues, true);
  intake.sim = sim;
  dispatcher.simAlone = (userId, targetKey, fn) => sim.exclusive(userId, targetKey, fn);
  intake.onExecuted = (userId, targetKey) => dispatcher.afterInline(userId, targetKey);
  // A signal's own stop-loss / take-profit that filled at a venue closes the recorder's leg (and so every linked target).
  dispatcher.onSignalBracketFill = async (f) => {
    await intake.closeFromVenue(f);
  };
  const orders = new ManualOrders(deps.store.db, dispatcher, deps.clock);
  const closer = new PositionCloser(deps.store.db, orders, intake, dispatcher, venues, marks, deps.clock);
  const monitor = new Monitor(deps.store.db, venues, deps.clock, deps.monitor, deps.logger);
  // Engine events and polls refresh their target through the monitor unless the embedder brings its own.
  const refresher = deps.refresher ?? monitor;
  const jobs = new JobWorker(deps.store.db, deps.clock, undefined, deps.logger, fleet?.claim);
  const engineIntake = new EngineIntake(deps.store.db, deps.clock, refresher, deps.logger);
  engineIntake.register(jobs);
  engineIntake.onEnqueued = () => jobs.wake();
  const enginePoller = new EnginePoller(deps.store.db, deps.clock, deps.box, deps.enginePollIntervalS ?? 60, jobs, refresher, deps.logger);
  enginePoller.register();
  if (fleet) {
    // Each scheduled loop runs on one server of the fleet at a time; the others take it over when it dies.
    const monitorLease = fleet.loop('monitor');
    monitor.gate = () => monitorLease.held();
    monitorLease.onTaken = () => monitor.resetSchedule();
    const pollerLease = fleet.loop('engine-poller');
    enginePoller.gate = () => pollerLease.held();
    const settleLease = fleet.loop('settle');
    dispatcher.settleGate = () => settleLease.held();
    dispatcher.shareTargets(fleet.lock('target:'));
    // The leases are asked for before the loops start, so the first server up runs them at once.
    app.addHook('onReady', async () => {
      await fleet.start();
      await bus?.start();
    });
  }
  // Jobs left running by a dead process are re-queued (alone on SQLite); quiet engines get their first poll.
  app.addHook('onReady', async () => {
    await jobs.start();
    enginePoller.start();
  });
  // Intents left pending or mid-send by an earlier run go out once the server is up; fills an earlier run
  // did not book are booked, and resting orders are watched for fills from then on.
  app.addHook('onReady', async () => {
    dispatcher.wake();
    await dispatcher.startSettling(deps.settleEveryMs ?? 5_000);
  });
  app.addHook('onReady', async () => monitor.start());
  app.addHook('onClose', async () => {
    // Jobs first: an engine event in flight may still ask the monitor for a snapshot.
    enginePoller.stop();
    await jobs.stop();
    await monitor.stop();
    await dispatcher.stop();
    await venues.closeAll();
    // The loops are stopped: their leases go to the other servers at once.
    await fleet?.stop();
    await leaseConn?.close();
    await bus?.stop();
  });
  app.get('/healthz', { schema: { tags: ['health'], summary: 'Liveness and database check' } }, async () => {
    await deps.store.db.selectFrom('targets').select('key').limit(1).execute();
    return { ok: true, database: deps.store.dialect };
  });
  // Ready: started (its loops run) and not shutting down, with the database answering; a load balancer
  // sends traffic only to a ready server and stops before it closes.
  let ready = false;
  app.addHook('onReady', async () => {
    ready = true;
  });
  app.addHook('preClose', async () => {
    ready = false;
  });
  app.get('/readyz', { schema: { tags: ['health'], summary: 'Readiness: started, not shutting down, database answering' } }, async (_req, reply) => {
    if (!ready) return reply.code(503).send(errorBody('unavailable', 'the server is starting or shutting down'));
    await deps.store.db.selectFrom('targets').select('key').limit(1).execute();
    return { ok: true, database: deps.store.dialect };
  });
  installMetrics(app, { db: deps.store.db, clock: deps.clock, token: deps.metricsToken });
  await app.register(hookRoutes, { intake, bodyLimit: limits.bodyLimit, perRecorderPerMinute: limits.perRecorderPerMinute });
  await app.register(apiRoutes, { db: deps.store.db, clock: deps.clock, publicUrl: deps.publicUrl, box: deps.box, marks });
  await app.register(orderRoutes, { db: deps.store.db, orders, closer });
  await app.register(engineRoutes, { db: deps.store.db, clock: deps.clock, intake: engineIntake, publicUrl: deps.publicUrl, box: deps.box, bodyLimit: limits.bodyLimit });
  await app.register(reconcileRoutes, { db: deps.store.db, clock: deps.clock, monitor });
  await app.register(tradingRoutes, { db: deps.store.db, clock: deps.clock, marks });
  await app.register(webRoutes, { db: deps.store.db, clock: deps.clock, marks, live, outputDir: deps.outputDir ?? 'output' });
  await app.register(tokenRoutes, { db: deps.store.db, clock: deps.clock, publicUrl: deps.publicUrl });
  await app.register(dashboardRoutes, { dir: deps.dashboardDir ?? DASHBOARD_DIR });
  return { app, intake, dispatcher, venues, monitor, jobs, engineIntake, enginePoller, marks, live, fleet, bus };
}
