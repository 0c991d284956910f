import { z } from 'zod';
import { asciiSymbol, MAX_MULTIPLIER, MAX_PRICE, MAX_QTY, symbolRefusal } from '../core/instrument.ts';

/** Error answer. */
export const ErrorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) }).describe('Error');

const side = z.enum(['long', 'short']);
const num = z.number();
const nnum = z.number().nullable();
/** A quantity in a request: finite, > 0, at most MAX_QTY (docs/signals.md, Limits). */
const qtyInput = z.number().positive().max(MAX_QTY);
/** A price in a request: finite, > 0, at most MAX_PRICE. */
const priceInput = z.number().positive().max(MAX_PRICE);

/** A symbol in a request or a query: plain ASCII in NFKC form, else refused naming it (never case-folded). */
export const SymbolInput = z
  .string()
  .min(1)
  .max(100)
  .refine((s) => asciiSymbol(s) !== null, { error: (iss) => symbolRefusal('symbol', String(iss.input)) });

/** A position on a target (GET /api/positions). */
export const PositionSchema = z.object({
  id: z.string(),
  symbol: z.string(),
  side,
  position_side: side.nullable(),
  size: num,
  entry_price: num,
  mark_price: num,
  pnl: num.describe('unrealized PnL at mark_price (quote)'),
  realized_pnl: num,
  max_adverse: num.describe('worst unrealized loss seen (quote): the drawdown of the position'),
  exchange: z.string(),
  env: z.string(),
  account_type: z.string(),
  target: z.string(),
  strategy: z.string().nullable(),
  tp_price: nnum,
  sl_price: nnum,
  source: z.string(),
  opened_by: z.string(),
  recorder_id: z.number().nullable(),
  status: z.string(),
  opened_at: num,
  closed_at: nnum,
  close_reason: z.string().nullable().describe('why it closed: closed_externally, closed_from_dashboard, stop_loss, take_profit; null for a close by signal, order or engine'),
  broker_size: nnum.describe("size the target's venue holds for this symbol and leg at its latest snapshot (null before one)"),
  broker_entry_price: nnum,
  diverged: z.boolean().describe("the venue's position differs from this one"),
});

/** One entry (open / add / reduce / close) of a signal position. */
export const EntrySchema = z.object({ kind: z.string(), qty: num, price: num, realized_pnl: num, ts: num, signal_id: nnum });

/** The fields every view of a stored position shares (`positionCore` in the store). */
export const PositionCoreSchema = z.object({
  id: z.string(),
  symbol: z.string(),
  side: z.string(),
  position_side: z.string().nullable(),
  status: z.string(),
  size: num,
  max_size: num,
  entry_price: num,
  realized_pnl: num,
  tp_price: nnum,
  sl_price: nnum,
  opened_at: num,
  closed_at: nnum,
});

/** A recorder's signal position with its entries. */
export const RecorderPositionSchema = PositionCoreSchema.extend({
  mark_price: num,
  pnl: num,
  max_adverse: num,
  exit_price: nnum,
  entries: z.array(EntrySchema),
});

/** A recorder as the API shows it (with its webhook URL: the secret is the user's own). */
export const RecorderSchema = z.object({
  id: z.number(),
  name: z.string(),
  position_mode: z.enum(['oneway', 'hedge']),
  max_lag_seconds: num,
  default_qty: num,
  strategy: z.string().nullable(),
  webhook_url: z.string(),
  targets: z.array(z.object({ target: z.string(), multiplier: num })),
  created_at: num,
});

/** Body of POST /api/recorders. */
export const NewRecorderSchema = z.object({
  name: z.string().min(1).max(100),
  position_mode: z.enum(['oneway', 'hedge']).default('oneway'),
  max_lag_seconds: z.number().positive().max(86_400 * 7).optional(),
  default_qty: qtyInput.optional(),
  strategy: z.string().max(100).nullable().optional(),
  targets: z
    .array(z.object({ target: z.string(), multiplier: z.number().positive().max(MAX_MULTIPLIER).default(1) }))
    .max(8)
    .optional()
    .describe('where its signals trade: absent → sim:paper × 1; [] → tracking only (positions from the signals, no orders anywhere)'),
});

/** How a signal went on one target it trades on, summarised from its orders there. */
export const SignalExecutionSchema = z.object({
  target: z.string().describe('exchange:env'),
  status: z
    .enum(['filled', 'partially_filled', 'pending', 'open', 'canceled', 'failed', 'rejected', 'nothing_to_do'])
    .describe('pending: queued or waiting to retry (reason says why); open: resting at the venue; nothing_to_do: the signal moved nothing there'),
  reason: z.string().nullable().describe('why it failed, was rejected or waits to retry; null otherwise'),
  orders: z.number().describe('orders the signal made there (bracket cancels that went through left out)'),
  qty: num.describe('base units its market orders asked for (its brackets when it only moved levels)'),
  filled_qty: num.describe('base units of those that filled'),
  avg_fill_price: nnum,
  next_attempt_at: nnum.describe('epoch ms of the next try of a pending order'),
});

/** A stored signal delivery. */
export const SignalSchema = z.object({
  id: z.number(),
  recorder_id: z.number(),
  received_at: num,
  format: z.string(),
  action: z.string(),
  ticker: z.string(),
  qty: nnum,
  price: nnum,
  signal_time: nnum,
  order_id: z.string().nullable(),
  target_size: nnum,
  position_side: z.string().nullable(),
  stop_loss: nnum,
  take_profit: nnum,
  outcome: z.enum(['accepted', 'duplicate', 'rejected']),
  reason: z.string().nullable(),
  raw_body: z.string(),
  content_type: z.string().nullable(),
  executions: z.array(SignalExecutionSchema).describe('per target: what the signal became there (empty for rejected and duplicate signals)'),
});

/** A closed trade. */
export const TradeSchema = z.object({
  id: z.number(),
  position_id: z.string(),
  recorder_id: z.number().nullable(),
  target: z.string().nullable(),
  source: z.string(),
  strategy: z.string().nullable(),
  symbol: z.string(),
  side: z.string(),
  qty: num,
  entry_price: num,
  exit_price: num,
  realized_pnl: num,
  fees: num,
  max_adverse: num,
  opened_at: num,
  closed_at: num,
});

/** A target with what the user has there. */
export const TargetSchema = z.object({
  target: z.string(),
  exchange: z.string(),
  env: z.string(),
  account_type: z.string(),
  has_account: z.boolean(),
  traded: z.boolean().describe("the env is in the user's trading_mode"),
});

/** Body of POST /api/accounts (credentials are write-only). */
export const NewAccountSchema = z.object({
  target: z.string(),
  label: z.string().max(100).default(''),
  api_key: z.string().min(1).max(512),
  api_secret: z.string().min(1).max(4096),
  password: z.string().max(512).optional(),
});

/** An account as the API shows it: never the credentials. */
export const AccountSchema = z.object({ id: z.number(), target: z.string(), label: z.string(), created_at: num });

/** A numeric id in a path. */
export const IdParams = z.object({ id: z.coerce.number().int().positive() });

const orderSide = z.enum(['buy', 'sell']);
const orderType = z.enum(['market', 'limit', 'stop', 'take_profit']);

/** An order (intent) as the API shows it: what was asked, where it stands, the venue's last answer. */
export const OrderSchema = z.object({
  id: z.number(),
  target: z.string(),
  symbol: z.string(),
  action: z.enum(['place', 'cancel']),
  role: z.string().describe('entry, exit, stop_loss, take_profit, bracket, close or manual'),
  side: orderSide,
  type: orderType,
  qty: num,
  price: nnum,
  trigger_price: nnum,
  position_side: side.nullable(),
  reduce_only: z.boolean(),
  client_order_id: z.string(),
  status: z.string().describe('pending, sending, open, filled, canceled, rejected, failed (done for cancels)'),
  attempts: z.number(),
  next_attempt_at: nnum,
  error: z.string().nullable(),
  error_code: z.string().nullable(),
  venue_order_id: z.string().nullable(),
  filled_qty: num,
  avg_fill_price: nnum,
  source: z.string(),
  opened_by: z.string(),
  recorder_id: z.number().nullable(),
  signal_id: z.number().nullable(),
  cancels_order_id: z.number().nullable(),
  raw: z.unknown().describe("the venue's last answer, as it sent it"),
  created_at: num,
  updated_at: num,
});

/** Target of a request: `exchange:env`, or exchange with env / legacy account_type. */
const targetFields = {
  target: z.string().optional().describe('exchange:env, e.g. binance:paper'),
  exchange: z.string().optional(),
  env: z.string().optional(),
  account_type: z.string().optional(),
};

/** POST /api/orders. */
export const NewOrderSchema = z.object({
  ...targetFields,
  symbol: SymbolInput.describe('BTCUSDT or BTC/USDT:USDT'),
  side: orderSide,
  type: orderType.default('market'),
  qty: qtyInput,
  price: priceInput.optional(),
  trigger_price: priceInput.optional(),
  position_side: side.optional().describe('hedge mode: the leg'),
  reduce_only: z.boolean().optional(),
  client_order_id: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .optional()
    .describe('idempotency key: the same key places one order'),
  stop_loss: priceInput.optional().describe('after the entry fills: a reduce-only stop for the filled quantity at this trigger price'),
  take_profit: priceInput.optional().describe('after the entry fills: a reduce-only take-profit for the filled quantity at this trigger price'),
});

/** POST /api/positions/close. */
export const ClosePositionSchema = z.object({
  ...targetFields,
  symbol: SymbolInput.optional().describe('without position_id: close what the venue holds of this symbol that no ledger position explains (an untracked row)'),
  position_side: side.optional(),
  position_id: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe("close exactly this position on the target: a signal position closes in its recorder (every linked target), any other with an order of its size booked against it"),
});

/** A position as a venue reported it at the latest snapshot. */
export const VenuePositionSchema = z.object({
  target: z.string(),
  symbol: z.string(),
  side,
  position_side: side.nullable(),
  size: num,
  entry_price: num,
  mark_price: nnum,
  pnl: nnum,
  fetched_at: num,
});
