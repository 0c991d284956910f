import type { Summary, TradeRecord } from './results.ts';

const DAY = 86_400_000;
const YEAR = 365 * DAY;

/** Inputs of the metrics: the per-bar equity curve and what the run counted. */
export interface MetricsInput {
  /** Bar open times (epoch ms), same length as `equity`. */
  readonly ts: Float64Array;
  /** Equity at each bar's close (quote). */
  readonly equity: Float64Array;
  /** Bar length (ms); the run covers `ts[0]` to `ts[n-1] + barMs`. */
  readonly barMs: number;
  readonly initialBalance: number;
  readonly trades: readonly TradeRecord[];
  /** Bars that ended with at least one open position. */
  readonly exposedBars: number;
  readonly fees: number;
  readonly funding: number;
  readonly liquidations: number;
  readonly rejectedOrders: number;
  readonly ambiguousCandles: number;
  readonly drilledDownCandles: number;
}

/** Maximum drawdown as a fraction of the running peak, and its longest duration (ms) below a peak. */
export function drawdown(ts: Float64Array, equity: Float64Array, barMs: number): { depth: number; duration: number } {
  let peak = Number.NEGATIVE_INFINITY;
  let peakTs = 0;
  let depth = 0;
  let duration = 0;
  for (let i = 0; i < equity.length; i++) {
    const e = equity[i] as number;
    const t = (ts[i] as number) + barMs;
    if (e >= peak) {
      peak = e;
      peakTs = t;
    } else {
      const dd = peak > 0 ? (peak - e) / peak : 0;
      if (dd > depth) depth = dd;
      if (t - peakTs > duration) duration = t - peakTs;
    }
  }
  return { depth, duration };
}

/** Drawdown curve (fraction below the running peak, <= 0) for charts. */
export function drawdownCurve(equity: Float64Array): Float64Array {
  const out = new Float64Array(equity.length);
  let peak = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < equity.length; i++) {
    const e = equity[i] as number;
    if (e > peak) peak = e;
    out[i] = peak > 0 ? e / peak - 1 : 0;
  }
  return out;
}

/** Daily simple returns from the equity at each UTC day's last bar (crypto trades every day). */
export function dailyReturns(ts: Float64Array, equity: Float64Array, initial: number): number[] {
  const out: number[] = [];
  let prev = initial;
  const n = equity.length;
  if (n === 0) return out;
  let dayEnd = (Math.floor((ts[0] as number) / DAY) + 1) * DAY;
  for (let i = 0; i < n; i++) {
    // The last bar of a UTC day: the next bar starts on a later day, or there is none.
    if (i + 1 === n || (ts[i + 1] as number) >= dayEnd) {
      const e = equity[i] as number;
      out.push(prev !== 0 ? e / prev - 1 : 0);
      prev = e;
      if (i + 1 < n) dayEnd = (Math.floor((ts[i + 1] as number) / DAY) + 1) * DAY;
    }
  }
  return out;
}

function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return xs.length ? s / xs.length : 0;
}

/** Sample standard deviation (n - 1). */
function stdev(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) * (x - m);
  return Math.sqrt(s / (xs.length - 1));
}

/** Finite or 0: keeps JSON free of NaN / Infinity (e.g. a profit factor with no losing trade). */
function finite(x: number): number {
  return Number.isFinite(x) ? x : 0;
}

/**
 * Computes the summary metrics. Sharpe and Sortino are annualised from daily returns with √365 and a zero
 * risk-free rate; Sortino's downside deviation is the root mean square of negative daily returns over all
 * days. Calmar is CAGR over max drawdown. Win rate, profit factor and expectancy use net trade PnL.
 */
export function computeSummary(m: MetricsInput): Summary {
  const n = m.equity.length;
  const finalEquity = n ? (m.equity[n - 1] as number) : m.initialBalance;
  const totalReturn = finalEquity / m.initialBalance - 1;
  const span = n ? (m.ts[n - 1] as number) + m.barMs - (m.ts[0] as number) : 0;
  const years = span / YEAR;
  const cagr = years > 0 && finalEquity > 0 ? Math.pow(finalEquity / m.initialBalance, 1 / years) - 1 : finalEquity > 0 ? 0 : -1;
  const dd = drawdown(m.ts, m.equity, m.barMs);
  const rets = dailyReturns(m.ts, m.equity, m.initialBalance);
  const sd = stdev(rets);
  const avg = mean(rets);
  let down = 0;
  for (const r of rets) if (r < 0) down += r * r;
  const downside = rets.length ? Math.sqrt(down / rets.length) : 0;
  const wins = m.trades.filter((t) => t.pnl > 0);
  const losses = m.trades.filter((t) => t.pnl <= 0);
  const grossWin = wins.reduce((s, t) => s + t.pnl, 0);
  const grossLoss = -losses.reduce((s, t) => s + t.pnl, 0);
  return {
    initialBalance: m.initialBalance,
    finalEquity,
    totalReturn,
    cagr: finite(cagr),
    maxDrawdown: dd.depth,
    maxDrawdownDuration: dd.duration,
    sharpe: sd > 0 ? finite((avg / sd) * Math.sqrt(365)) : 0,
    sortino: downside > 0 ? finite((avg / downside) * Math.sqrt(365)) : 0,
    calmar: dd.depth > 0 ? finite(cagr / dd.depth) : 0,
    trades: m.trades.length,
    winRate: m.trades.length ? wins.length / m.trades.length : 0,
    profitFactor: grossLoss > 0 ? grossWin / grossLoss : 0,
    expectancy: m.trades.length ? (grossWin - grossLoss) / m.trades.length : 0,
    avgWin: wins.length ? grossWin / wins.length : 0,
    avgLoss: losses.length ? -grossLoss / losses.length : 0,
    exposure: n ? m.exposedBars / n : 0,
    fees: m.fees,
    funding: m.funding,
    liquidations: m.liquidations,
    rejectedOrders: m.rejectedOrders,
    ambiguousCandles: m.ambiguousCandles,
    drilledDownCandles: m.drilledDownCandles,
  };
}
