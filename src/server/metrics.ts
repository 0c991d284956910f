import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Clock } from '../core/ports.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import { errorBody } from './errors.ts';

/** What `/metrics` needs: the store to count queued work in, the server's clock, and who may scrape. */
export interface MetricsOptions {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  /** Bearer token a scraper must send; undefined: only loopback clients may scrape (METRICS_TOKEN). */
  readonly token: string | undefined;
}

/** Route groups whose request counts and latencies are recorded (label `route`). */
function routeGroup(url: string): string | null {
  if (url.startsWith('/hooks/signals')) return 'signal_webhook';
  if (url.startsWith('/hooks/engine')) return 'engine_webhook';
  if (url.startsWith('/api/')) return 'api';
  return null;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/** Whether `req` may read the metrics: the right bearer token, or (with no token set) a loopback client. */
function mayScrape(req: FastifyRequest, token: string | undefined): boolean {
  if (token === undefined) return LOOPBACK.has(req.socket.remoteAddress ?? '');
  return req.headers.authorization === `Bearer ${token}`;
}

/**
 * Prometheus metrics at `GET /metrics` (prom-client, a registry of this server's own): requests and their
 * latency per route group and status class (the signal webhook's rate and latency among them), order intents
 * by status, the outbox and alert backlogs, the job queue's lag, open reconciliation issues, and Node's
 * process metrics. The counts are operator figures over every user; they name no user, recorder or symbol.
 */
export function installMetrics(app: FastifyInstance, o: MetricsOptions): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'halyard_' });
  const requests = new Counter({ name: 'halyard_http_requests_total', help: 'Requests answered, by route group and status class', labelNames: ['route', 'status'] as const, registers: [registry] });
  const latency = new Histogram({
    name: 'halyard_http_request_duration_seconds',
    help: 'Time from request to answer, by route group',
    labelNames: ['route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = routeGroup(req.url);
    if (route === null) return;
    requests.inc({ route, status: `${Math.floor(reply.statusCode / 100)}xx` });
    latency.observe({ route }, reply.elapsedTime / 1000);
  });

  const db = o.db;
  new Gauge({
    name: 'halyard_order_intents',
    help: 'Order intents by status',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const rows = await db.selectFrom('order_intents').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute();
      for (const r of rows) this.set({ status: r.status }, Number(r.n));
    },
  });
  new Gauge({
    name: 'halyard_outbox_backlog',
    help: 'Deliveries waiting to be sent: engine events (outbox) and alerts',
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect() {
      const events = await db.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow();
      const alerts = await db.selectFrom('alerts').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow();
      this.set({ queue: 'engine_events' }, Number(events.n));
      this.set({ queue: 'alerts' }, Number(alerts.n));
    },
  });
  new Gauge({
    name: 'halyard_jobs_queued',
    help: 'Jobs queued and due',
    registers: [registry],
    async collect() {
      const r = await db.selectFrom('jobs').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'queued').where('run_at', '<=', o.clock.now()).executeTakeFirstOrThrow();
      this.set(Number(r.n));
    },
  });
  new Gauge({
    name: 'halyard_job_lag_seconds',
    help: 'How long the oldest due job has waited past its run time (0 when none is waiting)',
    registers: [registry],
    async collect() {
      const now = o.clock.now();
      const r = await db.selectFrom('jobs').select((eb) => eb.fn.min<number>('run_at').as('t')).where('status', '=', 'queued').where('run_at', '<=', now).executeTakeFirst();
      const t = r?.t === null || r?.t === undefined ? null : Number(r.t);
      this.set(t === null ? 0 : Math.max(0, (now - t) / 1000));
    },
  });
  new Gauge({
    name: 'halyard_reconciliation_issues_open',
    help: 'Reconciliation issues still open (venue and ledger disagree)',
    registers: [registry],
    async collect() {
      const r = await db.selectFrom('reconciliation_issues').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'open').executeTakeFirstOrThrow();
      this.set(Number(r.n));
    },
  });

  // Not in the OpenAPI document: an operator's route, whose counters change with every request of anyone.
  app.get('/metrics', { schema: { hide: true } }, async (req, reply) => {
    if (!mayScrape(req, o.token)) {
      const why = o.token === undefined ? 'metrics answer only loopback clients; set METRICS_TOKEN on the server and scrape with that bearer token' : 'send the METRICS_TOKEN as a bearer token';
      return reply.code(403).send(errorBody('forbidden', why));
    }
    return reply.type(registry.contentType).send(await registry.metrics());
  });
  return registry;
}
