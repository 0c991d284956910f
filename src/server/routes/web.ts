import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Clock } from '../../core/ports.ts';
import { listRuns, runDetail } from '../../report/runs.ts';
import type { Database } from '../../store/schema.ts';
import type { MarkBook } from '../../tracker/marks.ts';
import { terminalView } from '../../tracker/terminal.ts';
import { requireUser, userOf } from '../auth.ts';
import type { LiveHub } from '../live.ts';
import { ErrorSchema } from '../schemas.ts';
import { requiredTarget } from '../target-query.ts';
import { BacktestDetailSchema, BacktestRunSchema, MarksSchema, MeSchema, TerminalSchema } from '../schemas-web.ts';

/** What the dashboard's routes need. */
export interface WebRouteOptions {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  readonly marks: MarkBook;
  readonly live: LiveHub;
  /** The folder backtests write their runs to (`output/` by default). */
  readonly outputDir: string;
}

const errors = { 400: ErrorSchema, 401: ErrorSchema, 404: ErrorSchema };
const auth = [{ bearerAuth: [] }];

/** The routes the dashboard reads besides the tracking API: who am I, live push, marks, the terminal, backtests. */
export async function webRoutes(root: FastifyInstance, opts: WebRouteOptions): Promise<void> {
  const { db, clock, marks, live } = opts;
  requireUser(root, db);
  const app = root.withTypeProvider<ZodTypeProvider>();

  app.get('/api/me', { schema: { tags: ['users'], security: auth, summary: 'The signed-in user', response: { 200: MeSchema, ...errors } } }, async (req) => {
    const u = userOf(req);
    return { id: u.id, name: u.name, trading_mode: u.trading_mode };
  });

  app.get('/api/marks', { schema: { tags: ['positions'], security: auth, summary: "The latest price per ticker of the caller's own signals", response: { 200: MarksSchema, ...errors } } }, async (req) => marks.all(userOf(req).id));

  app.get(
    '/api/stream',
    {
      schema: {
        tags: ['positions'],
        security: auth,
        summary: "Live push (server-sent events): `marks` when the caller's prices move, `changed` with the topics whose data changed for the caller",
      },
    },
    async (req, reply) => {
      const u = userOf(req);
      reply.hijack();
      await live.open(u.id, u.name, reply.raw, req.tokenId);
    },
  );

  app.get(
    '/api/terminal',
    {
      schema: {
        tags: ['positions'],
        security: auth,
        summary: "One target's positions merged with the ledger: tracked, untracked (the venue's, no ledger position) and closed externally",
        querystring: z.object({
          target: z.string().optional().describe('exchange:env, e.g. bybit:paper'),
          exchange: z.string().optional(),
          env: z.string().optional(),
          account_type: z.string().optional(),
        }),
        response: { 200: TerminalSchema, ...errors },
      },
    },
    async (req) => {
      const q = req.query;
      const key = q.target || q.exchange ? requiredTarget(q) : 'sim:paper';
      return terminalView(db, marks, userOf(req).id, key, clock.now());
    },
  );

  app.get(
    '/api/backtests',
    { schema: { tags: ['backtests'], security: auth, summary: "The caller's backtest runs and the shared ones, newest first", response: { 200: z.array(BacktestRunSchema), ...errors } } },
    async (req) => listRuns(opts.outputDir, userOf(req).name),
  );

  app.get(
    '/api/backtests/:id',
    {
      schema: {
        tags: ['backtests'],
        security: auth,
        summary: "A backtest run: summary, config, trades and its report's chart data",
        params: z.object({ id: z.string().min(1).max(200) }),
        response: { 200: BacktestDetailSchema, ...errors },
      },
    },
    async (req) => runDetail(opts.outputDir, req.params.id, userOf(req).name),
  );
}
