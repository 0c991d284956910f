import type { RejectionRecord, SeriesPoint, Summary, TradeRecord } from '../core/results.ts';
import { TIMEFRAME_MS } from '../core/timeframe.ts';
import type { BacktestConfig, BacktestResult, OrderRecord } from '../engine/result.ts';
import { isoTime } from './format.ts';
import type { MonteCarloSection } from './monte-carlo.ts';
import { sampleEquityCurve } from './sampling.ts';

/** Version of the results.json layout; bump on any breaking change. */
export const RESULTS_VERSION = 1;

/** The run configuration as written to results.json: params sorted by key, plus ISO range times. */
export type ResultsConfig = BacktestConfig & { readonly fromIso: string; readonly toIso: string };

/** A trade as written to results.json: every TradeRecord field plus ISO entry/exit times. */
export type ResultsTrade = TradeRecord & { readonly entryTimeIso: string; readonly exitTimeIso: string };

/** A rejection as written to results.json, plus its ISO time. */
export type ResultsRejection = RejectionRecord & { readonly tsIso: string };

/** The content of results.json. */
export interface ResultsJson {
  readonly version: typeof RESULTS_VERSION;
  readonly config: ResultsConfig;
  readonly summary: Summary;
  readonly trades: readonly ResultsTrade[];
  readonly rejections: readonly ResultsRejection[];
  /** Equity sampled hourly (runs < 30 days) or daily, at the last bar of each period (see sampleEquityCurve). */
  readonly equityCurve: readonly SeriesPoint[];
  /** Positions still open at the end, closed at the last close as `end_of_data`. */
  readonly forcedCloses: number;
  /** Resting entries that ended (only in runs that placed any). */
  readonly orders?: readonly OrderRecord[];
  /** Bootstrap of the trade sequence (runs with two trades or more, unless turned off). */
  readonly monteCarlo?: MonteCarloSection;
}

// Key order of each object in the file. `Record<keyof T, null>` makes the compiler check that every field
// is listed exactly once, so a new field cannot silently drop out of (or reorder) the output.
const CONFIG_KEYS: Record<keyof ResultsConfig, null> = {
  strategy: null, params: null, exchange: null, symbol: null, timeframe: null, timeframes: null,
  from: null, fromIso: null, to: null, toIso: null, initialBalance: null, leverage: null,
  makerFeeBps: null, takerFeeBps: null, slippageBps: null, funding: null, fill: null, slTpPolicy: null,
  positionMode: null, maintenanceMarginRate: null, drillDown: null, seed: null, warmup: null,
};
const SUMMARY_KEYS: Record<keyof Summary, null> = {
  initialBalance: null, finalEquity: null, totalReturn: null, cagr: null, maxDrawdown: null,
  maxDrawdownDuration: null, sharpe: null, sortino: null, calmar: null, trades: null, winRate: null,
  profitFactor: null, expectancy: null, avgWin: null, avgLoss: null, exposure: null, fees: null,
  funding: null, liquidations: null, rejectedOrders: null, ambiguousCandles: null, drilledDownCandles: null,
};
const TRADE_KEYS: Record<keyof ResultsTrade, null> = {
  id: null, symbol: null, side: null, positionSide: null, qty: null, entryPrice: null, exitPrice: null,
  entryTime: null, entryTimeIso: null, exitTime: null, exitTimeIso: null, grossPnl: null, fees: null,
  funding: null, pnl: null, pnlPercent: null, maxAdverse: null, exitReason: null, entries: null, exits: null,
};
const REJECTION_KEYS: Record<keyof ResultsRejection, null> = {
  ts: null, tsIso: null, symbol: null, side: null, reason: null, detail: null,
};

/** A copy of `src` with exactly the keys of `order`, in that order (missing fields become undefined). */
function ordered<T extends object>(src: T, order: Record<keyof T, null>): T {
  const out: Record<string, unknown> = {};
  const rec = src as Record<string, unknown>;
  for (const k of Object.keys(order)) out[k] = rec[k];
  return out as T;
}

/** Params with keys in code-point order (so insertion order of the caller's object does not matter). */
function sortedParams(p: BacktestConfig['params']): BacktestConfig['params'] {
  const out: Record<string, number | string | boolean> = {};
  for (const k of Object.keys(p).sort()) out[k] = p[k] as number | string | boolean;
  return out;
}

/** The results.json object of a run (deterministic: depends only on `result` and the seeded `monteCarlo`). */
export function toResultsJson(result: BacktestResult, monteCarlo: MonteCarloSection | null = null): ResultsJson {
  const c = result.config;
  const config = ordered<ResultsConfig>(
    { ...c, params: sortedParams(c.params), timeframes: [...c.timeframes], drillDown: [...c.drillDown], fromIso: isoTime(c.from), toIso: isoTime(c.to) },
    CONFIG_KEYS,
  );
  const trades = result.trades.map((t) =>
    ordered<ResultsTrade>({ ...t, entryTimeIso: isoTime(t.entryTime), exitTimeIso: isoTime(t.exitTime) }, TRADE_KEYS),
  );
  const rejections = result.rejections.map((r) => ordered<ResultsRejection>({ ...r, tsIso: isoTime(r.ts) }, REJECTION_KEYS));
  const barMs = TIMEFRAME_MS[c.timeframe];
  return {
    version: RESULTS_VERSION,
    config,
    summary: ordered(result.summary, SUMMARY_KEYS),
    trades,
    rejections,
    equityCurve: sampleEquityCurve(result.candles.ts, result.equity, barMs),
    forcedCloses: result.forcedCloses,
    orders: result.orders,
    ...(monteCarlo ? { monteCarlo } : {}),
  };
}

/** results.json text: two-space indented, stable key order, trailing newline; byte-identical for equal input. */
export function serializeResults(result: BacktestResult, monteCarlo: MonteCarloSection | null = null): string {
  return `${JSON.stringify(toResultsJson(result, monteCarlo), null, 2)}\n`;
}
