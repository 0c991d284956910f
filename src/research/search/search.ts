import type { Constraint } from '../constraint.ts';
import { satisfiesAll } from '../constraint.ts';
import type { ParamValue, Params } from '../../strategy/strategy.ts';
import { combinationAt, type ParamSpace } from '../space.ts';

/**
 * A search method. It proposes combinations, as indices into the space, a batch at a time, and learns
 * from the score of each (higher is better; −Infinity for an infeasible one) before the next batch.
 */
export interface Search {
  /** Batch size the method asks for (Infinity: everything is known in advance). */
  readonly batch: number;
  /** Up to `n` combinations not proposed before; empty when the search is done. */
  ask(n: number): number[];
  /** The score of a proposed combination. */
  tell(index: number, score: number): void;
}

/** The combinations of the space that satisfy every constraint (with the strategy defaults filling the rest), in order. */
export function feasibleIndices(space: ParamSpace, constraints: readonly Constraint[], defaults: Params): number[] {
  const out: number[] = [];
  const values: Record<string, ParamValue> = { ...defaults };
  for (let i = 0; i < space.size; i++) {
    if (constraints.length > 0) Object.assign(values, combinationAt(space, i));
    if (satisfiesAll(constraints, values)) out.push(i);
  }
  return out;
}
