import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { HalyardError } from '../../core/errors.ts';
import type { Clock } from '../../core/ports.ts';
import type { WebhookRefusal } from '../../notify/standard-webhooks.ts';
import { auditOfPosition } from '../../store/audit.ts';
import { listEngineEvents } from '../../store/engine-events.ts';
import { createEngineSource, deleteEngineSource, listEngineSources, type EngineSource } from '../../store/engine-sources.ts';
import type { Database } from '../../store/schema.ts';
import type { SecretBox } from '../../store/secrets.ts';
import { getStrategy, strategyPositions, strategyStats } from '../../store/strategies.ts';
import type { EngineIntake } from '../../tracker/engine-intake.ts';
import { requireUser, userOf } from '../auth.ts';
import { errorBody } from '../errors.ts';
import { acceptAnyContentType } from '../json-body.ts';
import { ErrorSchema, IdParams } from '../schemas.ts';
import { AuditSchema, EngineEventSchema, EngineSourceSchema, NewEngineSourceSchema, StrategyPositionSchema, StrategyStatsSchema } from '../schemas-engine.ts';

/** What the engine routes need. */
export interface EngineRouteOptions {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  readonly intake: EngineIntake;
  /** Base of the webhook URLs shown to users. */
  readonly publicUrl: string;
  /** Seals poll tokens; undefined without ENCRYPTION_KEY (poll tokens then refused). */
  readonly box: SecretBox | undefined;
  /** Largest accepted webhook body (bytes). */
  readonly bodyLimit: number;
}

/** An engine source as the API and the CLI show it; the signing secret only when asked (on create). */
export function engineSourceView(s: EngineSource, publicUrl: string, withSecret = false): z.infer<typeof EngineSourceSchema> {
  return {
    id: s.id,
    name: s.name,
    target: s.target_key,
    webhook_url: `${publicUrl.replace(/\/$/, '')}/hooks/engine?source=${s.id}`,
    poll_url: s.poll_url,
    has_poll_token: s.poll_token_enc !== null,
    last_event_at: s.last_event_at,
    last_poll_at: s.last_poll_at,
    created_at: s.created_at,
    ...(withSecret ? { secret: s.secret } : {}),
  };
}

const REFUSALS: Readonly<Record<WebhookRefusal, string>> = {
  missing_headers: 'send webhook-id, webhook-timestamp and webhook-signature (Standard Webhooks)',
  bad_timestamp: 'webhook-timestamp must be epoch seconds',
  stale: "webhook-timestamp is more than 300 s away from the server's clock (resend with a fresh timestamp and signature)",
  bad_signature: "the signature does not match: sign '<webhook-id>.<webhook-timestamp>.<raw body>' with the source's secret",
};

/** `POST /hooks/engine?source=<id>`: the body is kept as the exact string received, since the signature covers its bytes. */
async function engineHookRoutes(app: FastifyInstance, opts: EngineRouteOptions): Promise<void> {
  app.removeAllContentTypeParsers();
  acceptAnyContentType(app);
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: opts.bodyLimit }, (_req, body, done) => done(null, body));
  app.post<{ Querystring: { source?: string | string[] }; Body: string | undefined }>(
    '/hooks/engine',
    {
      bodyLimit: opts.bodyLimit,
      schema: {
        summary: 'Receive one signed engine event (position_opened / position_updated / position_closed)',
        description:
          'Standard Webhooks signature over the raw body. 202 stored and queued; 200 duplicate webhook-id (nothing changes); 401 refused signature (reason: missing_headers, bad_timestamp, stale, bad_signature); 400 not an engine event (nothing stored); 404 unknown source. See docs/engine-events.md.',
        tags: ['webhooks'],
      },
    },
    async (req, reply) => {
      const raw = typeof req.body === 'string' ? req.body : '';
      const source = req.query.source;
      const answer = await opts.intake.receive(typeof source === 'string' ? source : undefined, raw, req.headers);
      if (answer.status === 'refused') return reply.code(401).send({ reason: answer.reason, ...errorBody('unauthorized', `${answer.reason}: ${REFUSALS[answer.reason]}`) });
      return reply.code(answer.status === 'duplicate' ? 200 : 202).send(answer);
    },
  );
}

const errors = { 400: ErrorSchema, 401: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema };
const auth = [{ bearerAuth: [] }];

/** Engine sources, the engine event log, strategies with analytics, and the audit log of a position. */
async function engineApiRoutes(root: FastifyInstance, opts: EngineRouteOptions): Promise<void> {
  const { db, clock, publicUrl } = opts;
  requireUser(root, db);
  const app = root.withTypeProvider<ZodTypeProvider>();
  const tags = ['engines'];

  app.post('/api/engine-sources', { schema: { tags, security: auth, body: NewEngineSourceSchema, response: { 201: EngineSourceSchema, ...errors } } }, async (req, reply) => {
    const b = req.body;
    const src = await createEngineSource(db, opts.box, { userId: userOf(req).id, name: b.name, targetKey: b.target ?? null, pollUrl: b.poll_url ?? null, pollToken: b.poll_token ?? null }, clock.now());
    return reply.code(201).send(engineSourceView(src, publicUrl, true));
  });

  app.get('/api/engine-sources', { schema: { tags, security: auth, response: { 200: z.array(EngineSourceSchema), ...errors } } }, async (req) =>
    (await listEngineSources(db, userOf(req).id)).map((s) => engineSourceView(s, publicUrl)),
  );

  app.delete(
    '/api/engine-sources/:id',
    { schema: { tags, security: auth, params: z.object({ id: z.string().min(1) }), response: { 204: z.null(), ...errors } } },
    async (req, reply) => {
      await deleteEngineSource(db, userOf(req).id, req.params.id, clock.now());
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/engine-events',
    {
      schema: {
        tags,
        security: auth,
        summary: 'Received engine events with their processing status, newest first; pass `next` back as `before`',
        querystring: z.object({
          source_id: z.string().optional(),
          status: z.enum(['received', 'processed', 'ignored', 'failed']).optional(),
          position_id: z.string().optional().describe("the engine's own position id"),
          before: z.coerce.number().int().positive().optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
        }),
        response: { 200: z.object({ items: z.array(EngineEventSchema), next: z.number().nullable() }), ...errors },
      },
    },
    async (req) => {
      const q = req.query;
      const page = await listEngineEvents(db, {
        userId: userOf(req).id,
        limit: q.limit,
        ...(q.source_id ? { sourceId: q.source_id } : {}),
        ...(q.status ? { status: q.status } : {}),
        ...(q.position_id ? { positionId: q.position_id } : {}),
        ...(q.before !== undefined ? { before: q.before } : {}),
      });
      return { items: page.items.map(({ user_id: _u, target_key, ...e }) => ({ ...e, target: target_key })), next: page.next };
    },
  );

  app.get(
    '/api/strategies',
    { schema: { tags: ['strategies'], security: auth, summary: 'Strategies with trades, win rate, net PnL, max drawdown and open positions', response: { 200: z.array(StrategyStatsSchema), ...errors } } },
    async (req) => strategyStats(db, userOf(req).id),
  );

  app.get(
    '/api/strategies/:id/positions',
    {
      schema: {
        tags: ['strategies'],
        security: auth,
        params: IdParams,
        querystring: z.object({ status: z.enum(['open', 'closed', 'all']).default('all') }),
        response: { 200: z.array(StrategyPositionSchema), ...errors },
      },
    },
    async (req) => {
      const user = userOf(req);
      const s = await getStrategy(db, user.id, req.params.id);
      return strategyPositions(db, user.id, s.id, req.query.status);
    },
  );

  app.get(
    '/api/audit',
    {
      schema: {
        tags: ['positions'],
        security: auth,
        summary: 'Every change of one position with its source, oldest first',
        querystring: z.object({ position_id: z.string().min(1) }),
        response: { 200: z.array(AuditSchema), ...errors },
      },
    },
    async (req) => {
      const user = userOf(req);
      const pos = await db.selectFrom('positions').select('id').where('id', '=', req.query.position_id).where('user_id', '=', user.id).executeTakeFirst();
      if (!pos) throw new HalyardError('not_found', `no position ${req.query.position_id}`);
      return (await auditOfPosition(db, user.id, pos.id)).map((a) => ({ id: a.id, position_id: a.position_id, source: a.source, action: a.action, detail: a.detail === null ? null : (JSON.parse(a.detail) as unknown), ts: a.ts }));
    },
  );
}

/** Registers the engine webhook (raw-body scope) and the engine API (bearer-token scope). */
export async function engineRoutes(app: FastifyInstance, opts: EngineRouteOptions): Promise<void> {
  await app.register(engineHookRoutes, opts);
  await app.register(engineApiRoutes, opts);
}
