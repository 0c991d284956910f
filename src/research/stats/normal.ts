/**
 * The standard normal distribution and sample moments: the building blocks of the research statistics.
 * Pure functions on numbers; no allocation beyond their results.
 */

/** A sample of numbers: a plain array or a typed array. */
export type Sample = ArrayLike<number>;

const SQRT_2PI = 2.5066282746310002;

/**
 * Standard normal CDF Φ(x) (probability 0..1), by Hart's double-precision algorithm 5666 as given by
 * West ("Better approximations to cumulative normal functions", 2005): absolute error below 1e-14.
 */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const z = Math.abs(x);
  let tail: number;
  if (z > 37) {
    tail = 0;
  } else {
    const e = Math.exp(-z * z * 0.5);
    if (z < 7.07106781186547) {
      let num = 3.52624965998911e-2 * z + 0.700383064443688;
      num = num * z + 6.37396220353165;
      num = num * z + 33.912866078383;
      num = num * z + 112.079291497871;
      num = num * z + 221.213596169931;
      num = num * z + 220.206867912376;
      let den = 8.83883476483184e-2 * z + 1.75566716318264;
      den = den * z + 16.064177579207;
      den = den * z + 86.7807322029461;
      den = den * z + 296.564248779674;
      den = den * z + 637.333633378831;
      den = den * z + 793.826512519948;
      den = den * z + 440.413735824752;
      tail = (e * num) / den;
    } else {
      // Continued fraction for the far tail.
      let b = z + 0.65;
      b = z + 4 / b;
      b = z + 3 / b;
      b = z + 2 / b;
      b = z + 1 / b;
      tail = e / b / SQRT_2PI;
    }
  }
  return x > 0 ? 1 - tail : tail;
}

/**
 * Standard normal quantile Φ⁻¹(p) for a probability p in [0, 1] (Wichura, "Algorithm AS241: The
 * Percentage Points of the Normal Distribution", 1988, PPND16: relative error about 1e-16).
 * Φ⁻¹(0) is −Infinity, Φ⁻¹(1) is +Infinity, and p outside [0, 1] gives NaN.
 */
export function normalInverseCdf(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    const num =
      (((((((2509.0809287301227 * r + 33430.57558358813) * r + 67265.7709270087) * r +
        45921.95393154987) * r + 13731.69376550946) * r + 1971.5909503065513) * r +
        133.14166789178438) * r + 3.3871328727963665) * q;
    const den =
      ((((((5226.495278852854 * r + 28729.085735721943) * r + 39307.89580009271) * r +
        21213.794301586597) * r + 5394.196021424751) * r + 687.1870074920579) * r +
        42.31333070160091) * r + 1;
    return num / den;
  }
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let x: number;
  if (r <= 5) {
    r -= 1.6;
    const num =
      ((((((0.0007745450142783414 * r + 0.022723844989269184) * r + 0.2417807251774506) * r +
        1.2704582524523684) * r + 3.6478483247632045) * r + 5.769497221460691) * r +
        4.630337846156546) * r + 1.4234371107496835;
    const den =
      ((((((1.0507500716444169e-9 * r + 0.0005475938084995345) * r + 0.015198666563616457) * r +
        0.14810397642748008) * r + 0.6897673349851) * r + 1.6763848301838038) * r +
        2.053191626637759) * r + 1;
    x = num / den;
  } else {
    r -= 5;
    const num =
      ((((((2.0103343992922881e-7 * r + 0.000027115555687434876) * r + 0.0012426609473880784) * r +
        0.026532189526576124) * r + 0.29656057182850487) * r + 1.7848265399172913) * r +
        5.463784911164114) * r + 6.657904643501103;
    const den =
      ((((((2.0442631033899397e-15 * r + 1.421511758316446e-7) * r + 0.000018463183175100548) * r +
        0.0007868691311456133) * r + 0.014875361290850615) * r + 0.1369298809227358) * r +
        0.599832206555888) * r + 1;
    x = num / den;
  }
  return q < 0 ? -x : x;
}

/** Arithmetic mean of a sample (same unit as the sample; NaN when empty). */
export function mean(xs: Sample): number {
  const n = xs.length;
  if (n === 0) return Number.NaN;
  let s = 0;
  for (let i = 0; i < n; i++) s += xs[i] as number;
  return s / n;
}

/** Sample variance with Bessel's correction, divisor n − 1 (squared unit; NaN below two values). */
export function sampleVariance(xs: Sample): number {
  const n = xs.length;
  if (n < 2) return Number.NaN;
  const m = mean(xs);
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = (xs[i] as number) - m;
    ss += d * d;
  }
  return ss / (n - 1);
}

/** Sample standard deviation, divisor n − 1 (same unit as the sample; NaN below two values). */
export function sampleStd(xs: Sample): number {
  return Math.sqrt(sampleVariance(xs));
}

/** Mean, sample standard deviation, skewness and non-excess kurtosis of one sample, in one call. */
export interface Moments {
  /** Number of values. */
  readonly count: number;
  /** Arithmetic mean (unit of the sample). */
  readonly mean: number;
  /** Standard deviation with divisor n − 1 (unit of the sample). */
  readonly std: number;
  /** Skewness γ3 = m3 / m2^1.5 with central moments m_k = Σ(x − x̄)^k / n (unitless; 0 for a normal). */
  readonly skew: number;
  /** Non-excess kurtosis γ4 = m4 / m2² (unitless; 3 for a normal), as Bailey & López de Prado use it. */
  readonly kurtosis: number;
}

/**
 * Sample moments as the Probabilistic and Deflated Sharpe Ratio papers use them: skewness and non-excess
 * kurtosis from the plain (biased, divisor n) central moments. A constant sample has skew 0 and kurtosis 3
 * (a degenerate distribution is treated as normal so that PSR stays defined); fewer than two values give NaN.
 */
export function moments(xs: Sample): Moments {
  const n = xs.length;
  if (n < 2) return { count: n, mean: n ? (xs[0] as number) : Number.NaN, std: Number.NaN, skew: Number.NaN, kurtosis: Number.NaN };
  const m = mean(xs);
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (let i = 0; i < n; i++) {
    const d = (xs[i] as number) - m;
    const d2 = d * d;
    m2 += d2;
    m3 += d2 * d;
    m4 += d2 * d2;
  }
  const std = Math.sqrt(m2 / (n - 1));
  m2 /= n;
  m3 /= n;
  m4 /= n;
  if (m2 === 0) return { count: n, mean: m, std: 0, skew: 0, kurtosis: 3 };
  return { count: n, mean: m, std, skew: m3 / Math.pow(m2, 1.5), kurtosis: m4 / (m2 * m2) };
}

/** Skewness γ3 of a sample (unitless, divisor-n central moments; see `moments`). */
export function skewness(xs: Sample): number {
  return moments(xs).skew;
}

/** Non-excess kurtosis γ4 of a sample (unitless, 3 for a normal; see `moments`). */
export function kurtosis(xs: Sample): number {
  return moments(xs).kurtosis;
}

/**
 * The p-quantile (p in 0..1) of values already sorted ascending, by linear interpolation between the
 * closest ranks (Hyndman & Fan type 7, numpy's default). NaN when empty.
 */
export function quantileSorted(sorted: Sample, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const h = (n - 1) * Math.min(1, Math.max(0, p));
  const lo = Math.floor(h);
  const a = sorted[lo] as number;
  if (lo + 1 >= n) return a;
  return a + (h - lo) * ((sorted[lo + 1] as number) - a);
}
