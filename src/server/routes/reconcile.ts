import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { HalyardError } from '../../core/errors.ts';
import type { Clock } from '../../core/ports.ts';
import { parseTargetKey } from '../../exchange/targets.ts';
import { adoptOrphan, dismissIssue, issueDetail, listIssues, type IssueRow } from '../../store/reconciliation.ts';
import type { Database } from '../../store/schema.ts';
import { listSnapshots, type SnapshotRow } from '../../store/snapshots.ts';
import type { Monitor } from '../../tracker/monitor.ts';
import { requireUser, userOf } from '../auth.ts';
import { ErrorSchema, IdParams } from '../schemas.ts';
import { targetScope } from '../target-query.ts';
import { AdoptedSchema, IssueQuerySchema, IssueSchema, RefreshBodySchema, SnapshotPointSchema, SnapshotQuerySchema, TargetHistorySchema } from '../schemas-reconcile.ts';

/** What the reconciliation routes need. */
export interface ReconcileRouteOptions {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  readonly monitor: Monitor;
}

const errors = { 400: ErrorSchema, 401: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 502: ErrorSchema, 503: ErrorSchema };
const auth = [{ bearerAuth: [] }];
const LABEL = { orphan: 'untracked', ghost: 'ghost', conflict: 'conflict' } as const;

const side = (s: string | null): 'long' | 'short' | null => (s === 'long' || s === 'short' ? s : null);

/** An issue as the API shows it: both values side by side. */
export function issueView(r: IssueRow): z.infer<typeof IssueSchema> {
  const t = parseTargetKey(r.target_key);
  const d = issueDetail(r);
  const kind = r.kind as keyof typeof LABEL;
  let ids: string[] = [];
  try {
    ids = JSON.parse(r.position_ids ?? '[]') as string[];
  } catch {
    ids = [];
  }
  return {
    id: r.id,
    target: t.key,
    exchange: t.exchange,
    env: t.env,
    symbol: r.symbol,
    side: r.side === 'short' ? 'short' : 'long',
    kind,
    label: LABEL[kind],
    status: r.status as z.infer<typeof IssueSchema>['status'],
    ledger_side: side(d.ledger_side),
    ledger_qty: r.ledger_qty,
    ledger_price: r.ledger_price,
    exchange_side: side(d.exchange_side),
    exchange_qty: r.exchange_qty,
    exchange_price: r.exchange_price,
    position_ids: ids,
    flat_checks: r.flat_checks,
    first_seen: r.first_seen,
    last_seen: r.last_seen,
    resolved_at: r.resolved_at,
    resolution: r.resolution,
  };
}

const pointView = (r: SnapshotRow): z.infer<typeof SnapshotPointSchema> => ({
  id: r.id,
  ts: r.ts,
  trigger: r.trigger,
  status: r.status === 'ok' ? 'ok' : 'failed',
  balance: r.balance,
  equity: r.equity,
  unrealized_pnl: r.unrealized_pnl,
  positions: r.positions,
  error: r.error,
});

/** Equity history (exchange snapshots), a manual refresh, reconciliation issues and adopting an orphan. */
export async function reconcileRoutes(root: FastifyInstance, opts: ReconcileRouteOptions): Promise<void> {
  const { db, clock, monitor } = opts;
  requireUser(root, db);
  const app = root.withTypeProvider<ZodTypeProvider>();

  app.get(
    '/api/snapshots',
    {
      schema: {
        tags: ['reconciliation'],
        security: auth,
        summary: "Equity history per target from the exchange snapshots (scheduled, after engine events, manual)",
        querystring: SnapshotQuerySchema,
        response: { 200: z.array(TargetHistorySchema), ...errors },
      },
    },
    async (req) => {
      const q = req.query;
      const rows = await listSnapshots(db, { userId: userOf(req).id, status: q.status, ...targetScope(q), ...(q.from !== undefined ? { from: q.from } : {}), ...(q.to !== undefined ? { to: q.to } : {}) });
      const byTarget = new Map<string, SnapshotRow[]>();
      for (const r of rows) byTarget.set(r.target_key, [...(byTarget.get(r.target_key) ?? []), r]);
      return [...byTarget.entries()].map(([key, list]) => {
        const t = parseTargetKey(key);
        return { target: t.key, exchange: t.exchange, env: t.env, account_type: t.accountType, points: list.map(pointView) };
      });
    },
  );

  app.post(
    '/api/snapshots',
    {
      schema: {
        tags: ['reconciliation'],
        security: auth,
        summary: 'Snapshot one target now and reconcile it (503 with the error when the exchange does not answer)',
        body: RefreshBodySchema,
        response: { 201: SnapshotPointSchema, ...errors },
      },
    },
    async (req, reply) => {
      const { targetKey } = targetScope(req.body);
      if (!targetKey) throw new HalyardError('invalid_input', 'say which target: target (e.g. bybit:paper), or exchange with env');
      const { snapshot } = await monitor.check(userOf(req).id, targetKey, 'manual');
      if (!snapshot.row) throw new HalyardError('internal', 'a manual snapshot stores its row');
      return reply.code(201).send(pointView(snapshot.row));
    },
  );

  app.get(
    '/api/reconciliation',
    {
      schema: {
        tags: ['reconciliation'],
        security: auth,
        summary: 'Differences between the ledger and the exchanges (orphans shown as untracked, ghosts, conflicts) with both values',
        querystring: IssueQuerySchema,
        response: { 200: z.array(IssueSchema), ...errors },
      },
    },
    async (req) => (await listIssues(db, { userId: userOf(req).id, status: req.query.status, ...targetScope(req.query) })).map(issueView),
  );

  app.post(
    '/api/reconciliation/:id/adopt',
    {
      schema: {
        tags: ['reconciliation'],
        security: auth,
        summary: 'Adopt an untracked exchange position: it becomes a position with source exchange on its target',
        params: IdParams,
        response: { 201: AdoptedSchema, ...errors },
      },
    },
    async (req, reply) => {
      const { issue, positionId } = await adoptOrphan(db, userOf(req).id, req.params.id, 'webapp', clock.now());
      return reply.code(201).send({ issue: issueView(issue), position_id: positionId });
    },
  );

  app.post(
    '/api/reconciliation/:id/dismiss',
    {
      schema: {
        tags: ['reconciliation'],
        security: auth,
        summary: 'Dismiss an open issue: it leaves the open list and stays dismissed while the difference lasts',
        params: IdParams,
        response: { 200: IssueSchema, ...errors },
      },
    },
    async (req) => issueView(await dismissIssue(db, userOf(req).id, req.params.id, clock.now())),
  );
}
