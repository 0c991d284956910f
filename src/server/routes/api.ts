import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { asciiUpper } from '../../core/instrument.ts';
import type { Clock } from '../../core/ports.ts';
import { ALL_TARGETS, envsOf, parseTargetKey, type TradingMode } from '../../exchange/targets.ts';
import { HalyardError } from '../../core/errors.ts';
import { createAccount, deleteAccount, listAccounts } from '../../store/accounts.ts';
import { listPositionViews, recorderEquity, recorderPositions } from '../../store/position-views.ts';
import { listTrades } from '../../store/positions.ts';
import { createRecorder, deleteRecorder, getRecorder, listRecorders, type RecorderWithTargets } from '../../store/recorders.ts';
import type { Database } from '../../store/schema.ts';
import type { SecretBox } from '../../store/secrets.ts';
import { listSignals, signalExecutions } from '../../store/signals.ts';
import { marked, type MarkBook } from '../../tracker/marks.ts';
import { requireUser, userOf } from '../auth.ts';
import { targetScope } from '../target-query.ts';
import {
  AccountSchema,
  ErrorSchema,
  IdParams,
  NewAccountSchema,
  NewRecorderSchema,
  PositionSchema,
  RecorderPositionSchema,
  RecorderSchema,
  SignalSchema,
  SymbolInput,
  TargetSchema,
  TradeSchema,
} from '../schemas.ts';

/** What the API routes need. */
export interface ApiOptions {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  /** Base of webhook URLs shown to users, e.g. http://127.0.0.1:8080. */
  readonly publicUrl: string;
  /** Encrypts account credentials; undefined when ENCRYPTION_KEY is not set (accounts then refused). */
  readonly box: SecretBox | undefined;
  /** The server's latest prices: open positions are marked at them. */
  readonly marks: MarkBook;
}

/** The recorder as the API shows it. */
export function recorderView(r: RecorderWithTargets, publicUrl: string): z.infer<typeof RecorderSchema> {
  return {
    id: r.id,
    name: r.name,
    position_mode: r.position_mode === 'hedge' ? 'hedge' : 'oneway',
    max_lag_seconds: r.max_lag_ms / 1000,
    default_qty: r.default_qty,
    strategy: r.strategy,
    webhook_url: `${publicUrl.replace(/\/$/, '')}/hooks/signals/${r.secret}`,
    targets: r.targets.map((t) => ({ target: t.target_key, multiplier: t.multiplier })),
    created_at: r.created_at,
  };
}

const errors = { 400: ErrorSchema, 401: ErrorSchema, 404: ErrorSchema };
const auth = [{ bearerAuth: [] }];
const statusQuery = z.enum(['open', 'closed', 'all']).default('open');

/** The JSON API under /api: every route needs a bearer token and sees only the caller's data. */
export async function apiRoutes(root: FastifyInstance, opts: ApiOptions): Promise<void> {
  const { db, clock, publicUrl } = opts;
  requireUser(root, db);
  const app = root.withTypeProvider<ZodTypeProvider>();

  app.get(
    '/api/positions',
    {
      schema: {
        tags: ['positions'],
        security: auth,
        summary: 'Positions per target (signal positions show on every target their recorder is linked to)',
        querystring: z.object({
          exchange: z.string().optional(),
          env: z.string().optional().describe('paper or live; wins over account_type'),
          account_type: z.string().optional().describe('legacy: demo/real (bybit), testnet/mainnet (hyperliquid), demo/live (binance)'),
          status: statusQuery,
          symbol: SymbolInput.optional(),
        }),
        response: { 200: z.array(PositionSchema), ...errors },
      },
    },
    async (req) => {
      const q = req.query;
      const userId = userOf(req).id;
      const views = await listPositionViews(db, {
        userId,
        status: q.status,
        ...targetScope(q),
        ...(q.symbol ? { symbol: asciiUpper(q.symbol) } : {}),
      });
      return views.map((v) => marked(v, opts.marks, userId));
    },
  );

  app.get('/api/recorders', { schema: { tags: ['recorders'], security: auth, response: { 200: z.array(RecorderSchema), ...errors } } }, async (req) =>
    (await listRecorders(db, userOf(req).id)).map((r) => recorderView(r, publicUrl)),
  );

  app.post(
    '/api/recorders',
    { schema: { tags: ['recorders'], security: auth, body: NewRecorderSchema, response: { 201: RecorderSchema, ...errors } } },
    async (req, reply) => {
      const b = req.body;
      const rec = await createRecorder(
        db,
        {
          userId: userOf(req).id,
          name: b.name,
          positionMode: b.position_mode,
          ...(b.max_lag_seconds !== undefined ? { maxLagMs: b.max_lag_seconds * 1000 } : {}),
          ...(b.default_qty !== undefined ? { defaultQty: b.default_qty } : {}),
          strategy: b.strategy ?? null,
          ...(b.targets ? { targets: b.targets.map((t) => ({ key: t.target, multiplier: t.multiplier })) } : {}),
        },
        clock.now(),
      );
      return reply.code(201).send(recorderView(rec, publicUrl));
    },
  );

  app.get('/api/recorders/:id', { schema: { tags: ['recorders'], security: auth, params: IdParams, response: { 200: RecorderSchema, ...errors } } }, async (req) =>
    recorderView(await getRecorder(db, userOf(req).id, req.params.id), publicUrl),
  );

  app.delete('/api/recorders/:id', { schema: { tags: ['recorders'], security: auth, params: IdParams, response: { 204: z.null(), ...errors } } }, async (req, reply) => {
    await deleteRecorder(db, userOf(req).id, req.params.id, clock.now());
    return reply.code(204).send(null);
  });

  app.get(
    '/api/recorders/:id/positions',
    {
      schema: { tags: ['recorders'], security: auth, params: IdParams, querystring: z.object({ status: statusQuery }), response: { 200: z.array(RecorderPositionSchema), ...errors } },
    },
    async (req) => {
      const rec = await getRecorder(db, userOf(req).id, req.params.id);
      // Open positions are marked at the server's latest price, as on the terminal.
      return (await recorderPositions(db, rec.id, req.query.status)).map((p) => marked(p, opts.marks, rec.user_id));
    },
  );

  app.get(
    '/api/recorders/:id/equity',
    {
      schema: {
        tags: ['recorders'],
        security: auth,
        params: IdParams,
        summary: "A recorder's equity curve from its signals (realized + unrealized, with drawdown)",
        response: { 200: z.array(z.object({ ts: z.number(), realized: z.number(), unrealized: z.number(), equity: z.number(), drawdown: z.number() })), ...errors },
      },
    },
    async (req) => {
      const rec = await getRecorder(db, userOf(req).id, req.params.id);
      return recorderEquity(db, rec.id);
    },
  );

  app.get(
    '/api/signals',
    {
      schema: {
        tags: ['signals'],
        security: auth,
        summary: "The signal log, newest first, with each signal's execution per target; pass `next` back as `before` for the next page",
        querystring: z.object({
          recorder_id: z.coerce.number().int().positive().optional(),
          ticker: SymbolInput.optional(),
          outcome: z.enum(['accepted', 'duplicate', 'rejected']).optional(),
          action: z.enum(['BUY', 'SELL', 'CLOSE', 'ADD', 'CANCEL']).optional(),
          before: z.coerce.number().int().positive().optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
        }),
        response: { 200: z.object({ items: z.array(SignalSchema), next: z.number().nullable() }), ...errors },
      },
    },
    async (req) => {
      const q = req.query;
      const page = await listSignals(db, {
        userId: userOf(req).id,
        limit: q.limit,
        ...(q.recorder_id !== undefined ? { recorderId: q.recorder_id } : {}),
        ...(q.ticker ? { ticker: asciiUpper(q.ticker) } : {}),
        ...(q.outcome ? { outcome: q.outcome } : {}),
        ...(q.action ? { action: q.action } : {}),
        ...(q.before !== undefined ? { before: q.before } : {}),
      });
      // One batched look-up for the page: what each signal's orders became on each target.
      const executions = await signalExecutions(db, userOf(req).id, page.items);
      return {
        items: page.items.map(({ user_id: _u, dedupe_key: _d, ...s }) => ({ ...s, outcome: s.outcome as 'accepted' | 'duplicate' | 'rejected', executions: executions.get(s.id) ?? [] })),
        next: page.next,
      };
    },
  );

  app.get(
    '/api/trades',
    {
      schema: {
        tags: ['trades'],
        security: auth,
        summary: 'Closed trades, newest first',
        querystring: z.object({
          recorder_id: z.coerce.number().int().positive().optional(),
          symbol: SymbolInput.optional(),
          strategy: z.string().optional(),
          target: z.string().optional().describe('exchange:env'),
          source: z.enum(['signal', 'engine', 'webapp', 'exchange']).optional(),
          side: z.enum(['long', 'short']).optional(),
          from: z.coerce.number().int().nonnegative().optional().describe('closed at or after (epoch ms)'),
          to: z.coerce.number().int().nonnegative().optional().describe('closed at or before (epoch ms)'),
          limit: z.coerce.number().int().min(1).max(5000).default(200),
        }),
        response: { 200: z.array(TradeSchema), ...errors },
      },
    },
    async (req) => {
      const q = req.query;
      const rows = await listTrades(db, {
        userId: userOf(req).id,
        limit: q.limit,
        ...(q.recorder_id !== undefined ? { recorderId: q.recorder_id } : {}),
        ...(q.symbol ? { symbol: asciiUpper(q.symbol) } : {}),
        ...(q.strategy ? { strategy: q.strategy } : {}),
        ...(q.target ? { targetKey: parseTargetKey(q.target).key } : {}),
        ...(q.source ? { source: q.source } : {}),
        ...(q.side ? { side: q.side } : {}),
        ...(q.from !== undefined ? { from: q.from } : {}),
        ...(q.to !== undefined ? { to: q.to } : {}),
      });
      return rows.map(({ user_id: _u, target_key, ...t }) => ({ ...t, target: target_key }));
    },
  );

  app.get('/api/targets', { schema: { tags: ['targets'], security: auth, response: { 200: z.array(TargetSchema), ...errors } } }, async (req) => {
    const user = userOf(req);
    const accounts = new Set((await listAccounts(db, user.id)).map((a) => a.target));
    const envs = envsOf(user.trading_mode as TradingMode);
    return ALL_TARGETS.map((t) => ({
      target: t.key,
      exchange: t.exchange,
      env: t.env,
      account_type: t.accountType,
      has_account: t.exchange === 'sim' || accounts.has(t.key),
      traded: envs.includes(t.env),
    }));
  });

  app.get('/api/accounts', { schema: { tags: ['accounts'], security: auth, response: { 200: z.array(AccountSchema), ...errors } } }, async (req) => listAccounts(db, userOf(req).id));

  app.post('/api/accounts', { schema: { tags: ['accounts'], security: auth, body: NewAccountSchema, response: { 201: AccountSchema, ...errors } } }, async (req, reply) => {
    if (!opts.box) throw new HalyardError('invalid_config', 'the server has no ENCRYPTION_KEY, so it cannot store credentials (set one: openssl rand -hex 32)');
    const b = req.body;
    const account = await createAccount(
      db,
      opts.box,
      userOf(req).id,
      b.target,
      b.label,
      { apiKey: b.api_key, secret: b.api_secret, ...(b.password ? { password: b.password } : {}) },
      clock.now(),
    );
    return reply.code(201).send(account);
  });

  app.delete('/api/accounts/:id', { schema: { tags: ['accounts'], security: auth, params: IdParams, response: { 204: z.null(), ...errors } } }, async (req, reply) => {
    await deleteAccount(db, userOf(req).id, req.params.id);
    return reply.code(204).send(null);
  });
}
