import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { enginePositionData } from '../core/engine-event.ts';
import { HalyardError } from '../core/errors.ts';
import type { Position } from '../core/ledger.ts';
import { listRunPositions, paperRun, runPosition } from '../store/paper-runs.ts';
import type { Database, RunPositionsTable } from '../store/schema.ts';
import { installErrorHandling } from './errors.ts';

/** What the positions API of a paper run serves from. */
export interface PaperApiOptions {
  readonly db: Kysely<Database>;
  readonly runId: string;
  /** Bearer token callers must send. */
  readonly token: string;
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function wire(row: RunPositionsTable, exitReason: string | null) {
  return enginePositionData(JSON.parse(row.data) as Position, exitReason);
}

const Limit = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });

/**
 * The small authenticated HTTP API of a running paper run, which the tracking server polls when its
 * events stop arriving: `GET /positions/active`, `GET /positions/history?limit=`, `GET /positions/:id`,
 * each answering `{ run_id, target, strategy, positions: [...] }` with positions in the engine-event
 * wire form; `GET /healthz` without a token.
 */
export async function buildPaperApi(o: PaperApiOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 4096 });
  installErrorHandling(app);
  const head = async () => {
    const run = await paperRun(o.db, o.runId);
    if (!run) throw new HalyardError('not_found', `no run ${o.runId}`);
    return { run_id: run.id, target: run.target_key, strategy: run.strategy, status: run.status, cursor_ts: run.cursor_ts };
  };
  app.get('/healthz', async () => ({ ok: true, ...(await head()) }));
  await app.register(async (scope) => {
    scope.addHook('onRequest', async (req) => {
      const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
      if (!m?.[1] || !sameToken(m[1], o.token)) throw new HalyardError('unauthorized', 'send the run API token: Authorization: Bearer <token>');
    });
    scope.get('/positions/active', async () => {
      const rows = await listRunPositions(o.db, o.runId, 'open', 1000);
      return { ...(await head()), positions: rows.map((r) => wire(r, null)) };
    });
    scope.get('/positions/history', async (req) => {
      const q = Limit.safeParse(req.query);
      if (!q.success) throw new HalyardError('invalid_input', `limit must be a whole number from 1 to 1000`);
      const rows = await listRunPositions(o.db, o.runId, 'closed', q.data.limit);
      const reasons = await exitReasons(o.db, o.runId, rows.map((r) => r.position_id));
      return { ...(await head()), positions: rows.map((r) => wire(r, reasons.get(r.position_id) ?? null)) };
    });
    scope.get('/positions/:id', async (req) => {
      const id = (req.params as { id: string }).id;
      const row = await runPosition(o.db, o.runId, id);
      if (!row) throw new HalyardError('not_found', `no position ${id} in run ${o.runId}`);
      const reasons = await exitReasons(o.db, o.runId, [id]);
      return { ...(await head()), positions: [wire(row, reasons.get(id) ?? null)] };
    });
  });
  return app;
}

async function exitReasons(db: Kysely<Database>, runId: string, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('run_trades').select(['position_id', 'exit_reason']).where('run_id', '=', runId).where('position_id', 'in', [...ids]).execute();
  return new Map(rows.map((r) => [r.position_id, r.exit_reason]));
}
