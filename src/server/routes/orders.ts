import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Side } from '../../core/types.ts';
import { parseTargetKey } from '../../exchange/targets.ts';
import { listIntents, listVenuePositions, userIntent, type IntentRow } from '../../store/order-intents.ts';
import type { Database } from '../../store/schema.ts';
import type { ManualOrders } from '../../tracker/manual-orders.ts';
import type { PositionCloser } from '../../tracker/closes.ts';
import { HalyardError } from '../../core/errors.ts';
import { requireUser, userOf } from '../auth.ts';
import { requiredTarget } from '../target-query.ts';
import { ClosePositionSchema, ErrorSchema, IdParams, NewOrderSchema, OrderSchema, VenuePositionSchema } from '../schemas.ts';

/** What the order routes need. */
export interface OrderRouteOptions {
  readonly db: Kysely<Database>;
  readonly orders: ManualOrders;
  readonly closer: PositionCloser;
}

/** The order as the API shows it. */
export function orderView(r: IntentRow): z.infer<typeof OrderSchema> {
  let raw: unknown = null;
  try {
    raw = r.raw === null ? null : JSON.parse(r.raw);
  } catch {
    raw = r.raw;
  }
  return {
    id: r.id,
    target: r.target_key,
    symbol: r.symbol,
    action: r.action === 'cancel' ? 'cancel' : 'place',
    role: r.role,
    side: r.side === 'sell' ? 'sell' : 'buy',
    type: r.type as z.infer<typeof OrderSchema>['type'],
    qty: r.qty,
    price: r.price,
    trigger_price: r.trigger_price,
    position_side: (r.position_side as Side | null) ?? null,
    reduce_only: r.reduce_only === 1,
    client_order_id: r.client_id,
    status: r.status,
    attempts: r.attempts,
    next_attempt_at: r.next_attempt_at,
    error: r.last_error,
    error_code: r.last_error_code,
    venue_order_id: r.venue_order_id,
    filled_qty: r.filled_qty,
    avg_fill_price: r.avg_fill_price,
    source: r.source,
    opened_by: r.opened_by,
    recorder_id: r.recorder_id,
    signal_id: r.signal_id,
    cancels_order_id: r.cancels_intent_id,
    raw,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

const errors = { 400: ErrorSchema, 401: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 422: ErrorSchema, 502: ErrorSchema, 503: ErrorSchema };
const auth = [{ bearerAuth: [] }];

/** Orders through the venues: place, cancel, close a position, list; and the venues' own positions. */
export async function orderRoutes(root: FastifyInstance, opts: OrderRouteOptions): Promise<void> {
  const { db, orders, closer } = opts;
  requireUser(root, db);
  const app = root.withTypeProvider<ZodTypeProvider>();

  app.post(
    '/api/orders',
    {
      schema: {
        tags: ['orders'],
        security: auth,
        summary: 'Place an order on a target through its venue (recorded with source webapp, opened_by user)',
        body: NewOrderSchema,
        response: { 200: OrderSchema, 201: OrderSchema, 202: OrderSchema, ...errors },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const { intent, created } = await orders.place(userOf(req).id, {
        targetKey: requiredTarget(b),
        symbol: b.symbol,
        side: b.side,
        type: b.type,
        qty: b.qty,
        ...(b.price !== undefined ? { price: b.price } : {}),
        ...(b.trigger_price !== undefined ? { triggerPrice: b.trigger_price } : {}),
        ...(b.position_side !== undefined ? { positionSide: b.position_side } : {}),
        ...(b.reduce_only !== undefined ? { reduceOnly: b.reduce_only } : {}),
        ...(b.client_order_id !== undefined ? { clientKey: b.client_order_id } : {}),
        ...(b.stop_loss !== undefined ? { stopLoss: b.stop_loss } : {}),
        ...(b.take_profit !== undefined ? { takeProfit: b.take_profit } : {}),
      });
      // 202: the venue is unreachable for now; the order is queued and retried per policy.
      return reply.code(!created ? 200 : intent.status === 'pending' ? 202 : 201).send(orderView(intent));
    },
  );

  app.get(
    '/api/orders',
    {
      schema: {
        tags: ['orders'],
        security: auth,
        summary: 'Orders of signals and of the API, newest first (failed ones carry their error)',
        querystring: z.object({
          status: z
            .string()
            .max(200)
            .optional()
            .describe('one status or several, comma-separated: pending, sending, open, filled, canceled, rejected, failed, done'),
          action: z.enum(['place', 'cancel']).optional().describe('only orders (place) or only cancel requests (cancel)'),
          target: z.string().optional(),
          recorder_id: z.coerce.number().int().positive().optional(),
          before: z.coerce.number().int().positive().optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
        }),
        response: { 200: z.object({ items: z.array(OrderSchema), next: z.number().nullable() }), ...errors },
      },
    },
    async (req) => {
      const q = req.query;
      const page = await listIntents(db, {
        userId: userOf(req).id,
        limit: q.limit,
        ...(q.status ? { status: q.status.split(',').map((x) => x.trim()).filter((x) => x.length > 0) } : {}),
        ...(q.action ? { action: q.action } : {}),
        ...(q.target ? { targetKey: parseTargetKey(q.target).key } : {}),
        ...(q.recorder_id ? { recorderId: q.recorder_id } : {}),
        ...(q.before ? { before: q.before } : {}),
      });
      return { items: page.items.map(orderView), next: page.next };
    },
  );

  app.get('/api/orders/:id', { schema: { tags: ['orders'], security: auth, params: IdParams, response: { 200: OrderSchema, ...errors } } }, async (req) =>
    orderView(await userIntent(db, userOf(req).id, req.params.id)),
  );

  app.delete(
    '/api/orders/:id',
    { schema: { tags: ['orders'], security: auth, summary: 'Cancel an order at its venue', params: IdParams, response: { 200: OrderSchema, ...errors } } },
    async (req) => orderView(await orders.cancel(userOf(req).id, req.params.id)),
  );

  app.post(
    '/api/positions/close',
    {
      schema: {
        tags: ['positions'],
        security: auth,
        summary: 'Close one position on a target (position_id), or what the venue holds of a symbol beyond the ledger (symbol)',
        body: ClosePositionSchema,
        response: { 201: OrderSchema, 202: OrderSchema, ...errors },
      },
    },
    async (req, reply) => {
      const b = req.body;
      if (!b.position_id && !b.symbol) throw new HalyardError('invalid_input', 'say which position to close: position_id (a row of the terminal) or symbol (what the venue holds beyond the ledger)');
      const intent = await closer.close(userOf(req).id, requiredTarget(b), b.position_id ? { positionId: b.position_id } : { symbol: b.symbol ?? '', ...(b.position_side ? { positionSide: b.position_side } : {}) });
      return reply.code(intent.status === 'pending' ? 202 : 201).send(orderView(intent));
    },
  );

  app.get(
    '/api/venue-positions',
    {
      schema: {
        tags: ['positions'],
        security: auth,
        summary: 'Positions the venues reported at their latest snapshot (taken after every order)',
        querystring: z.object({ target: z.string().optional() }),
        response: { 200: z.array(VenuePositionSchema), ...errors },
      },
    },
    async (req) => {
      const rows = await listVenuePositions(db, userOf(req).id, req.query.target ? parseTargetKey(req.query.target).key : undefined);
      return rows.map((r) => ({
        target: r.target_key,
        symbol: r.symbol,
        side: r.side === 'short' ? ('short' as const) : ('long' as const),
        position_side: (r.position_side as Side | null) ?? null,
        size: r.qty,
        entry_price: r.entry_price,
        mark_price: r.mark_price,
        pnl: r.unrealized_pnl,
        fetched_at: r.fetched_at,
      }));
    },
  );
}
