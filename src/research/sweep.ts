import type { Summary } from '../core/results.ts';
import { rankOrder, scoreOf, searchScore, type Objective } from './objective.ts';
import type { WorkerPool } from './pool.ts';
import type { Search } from './search/search.ts';
import { combinationAt, type Combination, type ParamSpace } from './space.ts';
import type { RunSpan } from './worker-protocol.ts';

/** One evaluated combination of a sweep. */
export interface Evaluation {
  /** Index of the combination in the space. */
  readonly index: number;
  readonly params: Combination;
  readonly summary: Summary;
  /** Daily simple returns (fractions), for the overfitting statistics; empty when the sweep keeps none (`keepDaily`). */
  readonly daily: Float64Array;
  /** Sharpe ratio per day of the daily returns (mean / sample std; 0 without variation), kept in every case. */
  readonly dailySharpe: number;
  /** The objective's value. */
  readonly score: number;
  /** False when the run made fewer trades than the minimum. */
  readonly feasible: boolean;
}

/** What a sweep is asked to do. */
export interface SweepOptions {
  readonly space: ParamSpace;
  readonly search: Search;
  readonly objective: Objective;
  /** Runs with fewer trades rank last (infeasible). */
  readonly minTrades: number;
  /** The candles each combination runs on (its warm-up may depend on its parameters). */
  readonly span: (params: Combination) => RunSpan;
  /** Hears how many combinations finished, as they finish. */
  readonly onDone?: (finished: number) => void;
  /** Keep every combination's daily returns (false: a sweep too large to hold them; their Sharpe stays). */
  readonly keepDaily?: boolean;
}

/** Sharpe ratio per observation: mean / sample standard deviation, 0 without variation. */
export function perPeriodSharpe(xs: Float64Array): number {
  const n = xs.length;
  if (n < 2) return 0;
  let m = 0;
  for (let k = 0; k < n; k++) m += xs[k] as number;
  m /= n;
  let v = 0;
  for (let k = 0; k < n; k++) v += ((xs[k] as number) - m) ** 2;
  const sd = Math.sqrt(v / (n - 1));
  return sd > 0 ? m / sd : 0;
}

const NO_DAYS = new Float64Array(0);

/**
 * Runs a search to its end on the pool: asks it for a batch, runs the batch on the workers, tells it the
 * scores (in the order it proposed them, so a seeded search repeats whatever the worker count), and so on.
 * Returns the evaluations in the order proposed.
 */
export async function sweep(pool: WorkerPool, o: SweepOptions): Promise<Evaluation[]> {
  const out: Evaluation[] = [];
  const size = Number.isFinite(o.search.batch) ? o.search.batch : Number.MAX_SAFE_INTEGER;
  for (let batch = o.search.ask(size); batch.length > 0; batch = o.search.ask(size)) {
    const items = batch.map((index) => {
      const params = combinationAt(o.space, index);
      return { index, params, span: o.span(params) };
    });
    const results = await pool.run(items, o.onDone);
    for (const it of items) {
      const r = results.get(it.index)!;
      const score = scoreOf(r.summary, o.objective);
      const daily = o.keepDaily === false ? NO_DAYS : r.daily;
      const e: Evaluation = { index: it.index, params: it.params, summary: r.summary, daily, dailySharpe: perPeriodSharpe(r.daily), score, feasible: r.summary.trades >= o.minTrades };
      o.search.tell(it.index, searchScore(e));
      out.push(e);
    }
  }
  return out;
}

/** The evaluations best first (feasible first, then by score, then in the order run). */
export function ranked(evals: readonly Evaluation[]): Evaluation[] {
  return rankOrder(evals).map((k) => evals[k]!);
}
