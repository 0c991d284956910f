import { SeededRandom } from '../../core/rng.ts';
import type { Search } from './search.ts';

/** `trials` distinct feasible combinations drawn uniformly with a seeded generator (a partial Fisher–Yates shuffle). */
export class RandomSearch implements Search {
  readonly batch = Number.POSITIVE_INFINITY;
  private readonly order: number[];
  private next = 0;

  constructor(feasible: readonly number[], trials: number, seed: number) {
    const pool = [...feasible];
    const rng = new SeededRandom(seed);
    const n = Math.min(trials, pool.length);
    for (let k = 0; k < n; k++) {
      const j = k + Math.floor(rng.next() * (pool.length - k));
      const t = pool[k]!;
      pool[k] = pool[j]!;
      pool[j] = t;
    }
    this.order = pool.slice(0, n);
  }

  ask(n: number): number[] {
    const out = this.order.slice(this.next, this.next + n);
    this.next += out.length;
    return out;
  }

  tell(): void {}
}
