import { SeededRandom } from '../../core/rng.ts';
import { indexOf, indicesAt, type ParamSpace } from '../space.ts';
import type { Search } from './search.ts';

/** Combinations proposed per model update: fixed, so a seeded run proposes the same whatever the worker count. */
export const TPE_BATCH = 4;
/** Fraction of the observed trials that form the "good" group l(x). */
export const TPE_GAMMA = 0.25;
/** Candidates drawn from l(x) per proposal; the one with the largest l(x)/g(x) is proposed. */
export const TPE_CANDIDATES = 24;

/** Tuning of the estimator (defaults: the constants above; start-up trials: a quarter of the budget, 2 to 10). */
export interface TpeOptions {
  readonly trials: number;
  readonly seed: number;
  readonly startup?: number;
  readonly gamma?: number;
  readonly candidates?: number;
}

/** One dimension's density over its value positions 0 … K − 1 (sums to 1). */
type Density = Float64Array;

/**
 * The adaptive Parzen estimator of Bergstra et al. (2011) on one ordered dimension of K values, in value
 * positions: a uniform prior (weight 1) plus one discretised Gaussian per observation, whose width is the
 * larger gap to its sorted neighbours, clipped to [(K − 1) / min(100, 1 + m), K − 1] and at least ½.
 */
function orderedDensity(obs: readonly number[], k: number): Density {
  const out = new Float64Array(k).fill(1 / k);
  const m = obs.length;
  if (m === 0 || k === 1) return out;
  const sorted = [...obs].sort((a, b) => a - b);
  const wide = Math.max(1, k - 1);
  const narrow = Math.max(0.5, wide / Math.min(100, 1 + m));
  const kernel = new Float64Array(k);
  for (let i = 0; i < m; i++) {
    const mu = sorted[i]!;
    const left = i > 0 ? mu - sorted[i - 1]! : Number.NaN;
    const right = i < m - 1 ? sorted[i + 1]! - mu : Number.NaN;
    const gap = Math.max(Number.isNaN(left) ? 0 : left, Number.isNaN(right) ? 0 : right) || wide;
    const sigma = Math.min(wide, Math.max(narrow, gap));
    let z = 0;
    for (let j = 0; j < k; j++) z += kernel[j] = Math.exp(-0.5 * ((j - mu) / sigma) ** 2);
    for (let j = 0; j < k; j++) out[j]! += (kernel[j] as number) / z;
  }
  for (let j = 0; j < k; j++) out[j] = (out[j] as number) / (1 + m);
  return out;
}

/** A categorical dimension (strings, booleans): counts with add-one smoothing, (count + 1) / (m + K). */
function categoricalDensity(obs: readonly number[], k: number): Density {
  const out = new Float64Array(k).fill(1);
  for (const j of obs) out[j]! += 1;
  for (let j = 0; j < k; j++) out[j] = (out[j] as number) / (obs.length + k);
  return out;
}

/** A position drawn from a density by inverting its cumulative sum. */
function draw(p: Density, u: number): number {
  let acc = 0;
  for (let j = 0; j < p.length; j++) {
    acc += p[j] as number;
    if (u < acc) return j;
  }
  return p.length - 1;
}

/**
 * Tree-structured Parzen Estimator (Bergstra, Bardenet, Bengio, Kégl: "Algorithms for Hyper-Parameter
 * Optimization", NIPS 2011) over a discrete space:
 *
 * 1. The first `startup` proposals are uniform draws among the feasible combinations not yet proposed.
 * 2. Then, per batch of TPE_BATCH proposals, the observed trials are ranked by score and split at the γ
 *    quantile: the best ⌈γ·n⌉ form l(x), the rest g(x). Each is a product of independent per-parameter
 *    densities: an adaptive Parzen estimator over the value positions of a number parameter (neighbouring
 *    values share weight), a smoothed histogram over the values of a boolean or string parameter.
 * 3. TPE_CANDIDATES candidates are drawn from l(x); among those that are feasible and new, the one with
 *    the largest l(x)/g(x) (the expected-improvement criterion of the paper) is proposed. When none is,
 *    a uniform draw is.
 *
 * Every draw comes from one seeded generator, so a seed gives the same proposals given the same scores.
 */
export class TpeSearch implements Search {
  readonly batch = TPE_BATCH;
  private readonly rng: SeededRandom;
  private readonly trials: number;
  private readonly startup: number;
  private readonly gamma: number;
  private readonly candidates: number;
  private readonly allowed: Uint8Array;
  private readonly proposed = new Set<number>();
  private readonly observed: { readonly pos: number[]; readonly score: number; readonly order: number }[] = [];

  constructor(
    private readonly space: ParamSpace,
    private readonly feasible: readonly number[],
    o: TpeOptions,
  ) {
    this.rng = new SeededRandom(o.seed);
    this.trials = Math.min(o.trials, feasible.length);
    this.startup = Math.min(this.trials, o.startup ?? Math.min(10, Math.max(2, Math.ceil(o.trials / 4))));
    this.gamma = o.gamma ?? TPE_GAMMA;
    this.candidates = o.candidates ?? TPE_CANDIDATES;
    this.allowed = new Uint8Array(space.size);
    for (const i of feasible) this.allowed[i] = 1;
  }

  ask(n: number): number[] {
    const out: number[] = [];
    let model: { good: Density[]; bad: Density[] } | null = null;
    while (out.length < n && this.proposed.size < this.trials) {
      let next: number | undefined;
      if (this.proposed.size >= this.startup && this.observed.length >= 2) {
        model ??= this.fit();
        next = this.fromModel(model.good, model.bad);
      }
      next ??= this.uniform();
      this.proposed.add(next);
      out.push(next);
    }
    return out;
  }

  tell(index: number, score: number): void {
    this.observed.push({ pos: indicesAt(this.space, index), score, order: this.observed.length });
  }

  /** The good and bad densities of each dimension from the trials observed so far. */
  private fit(): { good: Density[]; bad: Density[] } {
    // Best first; equal scores (and two −Infinity, whose difference is NaN) by the order observed.
    const ranked = [...this.observed].sort((a, b) => b.score - a.score || a.order - b.order);
    const nGood = Math.max(1, Math.ceil(this.gamma * ranked.length));
    const good: Density[] = [];
    const bad: Density[] = [];
    this.space.dims.forEach((d, k) => {
      const density = d.kind === 'number' ? orderedDensity : categoricalDensity;
      good.push(density(ranked.slice(0, nGood).map((o) => o.pos[k]!), d.values.length));
      bad.push(density(ranked.slice(nGood).map((o) => o.pos[k]!), d.values.length));
    });
    return { good, bad };
  }

  /** The best of the candidates drawn from l(x) by l(x)/g(x), or undefined when none is feasible and new. */
  private fromModel(good: readonly Density[], bad: readonly Density[]): number | undefined {
    let best: number | undefined;
    let bestRatio = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < this.candidates; c++) {
      const pos = good.map((p) => draw(p, this.rng.next()));
      const index = indexOf(this.space, pos);
      if (this.allowed[index] !== 1 || this.proposed.has(index)) continue;
      let ratio = 0;
      for (let k = 0; k < pos.length; k++) ratio += Math.log(good[k]![pos[k]!]!) - Math.log(bad[k]![pos[k]!]!);
      if (ratio > bestRatio) {
        bestRatio = ratio;
        best = index;
      }
    }
    return best;
  }

  /** A uniform draw among the feasible combinations not proposed yet. */
  private uniform(): number {
    for (let tries = 0; tries < 64; tries++) {
      const i = this.feasible[Math.floor(this.rng.next() * this.feasible.length)]!;
      if (!this.proposed.has(i)) return i;
    }
    const left = this.feasible.filter((i) => !this.proposed.has(i));
    return left[Math.floor(this.rng.next() * left.length)]!;
  }
}
