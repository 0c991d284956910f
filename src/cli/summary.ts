import type { BacktestResult } from '../engine/result.ts';

const pct = (x: number): string => `${(x * 100).toFixed(2)} %`;
const money = (x: number): string => x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const days = (ms: number): string => `${(ms / 86_400_000).toFixed(1)} d`;

/** The terminal summary table of a run. */
export function summaryTable(r: BacktestResult, dir: string | null): string {
  const s = r.summary;
  const c = r.config;
  const rows: [string, string][] = [
    ['Strategy', `${c.strategy} ${JSON.stringify(c.params)}`],
    ['Market', `${c.exchange} ${c.symbol} ${c.timeframes.join('+')} (${c.positionMode}, fill ${c.fill}, SL/TP ${c.slTpPolicy})`],
    ['Period', `${new Date(c.from).toISOString().slice(0, 16)} → ${new Date(c.to).toISOString().slice(0, 16)} (${r.candles.length.toLocaleString('en-US')} candles)`],
    ['Final equity', `${money(s.finalEquity)} (from ${money(s.initialBalance)})`],
    ['Total return', pct(s.totalReturn)],
    ['CAGR', pct(s.cagr)],
    ['Max drawdown', `${pct(s.maxDrawdown)} over ${days(s.maxDrawdownDuration)}`],
    ['Sharpe / Sortino / Calmar', `${s.sharpe.toFixed(2)} / ${s.sortino.toFixed(2)} / ${s.calmar.toFixed(2)}`],
    ['Trades', `${s.trades} (win rate ${pct(s.winRate)}, profit factor ${s.profitFactor.toFixed(2)})`],
    ['Expectancy', `${money(s.expectancy)} (avg win ${money(s.avgWin)}, avg loss ${money(s.avgLoss)})`],
    ['Exposure', pct(s.exposure)],
    ['Fees / funding', `${money(s.fees)} / ${money(s.funding)}`],
    ['Liquidations / rejected', `${s.liquidations} / ${s.rejectedOrders}`],
    ['Ambiguous SL/TP candles', `${s.ambiguousCandles} (resolved by drill-down: ${s.drilledDownCandles})`],
  ];
  if (dir) rows.push(['Report', `${dir}/report.html`]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n') + '\n';
}
