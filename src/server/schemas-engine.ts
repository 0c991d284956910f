import { z } from 'zod';
import { PositionCoreSchema } from './schemas.ts';

const num = z.number();
const nnum = z.number().nullable();

/** An engine source as the API lists it: never the poll token; the signing secret only when created. */
export const EngineSourceSchema = z.object({
  id: z.string(),
  name: z.string(),
  target: z.string().nullable().describe('target assumed when an event names none'),
  webhook_url: z.string().describe('POST signed engine events here'),
  poll_url: z.string().nullable(),
  has_poll_token: z.boolean(),
  last_event_at: nnum,
  last_poll_at: nnum,
  created_at: num,
  secret: z.string().optional().describe('Standard Webhooks signing secret (whsec_…); only in the answer of the create'),
});

/** Body of POST /api/engine-sources. */
export const NewEngineSourceSchema = z.object({
  name: z.string().min(1).max(100),
  target: z.string().optional().describe('exchange:env, e.g. bybit:paper'),
  poll_url: z.string().url().optional().describe("base URL of the engine's positions API, e.g. http://127.0.0.1:8090"),
  poll_token: z.string().min(1).max(4096).optional().describe('bearer token for the positions API (stored encrypted, never returned)'),
});

/** A received engine event with its processing status. */
export const EngineEventSchema = z.object({
  id: num,
  source_id: z.string(),
  webhook_id: z.string(),
  event_type: z.string(),
  position_id: z.string().describe("the engine's own position id"),
  target: z.string().nullable(),
  symbol: z.string(),
  strategy: z.string().nullable(),
  event_ts: num,
  received_at: num,
  status: z.string().describe('received, processed, ignored (older than the state applied) or failed'),
  error: z.string().nullable(),
  processed_at: nnum,
  raw_body: z.string(),
});

/** A strategy with the analytics of its trades. */
export const StrategyStatsSchema = z.object({
  id: num,
  name: z.string(),
  created_at: num,
  trades: num,
  wins: num,
  win_rate: nnum.describe('wins / trades; null without trades'),
  pnl: num.describe('net realized PnL: realized − fees + funding (quote)'),
  max_drawdown: num.describe('largest fall of the cumulative net PnL from its peak, trades in closing order (quote)'),
  open_positions: num,
});

/** A position of a strategy. */
export const StrategyPositionSchema = PositionCoreSchema.extend({
  external_id: z.string().nullable(),
  engine_source_id: z.string().nullable(),
  target: z.string().nullable(),
  source: z.string(),
  strategy: z.string().nullable(),
  fees: num,
  funding: num,
  exit_price: nnum,
  close_reason: z.string().nullable(),
});

/** One audit row of a position. */
export const AuditSchema = z.object({
  id: num,
  position_id: z.string(),
  source: z.string(),
  action: z.string(),
  detail: z.unknown().describe('before / after values (JSON)'),
  ts: num,
});
