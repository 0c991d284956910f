/**
 * Probabilistic and Deflated Sharpe Ratios (Bailey & López de Prado): the probability that a strategy's
 * true Sharpe ratio beats a benchmark, given how long, how skewed and how fat-tailed its record is — and,
 * for the deflated one, given how many strategies were tried before this one was picked.
 *
 * Every Sharpe ratio here is per observation (mean / std of the per-period returns), not annualised:
 * divide an annualised Sharpe by √(periods per year), and an annualised variance of Sharpes by the
 * periods per year.
 */
import { HalyardError } from '../../core/errors.ts';
import { normalCdf, normalInverseCdf } from './normal.ts';

/** The Euler–Mascheroni constant γ (unitless). */
export const EULER_MASCHERONI = 0.5772156649015329;

/** Inputs of the Probabilistic Sharpe Ratio. */
export interface ProbabilisticSharpeInput {
  /** Observed Sharpe ratio per observation (not annualised). */
  readonly sharpe: number;
  /** Benchmark Sharpe ratio SR* per observation (0 asks "is the true Sharpe positive?"). */
  readonly benchmark: number;
  /** Number of return observations T behind the Sharpe ratio (≥ 2). */
  readonly observations: number;
  /** Skewness γ3 of the returns (unitless; 0 for a normal). */
  readonly skew: number;
  /** Non-excess kurtosis γ4 of the returns (unitless; 3 for a normal). */
  readonly kurtosis: number;
}

/** Inputs of the expected maximum Sharpe ratio of independent trials with no skill. */
export interface ExpectedMaxSharpeInput {
  /** Number of independent trials N (an integer ≥ 1). */
  readonly trials: number;
  /** Variance of the trials' Sharpe ratios V[SR_n] (per observation, squared). */
  readonly varianceOfSharpes: number;
}

/** Inputs of the Deflated Sharpe Ratio: the selected strategy's record and the trials behind it. */
export interface DeflatedSharpeInput extends ExpectedMaxSharpeInput {
  /** Observed Sharpe ratio of the selected strategy, per observation (not annualised). */
  readonly sharpe: number;
  /** Number of return observations T of the selected strategy (≥ 2). */
  readonly observations: number;
  /** Skewness γ3 of the selected strategy's returns (unitless). */
  readonly skew: number;
  /** Non-excess kurtosis γ4 of the selected strategy's returns (unitless; 3 for a normal). */
  readonly kurtosis: number;
}

/** The Deflated Sharpe Ratio and the figures behind it. */
export interface DeflatedSharpeResult {
  /** Probability (0..1) that the true Sharpe ratio beats the best Sharpe expected from luck alone. */
  readonly dsr: number;
  /** Expected maximum Sharpe ratio of `trials` skill-less trials, per observation (the benchmark SR*). */
  readonly expectedMax: number;
  /** The standardised distance (SR − SR*)·√(T−1)/√(1 − γ3·SR + (γ4−1)/4·SR²) whose Φ is the DSR (unitless). */
  readonly zScore: number;
  /** The Probabilistic Sharpe Ratio inputs the DSR evaluated (benchmark = expectedMax). */
  readonly psrInput: ProbabilisticSharpeInput;
}

function invalid(message: string, context: Record<string, unknown>): never {
  throw new HalyardError('invalid_input', message, context);
}

function requireFinite(name: string, value: number): void {
  if (!Number.isFinite(value)) invalid(`${name} must be a finite number (got ${String(value)}).`, { [name]: value });
}

/** The z-score of the PSR: (SR − SR*)·√(T−1) / √(1 − γ3·SR + (γ4−1)/4·SR²) (unitless). */
export function probabilisticSharpeZ(input: ProbabilisticSharpeInput): number {
  const { sharpe, benchmark, observations, skew, kurtosis } = input;
  requireFinite('sharpe', sharpe);
  requireFinite('benchmark', benchmark);
  requireFinite('skew', skew);
  requireFinite('kurtosis', kurtosis);
  if (!Number.isFinite(observations) || observations < 2) {
    invalid(`observations must be a number of returns of at least 2 (got ${String(observations)}).`, { observations });
  }
  const variance = 1 - skew * sharpe + ((kurtosis - 1) / 4) * sharpe * sharpe;
  if (!(variance > 0)) {
    invalid(
      `skew ${skew} and kurtosis ${kurtosis} give the Sharpe ratio no positive variance: kurtosis must be non-excess (3 for a normal) and at least 1 + skew².`,
      { skew, kurtosis, sharpe },
    );
  }
  return ((sharpe - benchmark) * Math.sqrt(observations - 1)) / Math.sqrt(variance);
}

/**
 * Probabilistic Sharpe Ratio (Bailey & López de Prado, "The Sharpe Ratio Efficient Frontier", 2012): the
 * probability (0..1) that the true Sharpe ratio exceeds `benchmark`,
 * Φ( (SR − SR*)·√(T−1) / √(1 − γ3·SR + (γ4−1)/4·SR²) ), with SR per observation.
 */
export function probabilisticSharpe(input: ProbabilisticSharpeInput): number {
  return normalCdf(probabilisticSharpeZ(input));
}

/**
 * Expected maximum Sharpe ratio among `trials` independent skill-less trials (per observation):
 * E[max SR] = √V · ((1−γ)·Φ⁻¹(1 − 1/N) + γ·Φ⁻¹(1 − 1/(N·e))), γ the Euler–Mascheroni constant
 * (Bailey, Borwein, López de Prado & Zhu 2014). One trial is no selection: 0.
 */
export function expectedMaxSharpe(input: ExpectedMaxSharpeInput): number {
  const { trials, varianceOfSharpes } = input;
  if (!Number.isInteger(trials) || trials < 1) {
    invalid(`trials must be a whole number of at least 1 (got ${String(trials)}).`, { trials });
  }
  if (!Number.isFinite(varianceOfSharpes) || varianceOfSharpes < 0) {
    invalid(`varianceOfSharpes must be a finite number of at least 0 (got ${String(varianceOfSharpes)}).`, { varianceOfSharpes });
  }
  if (trials === 1) return 0;
  const g = EULER_MASCHERONI;
  const z = (1 - g) * normalInverseCdf(1 - 1 / trials) + g * normalInverseCdf(1 - 1 / (trials * Math.E));
  return Math.sqrt(varianceOfSharpes) * z;
}

/**
 * Deflated Sharpe Ratio (Bailey & López de Prado, "The Deflated Sharpe Ratio: Correcting for Selection
 * Bias, Backtest Overfitting and Non-Normality", 2014): the PSR with the benchmark set to the Sharpe ratio
 * the best of `trials` skill-less trials would reach by luck; a probability 0..1 (0.95 is the usual bar).
 */
export function deflatedSharpe(input: DeflatedSharpeInput): DeflatedSharpeResult {
  const expectedMax = expectedMaxSharpe(input);
  const psrInput: ProbabilisticSharpeInput = {
    sharpe: input.sharpe,
    benchmark: expectedMax,
    observations: input.observations,
    skew: input.skew,
    kurtosis: input.kurtosis,
  };
  const zScore = probabilisticSharpeZ(psrInput);
  return { dsr: normalCdf(zScore), expectedMax, zScore, psrInput };
}
