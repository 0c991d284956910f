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
import { ccxtOpener, serverVenueOpener, VenueRegistry, type CcxtOpener } from '../tracker/venue-registry.ts';
import { orderRoutes } from './routes/orders.ts';
import { installErrorHandling } from './errors.ts';
import { apiRoutes } from './routes/api.ts';
import { hookRoutes } from './routes/hooks.ts';

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
}

/** The server and the intake it feeds. */
export interface Server {
  readonly app: FastifyInstance;
  readonly intake: SignalIntake;
  /** Sends order intents to the venues (signal orders and API orders). */
  readonly dispatcher: OrderDispatcher;
  readonly venues: VenueRegistry;
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
  await app.register(rateLimit, { global: true, max: limits.perIpPerMinute, timeWindow: 60_000 });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Halyard tracking server', version: '0.1.0', description: 'Positions from signals, engines and exchanges, per user and target.' },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const intake = new SignalIntake(deps.store.db, deps.clock, deps.store.dialect === 'sqlite' ? 1 : 4);
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
  const orders = new ManualOrders(deps.store.db, venues, dispatcher, deps.clock);
  // Intents left pending or mid-send by an earlier run go out once the server is up.
  app.addHook('onReady', async () => dispatcher.wake());
  app.addHook('onClose', async () => {
    await dispatcher.stop();
    await venues.closeAll();
  });
  app.get('/healthz', { schema: { tags: ['health'], summary: 'Liveness and database check' } }, async () => {
    await deps.store.db.selectFrom('targets').select('key').limit(1).execute();
    return { ok: true, database: deps.store.dialect };
  });
  await app.register(hookRoutes, { intake, bodyLimit: limits.bodyLimit, perRecorderPerMinute: limits.perRecorderPerMinute });
  await app.register(apiRoutes, { db: deps.store.db, clock: deps.clock, publicUrl: deps.publicUrl, box: deps.box });
  await app.register(orderRoutes, { db: deps.store.db, orders });
  return { app, intake, dispatcher, venues };
}
