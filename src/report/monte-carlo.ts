import type { TradeRecord } from '../core/results.ts';
import { monteCarloTrades, type Percentiles } from '../research/stats/index.ts';
import { escapeHtml, fmtCount, fmtMoney, fmtPercent } from './format.ts';

/** How a run's trades are resampled: simulations (0: none), the seed, and the drawdown counted as ruin (fraction). */
export interface MonteCarloSettings {
  readonly runs: number;
  readonly seed: number;
  readonly ruinDrawdown: number;
}

/** 1,000 seeded bootstrap resamplings; ruin is a 50 % drawdown from a peak. */
export const DEFAULT_MONTE_CARLO: MonteCarloSettings = { runs: 1000, seed: 1, ruinDrawdown: 0.5 };

/** The Monte Carlo figures of a run as results.json and the report hold them (equity in quote, drawdowns as fractions). */
export interface MonteCarloSection {
  readonly mode: 'bootstrap';
  readonly runs: number;
  readonly seed: number;
  readonly trades: number;
  readonly ruinDrawdown: number;
  readonly probabilityOfRuin: number;
  readonly finalEquity: Percentiles;
  readonly maxDrawdown: Percentiles;
  /** The trades in the order they happened: final equity and the deepest closed-trade drawdown. */
  readonly observed: { readonly finalEquity: number; readonly maxDrawdown: number };
}

/**
 * Bootstrap of the run's trade sequence (net PnL of each trade, drawn with replacement): where final equity
 * and the closed-trade drawdown could have landed with the same trades in another order and mix. Null with
 * fewer than two trades or `runs` 0.
 */
export function tradeMonteCarlo(trades: readonly TradeRecord[], initialBalance: number, s: MonteCarloSettings = DEFAULT_MONTE_CARLO): MonteCarloSection | null {
  if (s.runs === 0 || trades.length < 2) return null;
  const pnls = new Float64Array(trades.length);
  for (let i = 0; i < trades.length; i++) pnls[i] = (trades[i] as TradeRecord).pnl;
  const r = monteCarloTrades({ initialBalance, pnls, runs: s.runs, seed: s.seed, mode: 'bootstrap', ruinDrawdown: s.ruinDrawdown });
  return {
    mode: 'bootstrap',
    runs: r.runs,
    seed: s.seed,
    trades: r.trades,
    ruinDrawdown: r.ruinDrawdown,
    probabilityOfRuin: r.probabilityOfRuin,
    finalEquity: r.finalEquity,
    maxDrawdown: r.maxDrawdown,
    observed: r.observed,
  };
}

const KEYS = ['p5', 'p25', 'p50', 'p75', 'p95'] as const;

/** The report's "Monte Carlo" section: percentiles of final equity and drawdown, the probability of ruin. */
export function monteCarloHtml(mc: MonteCarloSection | null | undefined): string {
  if (!mc) return '';
  const head = `<tr><th class="l"></th>${KEYS.map((k) => `<th>${k.slice(1)}th %ile</th>`).join('')}<th>as it happened</th></tr>`;
  const row = (label: string, p: Percentiles, observed: number, fmt: (x: number) => string): string =>
    `<tr><td class="l">${label}</td>${KEYS.map((k) => `<td>${escapeHtml(fmt(p[k]))}</td>`).join('')}<td>${escapeHtml(fmt(observed))}</td></tr>`;
  const dd = (x: number): string => fmtPercent(-x);
  const ruin = `${fmtPercent(mc.probabilityOfRuin, 1)} of the simulations fell ${fmtPercent(mc.ruinDrawdown, 0)} or more from a peak`;
  return `<section id="monte-carlo"><h2>Monte Carlo <small>(${fmtCount(mc.runs)} bootstrap resamplings of the ${fmtCount(mc.trades)} trades, seed ${mc.seed})</small></h2>
<p class="note">The same trades drawn again in another order and mix: where the account could have ended, and how deep its closed-trade drawdown could have gone. Probability of ruin: ${escapeHtml(ruin)}.</p>
<div class="panel table-wrap"><table><thead>${head}</thead><tbody>
${row('Final equity', mc.finalEquity, mc.observed.finalEquity, fmtMoney)}
${row('Max drawdown', mc.maxDrawdown, mc.observed.maxDrawdown, dd)}
</tbody></table></div></section>`;
}
