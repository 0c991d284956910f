import type { SeriesPoint, Summary } from '../core/results.ts';
import { csvField } from './csv.ts';
import { isoTime } from './format.ts';
import type { Overfitting } from '../research/overfitting.ts';

/** Version of the optimize.json layout; bump on any breaking change. */
export const OPTIMIZE_VERSION = 1;

/** A parameter value as optimize.json writes it. */
type Value = number | string | boolean;

/** One evaluated combination: its parameters (the searched ones), summary, objective value and feasibility. */
export interface OptimizeCombination {
  /** 1 = best. */
  readonly rank: number;
  readonly params: Readonly<Record<string, Value>>;
  readonly summary: Summary;
  readonly score: number;
  /** False when it made fewer trades than `minTrades` (it ranks after every feasible one). */
  readonly feasible: boolean;
}

/** The candles a sweep ran on (times: first and last bar open, epoch ms). */
export interface OptimizeData {
  readonly exchange: string;
  readonly symbol: string;
  readonly timeframe: string;
  readonly from: number;
  readonly fromIso: string;
  readonly to: number;
  readonly toIso: string;
  readonly candles: number;
}

/** One walk-forward window: where it trained and tested (epoch ms, end exclusive), its winner and both results. */
export interface WalkForwardWindow {
  readonly window: number;
  readonly trainFrom: number;
  readonly trainTo: number;
  readonly testFrom: number;
  readonly testTo: number;
  readonly params: Readonly<Record<string, Value>>;
  /** The winner's in-sample summary (on the train window, from the configured balance). */
  readonly inSample: Summary;
  /** The winner's summary on the test window, from `startEquity`. */
  readonly outOfSample: Summary;
  /** Equity (quote) the test window started from: the previous window's ending equity. */
  readonly startEquity: number;
  readonly endEquity: number;
  /** Out-of-sample CAGR ÷ in-sample CAGR, null when the in-sample CAGR is not positive. */
  readonly efficiency: number | null;
}

/** The walk-forward part of optimize.json. */
export interface WalkForwardJson {
  readonly train: string;
  readonly test: string;
  readonly step: string;
  readonly anchored: boolean;
  /** Base candles before each test window that warm its indicators: the whole train window. */
  readonly warmup: 'train-window';
  readonly windows: readonly WalkForwardWindow[];
  /** The stitched out-of-sample curve's summary (its trades are every window's). */
  readonly outOfSample: Summary;
  /** Annualised OOS return (stitched CAGR) ÷ mean annualised IS return; null when the latter is not positive. */
  readonly efficiency: number | null;
  /** Stitched out-of-sample equity, sampled like results.json's equityCurve. */
  readonly equityCurve: readonly SeriesPoint[];
}

/** The overfitting block of optimize.json: research's figures as they are (Sharpe ratios per day, probabilities 0..1). */
export type OverfittingJson = Overfitting;

/** The content of optimize.json. */
export interface OptimizeJson {
  readonly version: typeof OPTIMIZE_VERSION;
  readonly kind: 'optimize';
  readonly strategy: string;
  readonly method: 'grid' | 'random' | 'tpe';
  readonly objective: string;
  readonly minTrades: number;
  /** Trials asked for (random, tpe) and the seed of the search; null for a grid. */
  readonly trials: number | null;
  readonly seed: number | null;
  /** Each parameter's spec: a range "lo..hi:step", a list, or one value (a --params-file reads it back). */
  readonly space: Readonly<Record<string, unknown>>;
  readonly constraints: readonly string[];
  /** Combinations of the space, and how many satisfy the constraints. */
  readonly spaceSize: number;
  readonly feasibleSize: number;
  readonly data: OptimizeData;
  /** Account, costs and fill rules every combination ran with (as results.json's config). */
  readonly settings: Readonly<Record<string, unknown>>;
  /** Every evaluated combination, best first. */
  readonly combinations: readonly OptimizeCombination[];
  /** The winner, whose full run is in best/ (null when nothing ran). */
  readonly best: { readonly params: Readonly<Record<string, Value>>; readonly score: number; readonly summary: Summary; readonly report: string } | null;
  readonly walkForward?: WalkForwardJson;
  /** Is the winner luck? Deflated Sharpe Ratio and PBO (CSCV) from every combination's daily returns. */
  readonly overfitting?: OverfittingJson;
}

/** The data block of optimize.json from the first and last bar open times. */
export function optimizeData(exchange: string, symbol: string, timeframe: string, from: number, to: number, candles: number): OptimizeData {
  return { exchange, symbol, timeframe, from, fromIso: isoTime(from), to, toIso: isoTime(to), candles };
}

/** The searched parameters that took more than one value (tables show these; the others are fixed). */
export function variedNames(o: OptimizeJson): string[] {
  return Object.keys(o.space).filter((n) => new Set(o.combinations.map((c) => c.params[n])).size > 1);
}

/** The parameters held at one value, as `name=value` words. */
export function fixedWords(o: OptimizeJson): string[] {
  const varied = new Set(variedNames(o));
  const first = o.combinations[0];
  return first ? Object.keys(o.space).filter((n) => !varied.has(n)).map((n) => `${n}=${String(first.params[n])}`) : [];
}

/** optimize.json text: two-space indented, trailing newline. */
export function serializeOptimize(o: OptimizeJson): string {
  return `${JSON.stringify(o, null, 2)}\n`;
}

/** optimize.csv: one row per combination, best first: rank, the parameters, score, feasible, then every summary metric. CRLF lines. */
export function optimizeCsv(o: OptimizeJson): string {
  const names = Object.keys(o.space);
  const first = o.combinations[0];
  const metrics = first ? Object.keys(first.summary) : [];
  const lines = [['rank', ...names, 'score', 'feasible', ...metrics].map(csvField).join(',')];
  for (const c of o.combinations) {
    const s = c.summary as unknown as Record<string, number>;
    lines.push([c.rank, ...names.map((n) => String(c.params[n])), c.score, String(c.feasible), ...metrics.map((m) => s[m] ?? null)].map(csvField).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** walk-forward.csv: one row per window (times ISO 8601 UTC), the winner's parameters, IS and OOS figures. CRLF lines. */
export function walkForwardCsv(w: WalkForwardJson, names: readonly string[]): string {
  const head = ['window', 'train_from', 'train_to', 'test_from', 'test_to', ...names, 'is_return', 'is_cagr', 'is_sharpe', 'is_trades', 'oos_return', 'oos_cagr', 'oos_sharpe', 'oos_max_drawdown', 'oos_trades', 'start_equity', 'end_equity', 'efficiency'];
  const lines = [head.map(csvField).join(',')];
  for (const x of w.windows) {
    const i = x.inSample;
    const o = x.outOfSample;
    lines.push([
      x.window, isoTime(x.trainFrom), isoTime(x.trainTo), isoTime(x.testFrom), isoTime(x.testTo), ...names.map((n) => String(x.params[n])),
      i.totalReturn, i.cagr, i.sharpe, i.trades, o.totalReturn, o.cagr, o.sharpe, o.maxDrawdown, o.trades, x.startEquity, x.endEquity, x.efficiency,
    ].map(csvField).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}
