import type { SeriesPoint, Summary } from '../core/results.ts';
import type { BacktestResult } from '../engine/result.ts';
import { escapeHtml, fmtCount, fmtNumber, fmtPercent, fmtMoney, shortTime } from './format.ts';
import { REPORT_CSS } from './html-assets.ts';
import { variedNames, type OptimizeCombination, type OptimizeJson, type WalkForwardJson } from './optimize-json.ts';

/** Rows of the ranked table (optimize.csv has every combination). */
export const MAX_RANKED_ROWS = 200;

/** The page's policy: inline styles only, no script, nothing fetched. */
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const EXTRA_CSS = `
.heat td{text-align:center;min-width:54px;color:#0b0f17;font-weight:600}
.heat th{position:static}
.heat td.none{background:#1a2230;color:var(--muted);font-weight:400}
.best a{color:var(--accent)}
svg.curve{display:block;width:100%;height:220px}
`;

type Value = number | string | boolean;

const tag = (k: string, v: string): string => `<span class="tag">${escapeHtml(k)} <b>${escapeHtml(v)}</b></span>`;
const metric = (k: string, v: string): string => `<div class="metric"><div class="k">${escapeHtml(k)}</div><div class="v">${escapeHtml(v)}</div></div>`;

/** The two parameters the heatmap shows: those asked for, else the first two numbers with more than one value tried. */
export function heatmapAxes(json: OptimizeJson, asked?: readonly string[]): [string, string] | null {
  if (asked && asked.length === 2) return [asked[0]!, asked[1]!];
  const varied = Object.keys(json.space).filter((n) => {
    const vs = new Set(json.combinations.map((c) => c.params[n]));
    return vs.size > 1 && [...vs].every((v) => typeof v === 'number');
  });
  return varied.length >= 2 ? [varied[0]!, varied[1]!] : null;
}

function sortedValues(combos: readonly OptimizeCombination[], name: string): Value[] {
  return [...new Set(combos.map((c) => c.params[name] as Value))].sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b))));
}

/** A red (worst) → amber → green (best) colour for t in [0, 1]. */
function heatColour(t: number): string {
  const h = Math.round(Math.max(0, Math.min(1, t)) * 120);
  return `hsl(${h} 65% 50%)`;
}

/** The heatmap: the best feasible score of each pair of values (over the other parameters). */
function heatmapHtml(json: OptimizeJson, axes: [string, string] | null): string {
  if (axes === null) return '';
  const [x, y] = axes;
  const xs = sortedValues(json.combinations, x);
  const ys = sortedValues(json.combinations, y);
  const cell = new Map<string, number>();
  for (const c of json.combinations) {
    if (!c.feasible) continue;
    const key = `${String(c.params[x])}\u0000${String(c.params[y])}`;
    const prev = cell.get(key);
    if (prev === undefined || c.score > prev) cell.set(key, c.score);
  }
  const scores = [...cell.values()];
  const lo = Math.min(...scores);
  const hi = Math.max(...scores);
  const others = Object.keys(json.space).filter((n) => n !== x && n !== y && json.combinations.some((c) => c.params[n] !== json.combinations[0]!.params[n]));
  const rows = ys.map((yv) => {
    const tds = xs.map((xv) => {
      const s = cell.get(`${String(xv)}\u0000${String(yv)}`);
      if (s === undefined) return '<td class="none">·</td>';
      return `<td style="background:${heatColour(hi > lo ? (s - lo) / (hi - lo) : 1)}" title="${escapeHtml(`${x}=${String(xv)} ${y}=${String(yv)}: ${s}`)}">${escapeHtml(fmtNumber(s, 2))}</td>`;
    });
    return `<tr><th class="l">${escapeHtml(String(yv))}</th>${tds.join('')}</tr>`;
  });
  const note = others.length ? ` Each cell is the best over ${escapeHtml(others.join(', '))}.` : '';
  return `<section><h2>Heatmap <small>${escapeHtml(json.objective)} by ${escapeHtml(x)} (across) and ${escapeHtml(y)} (down); · not run or infeasible.${note}</small></h2>
<div class="panel table-wrap"><table class="heat"><thead><tr><th class="l">${escapeHtml(y)} \\ ${escapeHtml(x)}</th>${xs.map((v) => `<th>${escapeHtml(String(v))}</th>`).join('')}</tr></thead><tbody>
${rows.join('\n')}
</tbody></table></div></section>`;
}

/** The ranked table: the best MAX_RANKED_ROWS combinations. */
function rankedHtml(json: OptimizeJson): string {
  const names = variedNames(json);
  const head = ['#', ...names, json.objective, 'Return', 'CAGR', 'Max DD', 'Sharpe', 'Sortino', 'Calmar', 'Profit factor', 'Trades'];
  const rows = json.combinations.slice(0, MAX_RANKED_ROWS).map((c) => {
    const s = c.summary;
    const cells = [String(c.rank), ...names.map((n) => String(c.params[n])), `${fmtNumber(c.score, 3)}${c.feasible ? '' : ' ✕'}`,
      fmtPercent(s.totalReturn), fmtPercent(s.cagr), fmtPercent(-s.maxDrawdown), fmtNumber(s.sharpe), fmtNumber(s.sortino), fmtNumber(s.calmar), fmtNumber(s.profitFactor), fmtCount(s.trades)];
    return `<tr>${cells.map((v) => `<td>${escapeHtml(v)}</td>`).join('')}</tr>`;
  });
  const note = json.combinations.length > MAX_RANKED_ROWS ? `the best ${fmtCount(MAX_RANKED_ROWS)} of ${fmtCount(json.combinations.length)}; optimize.csv has all` : 'optimize.csv has every metric';
  const infeasible = json.minTrades > 0 ? `; ✕ fewer than ${json.minTrades} trades (ranked last)` : '';
  return `<section><h2>Ranked <small>(${escapeHtml(note + infeasible)})</small></h2>
<div class="panel table-wrap"><table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>
${rows.join('\n')}
</tbody></table></div></section>`;
}

/** An SVG line of an equity curve (no script: the page stays static). */
export function curveSvg(points: readonly SeriesPoint[]): string {
  if (points.length < 2) return '<p class="note">Too few points to draw.</p>';
  const w = 1000;
  const h = 220;
  const t0 = points[0]!.t;
  const t1 = points[points.length - 1]!.t;
  const vs = points.map((p) => p.v);
  const lo = Math.min(...vs);
  const hi = Math.max(...vs);
  const px = (t: number): number => ((t - t0) / (t1 - t0 || 1)) * (w - 20) + 10;
  const py = (v: number): number => h - 10 - ((v - lo) / (hi - lo || 1)) * (h - 30);
  const path = points.map((p, k) => `${k ? 'L' : 'M'}${px(p.t).toFixed(1)},${py(p.v).toFixed(1)}`).join('');
  return `<svg class="curve" viewBox="0 0 ${w} ${h}" preserveAspectRatio="none" role="img" aria-label="equity from ${escapeHtml(fmtMoney(vs[0]!))} to ${escapeHtml(fmtMoney(vs[vs.length - 1]!))}">
<text x="10" y="14" fill="#8b96a5" font-size="12">${escapeHtml(fmtMoney(hi))}</text><text x="10" y="${h - 2}" fill="#8b96a5" font-size="12">${escapeHtml(fmtMoney(lo))}</text>
<path d="${path}" fill="none" stroke="#3b82f6" stroke-width="2" vector-effect="non-scaling-stroke"/></svg>`;
}

function summaryMetrics(s: Summary): string {
  return [metric('Total return', fmtPercent(s.totalReturn)), metric('CAGR', fmtPercent(s.cagr)), metric('Max drawdown', fmtPercent(-s.maxDrawdown)),
    metric('Sharpe', fmtNumber(s.sharpe)), metric('Sortino', fmtNumber(s.sortino)), metric('Calmar', fmtNumber(s.calmar)),
    metric('Profit factor', fmtNumber(s.profitFactor)), metric('Trades', fmtCount(s.trades)), metric('Final equity', fmtMoney(s.finalEquity))].join('');
}

/** The walk-forward section: the stitched out-of-sample curve, its figures and each window. */
function walkForwardHtml(wf: WalkForwardJson | undefined, names: readonly string[]): string {
  if (!wf) return '';
  const head = ['#', 'Train (UTC)', 'Test (UTC)', ...names, 'IS return', 'IS CAGR', 'IS Sharpe', 'OOS return', 'OOS CAGR', 'OOS Sharpe', 'OOS max DD', 'OOS trades', 'Efficiency'];
  const rows = wf.windows.map((x) => {
    const cells = [String(x.window), `${shortTime(x.trainFrom)} → ${shortTime(x.trainTo)}`, `${shortTime(x.testFrom)} → ${shortTime(x.testTo)}`, ...names.map((n) => String(x.params[n])),
      fmtPercent(x.inSample.totalReturn), fmtPercent(x.inSample.cagr), fmtNumber(x.inSample.sharpe), fmtPercent(x.outOfSample.totalReturn), fmtPercent(x.outOfSample.cagr),
      fmtNumber(x.outOfSample.sharpe), fmtPercent(-x.outOfSample.maxDrawdown), fmtCount(x.outOfSample.trades), x.efficiency === null ? '—' : fmtNumber(x.efficiency)];
    return `<tr>${cells.map((v) => `<td>${escapeHtml(v)}</td>`).join('')}</tr>`;
  });
  const eff = wf.efficiency === null ? '— (in-sample CAGR not positive)' : fmtNumber(wf.efficiency);
  return `<section><h2>Walk-forward <small>train ${escapeHtml(wf.train)}, test ${escapeHtml(wf.test)}, step ${escapeHtml(wf.step)}${wf.anchored ? ', anchored' : ''}; each test run is warmed on its train window; efficiency = OOS CAGR ÷ mean IS CAGR: ${escapeHtml(eff)}</small></h2>
<div class="grid">${summaryMetrics(wf.outOfSample)}</div>
<div class="panel" style="margin-top:10px">${curveSvg(wf.equityCurve)}</div>
<p class="note">Out-of-sample equity, the test windows end to end (each starts from the previous one's ending equity).</p>
<div class="panel table-wrap" style="margin-top:10px"><table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>
${rows.join('\n')}
</tbody></table></div></section>`;
}

/** The overfitting section (Deflated Sharpe Ratio, PBO) when optimize.json has it. */
function overfittingHtml(o: OptimizeJson['overfitting']): string {
  if (!o) return '';
  const n = (x: number | null, d = 3): string => (x === null ? '—' : fmtNumber(x, d));
  const items = [
    metric('Deflated Sharpe', n(o.deflatedSharpe)), metric('PBO (CSCV)', n(o.pbo)), metric('OOS loss probability', n(o.probabilityOfLoss)),
    metric('Winner Sharpe / day', n(o.winnerDailySharpe, 4)), metric('Luck Sharpe / day', n(o.expectedMaxDailySharpe, 4)), metric('Trials', fmtCount(o.trials)), metric('Days', fmtCount(o.days)),
  ];
  const split = o.pboPartitions === null ? '' : ` PBO splits the ${o.days} days into S=${o.pboPartitions} blocks (${fmtCount(o.pboSplits ?? 0)} in/out-of-sample splits).`;
  const notes = o.notes.map((x) => `<p class="note">${escapeHtml(x)}</p>`).join('');
  return `<section><h2>Is it luck? <small>Deflated Sharpe: probability that the winner's true Sharpe beats the best of ${fmtCount(o.trials)} skill-less trials (0.95 is the usual bar). PBO: probability that the in-sample winner is at or below the median out of sample.${escapeHtml(split)}</small></h2><div class="grid">${items.join('')}</div>${notes}</section>`;
}

/** The optimisation report: one static, self-contained HTML page (no script, nothing fetched). */
export function optimizeHtml(json: OptimizeJson, best: BacktestResult, heatmap?: readonly string[]): string {
  const d = json.data;
  const space = Object.entries(json.space).map(([k, v]) => tag(k, Array.isArray(v) ? v.join(', ') : String(v)));
  const bestParams = Object.entries(json.best?.params ?? {}).map(([k, v]) => tag(k, String(v)));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="color-scheme" content="dark">
<title>${escapeHtml(`${json.strategy} optimisation · ${d.symbol} · Halyard`)}</title>
<style>${REPORT_CSS}${EXTRA_CSS}</style>
</head>
<body>
<main>
<header>
<div class="brand">Halyard optimisation</div>
<h1>${escapeHtml(json.strategy)}</h1>
<p class="sub"><b>${escapeHtml(d.symbol)}</b> · ${escapeHtml(d.exchange)} · ${escapeHtml(d.timeframe)} · ${escapeHtml(`${shortTime(d.from)} → ${shortTime(d.to)} UTC`)} · ${escapeHtml(fmtCount(d.candles))} candles</p>
<div class="tags">${tag('method', json.method)}${tag('objective', json.objective)}${tag('combinations', `${fmtCount(json.combinations.length)} of ${fmtCount(json.feasibleSize)} feasible (${fmtCount(json.spaceSize)} in the space)`)}${json.minTrades > 0 ? tag('min trades', String(json.minTrades)) : ''}${json.seed !== null ? tag('seed', String(json.seed)) : ''}</div>
<div class="tags">${space.join('')}${json.constraints.map((c) => tag('constraint', c)).join('')}</div>
</header>
<section class="best"><h2>Best <small><a href="best/report.html">its full report</a> (best/report.html, with trades and charts)</small></h2>
<div class="tags">${bestParams.join('')}</div>
<div class="grid" style="margin-top:10px">${summaryMetrics(best.summary)}</div></section>
${overfittingHtml(json.overfitting)}
${heatmapHtml(json, heatmapAxes(json, heatmap))}
${rankedHtml(json)}
${walkForwardHtml(json.walkForward, variedNames(json))}
<footer>Generated by Halyard.</footer>
</main>
</body>
</html>
`;
}
