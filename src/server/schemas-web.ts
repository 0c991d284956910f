import { z } from 'zod';
import { PositionSchema } from './schemas.ts';

/** The signed-in user (GET /api/me). */
export const MeSchema = z.object({ id: z.number(), name: z.string(), trading_mode: z.string() });

/** The caller's latest price of each ticker (GET /api/marks; the `marks` push event). */
export const MarksSchema = z.record(z.string().describe('ticker, e.g. BTCUSDT'), z.object({ price: z.number(), ts: z.number().describe('epoch ms') }));

/** One row of the terminal: a ledger position, a venue position the ledger lacks, or one closed externally. */
export const TerminalRowSchema = PositionSchema.extend({
  kind: z
    .enum(['tracked', 'untracked', 'closed', 'closed_externally'])
    .describe('untracked: the venue holds it and no ledger position explains it; closed: closed on this target in the last day (its realized PnL counts in the summary)'),
  linked_targets: z.array(z.string()).describe("a signal position's recorder targets: closing it closes it on each of them"),
  issue_id: z.number().nullable().describe('the open reconciliation issue of an untracked row (adopt / dismiss it)'),
  closable: z.boolean().describe('the target\'s venue holds it, so POST /api/positions/close can close it (not an engine\'s own simulated position, not a closed row)'),
});

/** GET /api/terminal: one target's positions merged with the ledger. */
export const TerminalSchema = z.object({
  target: z.string(),
  exchange: z.string(),
  env: z.string(),
  account_type: z.string(),
  badge: z.enum(['DEMO', 'REAL']).describe('seed 003: DEMO for paper accounts, REAL for live ones'),
  snapshot_at: z.number().nullable().describe("the venue's latest snapshot (epoch ms), null before one"),
  rows: z.array(TerminalRowSchema),
});

/** A backtest run under the output folder (GET /api/backtests). */
export const BacktestRunSchema = z.object({
  id: z.string().describe('the run folder name'),
  strategy: z.string(),
  params: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).describe("the strategy's parameters the run used (defaults merged with overrides), keys sorted"),
  symbol: z.string(),
  exchange: z.string(),
  timeframe: z.string().describe('the base timeframe the loop walked'),
  from: z.string().describe('ISO time'),
  to: z.string().describe('ISO time'),
  created_at: z.number().describe('epoch ms the results were written'),
  trades: z.number(),
  net_profit: z.number().describe('quote'),
  final_equity: z.number().describe('quote'),
  return_pct: z.number().nullable().describe('percent'),
  max_drawdown_pct: z.number().nullable().describe('percent, a positive depth'),
  win_rate: z.number().nullable().describe('percent'),
  has_report: z.boolean(),
});

/** Chart data of a run: bars, equity, drawdown and trade markers, as the report draws them. */
export const ChartDataSchema = z.object({
  tf: z.string(),
  t: z.array(z.number()).describe('bar open times, epoch seconds'),
  o: z.array(z.number()),
  h: z.array(z.number()),
  l: z.array(z.number()),
  c: z.array(z.number()),
  v: z.array(z.number()),
  eq: z.array(z.number()),
  dd: z.array(z.number()).describe('drawdown in percent (<= 0)'),
  markers: z.array(z.tuple([z.number(), z.number(), z.number()])).describe('[time s, kind 0 long entry | 1 short entry | 2 long exit | 3 short exit, net PnL of the trade]'),
  markedTrades: z.number(),
  totalTrades: z.number(),
  pricePrecision: z.number(),
  initial: z.number(),
});

/** GET /api/backtests/:id: the run's results (summary, config, trades) and its chart. */
export const BacktestDetailSchema = z.object({
  run: BacktestRunSchema,
  summary: z.record(z.string(), z.unknown()),
  config: z.record(z.string(), z.unknown()),
  trades: z.array(z.record(z.string(), z.unknown())).describe('up to 500 trades, first first'),
  chart: ChartDataSchema.nullable().describe('null when the run has no report.html'),
});
