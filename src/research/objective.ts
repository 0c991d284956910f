import type { Summary } from '../core/results.ts';

/** What a sweep maximises, read from each combination's summary. */
export const OBJECTIVES = ['sharpe', 'sortino', 'calmar', 'profit-factor', 'return'] as const;

/** One objective name. */
export type Objective = (typeof OBJECTIVES)[number];

/** The summary field each objective reads (`return` is the total return as a fraction). */
const FIELD: Readonly<Record<Objective, keyof Summary>> = {
  sharpe: 'sharpe',
  sortino: 'sortino',
  calmar: 'calmar',
  'profit-factor': 'profitFactor',
  return: 'totalReturn',
};

/** The objective's value for a summary (higher is better). */
export function scoreOf(summary: Summary, objective: Objective): number {
  return summary[FIELD[objective]] as number;
}

/** A scored combination as ranking sees it. */
export interface Scored {
  readonly score: number;
  /** False when the combination made fewer trades than `--min-trades`: it ranks after every feasible one. */
  readonly feasible: boolean;
}

/** Positions of `items` best first: feasible before infeasible, then higher score, then earlier item. */
export function rankOrder(items: readonly Scored[]): number[] {
  const order = items.map((_, k) => k);
  return order.sort((a, b) => {
    const x = items[a]!;
    const y = items[b]!;
    if (x.feasible !== y.feasible) return x.feasible ? -1 : 1;
    return y.score - x.score || a - b;
  });
}

/** The score a search learns from: the objective, or −Infinity for an infeasible combination. */
export function searchScore(s: Scored): number {
  return s.feasible && Number.isFinite(s.score) ? s.score : Number.NEGATIVE_INFINITY;
}
