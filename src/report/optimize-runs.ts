import { finite, objectOf, paramsOf, type RunParams } from './run-files.ts';

/** The file an optimisation run folder holds (written by `halyard optimize`). */
export const OPTIMIZE_FILE = 'optimize.json';

/** An optimisation run found under the output folder: what was searched and the winner. */
export interface OptimizeListing {
  /** The run's folder name. */
  readonly id: string;
  readonly strategy: string;
  /** Search method: grid, random, tpe, … */
  readonly method: string;
  /** What was maximised: sharpe, sortino, calmar, profit-factor, return, … */
  readonly objective: string;
  /** The candles it ran on (empty strings when the file does not say): symbol, base timeframe, first and last bar (ISO). */
  readonly symbol: string;
  readonly timeframe: string;
  readonly from: string;
  readonly to: string;
  /** Combinations evaluated. */
  readonly combinations: number;
  /** The winner's parameters. */
  readonly best_params: RunParams;
  /** The winner's objective value (return as a fraction, like results.json), null when the file gives none. */
  readonly best_score: number | null;
  /** Epoch ms optimize.json was written. */
  readonly created_at: number;
}

/** results.json summary field of each objective whose name differs from it. */
const SUMMARY_FIELD: Readonly<Record<string, string>> = { 'profit-factor': 'profitFactor', return: 'totalReturn' };

/** The objective's name: a string, or an object naming it (`{ metric }` or `{ name }`, e.g. with a min-trades constraint). */
function objectiveName(v: unknown): string {
  if (typeof v === 'string') return v;
  const o = objectOf(v);
  const name = o?.metric ?? o?.name;
  return typeof name === 'string' ? name : '';
}

/**
 * The listing of an optimize.json value, or one sentence saying why it is not one (it must say
 * `kind: 'optimize'` and name its strategy and combinations).
 */
export function optimizeListing(id: string, value: unknown, writtenAt: number): OptimizeListing | string {
  const o = objectOf(value);
  if (!o || o.kind !== 'optimize' || typeof o.strategy !== 'string' || !Array.isArray(o.combinations)) {
    return `${OPTIMIZE_FILE} is not an optimisation run (expected kind "optimize", a strategy and a list of combinations)`;
  }
  const objective = objectiveName(o.objective);
  const best = objectOf(o.best);
  const summary = objectOf(best?.summary);
  const data = objectOf(o.data);
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  const score = finite(best?.score) ?? finite(summary?.[SUMMARY_FIELD[objective] ?? objective]);
  return {
    id,
    strategy: o.strategy,
    method: typeof o.method === 'string' ? o.method : '',
    objective,
    symbol: text(data?.symbol),
    timeframe: text(data?.timeframe),
    from: text(data?.fromIso),
    to: text(data?.toIso),
    combinations: o.combinations.length,
    best_params: paramsOf(best?.params),
    best_score: score,
    created_at: Math.round(writtenAt),
  };
}
