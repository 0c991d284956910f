import { z } from 'zod';

const side = z.enum(['long', 'short']);
const nnum = z.number().nullable();

/** One point of a target's equity history (GET /api/snapshots). */
export const SnapshotPointSchema = z.object({
  id: z.number(),
  ts: z.number().describe('epoch ms'),
  trigger: z.string().describe('scheduled, event, manual (or monitor for a failed check)'),
  status: z.enum(['ok', 'failed']),
  balance: nnum.describe('equity minus unrealized PnL (quote)'),
  equity: nnum.describe("the settlement currencies' totals (quote)"),
  unrealized_pnl: nnum,
  positions: nnum.describe('positions the exchange reported'),
  error: z.string().nullable(),
});

/** A target's equity history. */
export const TargetHistorySchema = z.object({
  target: z.string(),
  exchange: z.string(),
  env: z.string(),
  account_type: z.string(),
  points: z.array(SnapshotPointSchema),
});

/** Query of GET /api/snapshots. */
export const SnapshotQuerySchema = z.object({
  exchange: z.string().optional(),
  env: z.string().optional().describe('paper or live; wins over account_type'),
  account_type: z.string().optional(),
  from: z.coerce.number().int().nonnegative().optional().describe('epoch ms, inclusive'),
  to: z.coerce.number().int().nonnegative().optional().describe('epoch ms, inclusive'),
  status: z.enum(['ok', 'all']).default('ok').describe('ok: the equity history; all: failed snapshots too'),
});

/** Body of POST /api/snapshots: snapshot and reconcile one target now. */
export const RefreshBodySchema = z.object({
  target: z.string().optional().describe('exchange:env, e.g. bybit:paper'),
  exchange: z.string().optional(),
  env: z.string().optional(),
  account_type: z.string().optional(),
});

/** A difference between the ledger and the exchange, with both values. */
export const IssueSchema = z.object({
  id: z.number(),
  target: z.string(),
  exchange: z.string(),
  env: z.string(),
  symbol: z.string(),
  side: side.describe('the leg in hedge mode, else the side held'),
  kind: z.enum(['orphan', 'ghost', 'conflict']),
  label: z.enum(['untracked', 'ghost', 'conflict']).describe('untracked: the exchange holds it and the ledger does not (adoptable)'),
  status: z.enum(['open', 'resolved', 'adopted', 'closed_externally', 'dismissed']),
  ledger_side: side.nullable(),
  ledger_qty: nnum,
  ledger_price: nnum,
  exchange_side: side.nullable(),
  exchange_qty: nnum,
  exchange_price: nnum,
  position_ids: z.array(z.string()).describe('ledger positions involved'),
  flat_checks: z.number().describe('consecutive explicit flat reports (ghosts)'),
  first_seen: z.number(),
  last_seen: z.number(),
  resolved_at: nnum,
  resolution: z.string().nullable(),
});

/** Query of GET /api/reconciliation. */
export const IssueQuerySchema = z.object({
  status: z.enum(['open', 'all']).default('open'),
  exchange: z.string().optional(),
  env: z.string().optional(),
  account_type: z.string().optional(),
});

/** Answer of POST /api/reconciliation/:id/adopt. */
export const AdoptedSchema = z.object({ issue: IssueSchema, position_id: z.string() });
