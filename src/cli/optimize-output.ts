import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TIMEFRAME_MS } from '../core/timeframe.ts';
import { writeRun } from '../report/index.ts';
import { optimizeHtml } from '../report/optimize-html.ts';
import {
  OPTIMIZE_VERSION, fixedWords, optimizeCsv, optimizeData, serializeOptimize, variedNames, walkForwardCsv, type OptimizeJson, type WalkForwardJson,
} from '../report/optimize-json.ts';
import { RUN_META_FILE, runMetaJson, type RunMeta } from '../report/run-meta.ts';
import { sampleEquityCurve } from '../report/sampling.ts';
import type { OptimizeInput, OptimizeOutcome } from '../research/optimize.ts';
import { spaceSpecs } from '../research/space.ts';
import { efficiency, type WalkForwardSpec } from '../research/walk-forward.ts';

/** The walk-forward block of optimize.json. */
function walkForwardJson(spec: WalkForwardSpec, wf: NonNullable<OptimizeOutcome['walkForward']>, barMs: number): WalkForwardJson {
  const isMean = wf.windows.reduce((a, w) => a + w.inSample.cagr, 0) / wf.windows.length;
  return {
    train: spec.text.train,
    test: spec.text.test,
    step: spec.text.step,
    anchored: spec.anchored,
    warmup: 'train-window',
    windows: wf.windows.map((w, k) => ({
      window: k + 1, trainFrom: w.trainFrom, trainTo: w.trainTo, testFrom: w.testFrom, testTo: w.testTo, params: w.params,
      inSample: w.inSample, outOfSample: w.outOfSample, startEquity: w.startEquity, endEquity: w.endEquity, efficiency: w.efficiency,
    })),
    outOfSample: wf.stitched.summary,
    efficiency: efficiency(wf.stitched.summary.cagr, isMean),
    equityCurve: sampleEquityCurve(wf.stitched.ts, wf.stitched.equity, barMs),
  };
}

/** The optimize.json object of an optimisation. */
export function optimizeJson(i: OptimizeInput, o: OptimizeOutcome): OptimizeJson {
  const c = o.best.config;
  const ts = o.candles.ts;
  const top = o.evaluations[0]!;
  const barMs = TIMEFRAME_MS[i.timeframe];
  return {
    version: OPTIMIZE_VERSION,
    kind: 'optimize',
    strategy: c.strategy,
    method: i.method,
    objective: i.objective,
    minTrades: i.minTrades,
    trials: i.method === 'grid' ? null : i.trials,
    seed: i.method === 'grid' ? null : i.seed,
    space: spaceSpecs(i.space),
    constraints: i.constraints.map((x) => x.text),
    spaceSize: i.space.size,
    feasibleSize: o.feasibleSize,
    data: optimizeData(i.exchange, i.symbol, i.timeframe, ts[0] as number, ts[ts.length - 1] as number, o.candles.length),
    settings: {
      initialBalance: c.initialBalance, leverage: c.leverage, makerFeeBps: c.makerFeeBps, takerFeeBps: c.takerFeeBps, slippageBps: c.slippageBps,
      funding: c.funding, fill: c.fill, slTpPolicy: c.slTpPolicy, maintenanceMarginRate: c.maintenanceMarginRate, drillDown: c.drillDown, seed: c.seed,
    },
    combinations: o.evaluations.map((e, k) => ({ rank: k + 1, params: e.params, summary: e.summary, score: e.score, feasible: e.feasible })),
    best: { params: top.params, score: top.score, summary: top.summary, report: 'best/report.html' },
    overfitting: o.overfitting,
    ...(i.walkForward && o.walkForward ? { walkForward: walkForwardJson(i.walkForward, o.walkForward, barMs) } : {}),
  };
}

/**
 * Writes the run folder: optimize.json, optimize.csv, walk-forward.csv (when walking forward), report.html,
 * the winner's full run in best/, and run.json when `meta` names an owner or shares the run.
 * Returns optimize.json's text.
 */
export async function writeOptimizeRun(dir: string, json: OptimizeJson, o: OptimizeOutcome, meta: RunMeta, heatmap?: readonly string[]): Promise<string> {
  const metaJson = runMetaJson(meta); // checked before anything is written
  await writeRun(o.best, join(dir, 'best'));
  const text = serializeOptimize(json);
  await writeFile(join(dir, 'optimize.json'), text, 'utf8');
  await writeFile(join(dir, 'optimize.csv'), optimizeCsv(json), 'utf8');
  if (json.walkForward) await writeFile(join(dir, 'walk-forward.csv'), walkForwardCsv(json.walkForward, Object.keys(json.space)), 'utf8');
  await writeFile(join(dir, 'report.html'), optimizeHtml(json, o.best, heatmap), 'utf8');
  if (metaJson !== null) await writeFile(join(dir, RUN_META_FILE), metaJson, 'utf8');
  return text;
}

const pct = (x: number): string => `${(x * 100).toFixed(2)} %`;

/** The terminal summary: the top 10 combinations, the best parameters, the walk-forward figures and the run folder. */
export function optimizeTable(json: OptimizeJson, dir: string): string {
  const names = variedNames(json);
  const fixed = fixedWords(json);
  const sharpe = json.objective !== 'sharpe';
  const head = ['#', ...names, json.objective, 'return', 'max DD', ...(sharpe ? ['sharpe'] : []), 'trades'];
  const rows = json.combinations.slice(0, 10).map((c) => [
    String(c.rank), ...names.map((n) => String(c.params[n])), `${c.score.toFixed(3)}${c.feasible ? '' : ' (infeasible)'}`,
    pct(c.summary.totalReturn), pct(c.summary.maxDrawdown), ...(sharpe ? [c.summary.sharpe.toFixed(2)] : []), String(c.summary.trades),
  ]);
  const widths = head.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k]!.length)));
  const line = (r: readonly string[]): string => `  ${r.map((v, k) => (k === 0 || k > names.length ? v.padStart(widths[k]!) : v.padEnd(widths[k]!))).join('  ')}`;
  const out = [
    `  ${json.strategy}: ${json.method} over ${json.combinations.length.toLocaleString('en-US')} combinations (${json.feasibleSize.toLocaleString('en-US')} feasible of ${json.spaceSize.toLocaleString('en-US')}), objective ${json.objective}${json.minTrades > 0 ? `, at least ${json.minTrades} trades` : ''}`,
    `  ${json.data.exchange} ${json.data.symbol} ${json.data.timeframe} ${json.data.fromIso.slice(0, 16)} → ${json.data.toIso.slice(0, 16)} (${json.data.candles.toLocaleString('en-US')} candles)`,
    ...(fixed.length ? [`  Fixed: ${fixed.join(' ')}`] : []),
    '',
    line(head),
    ...rows.map(line),
    '',
    `  Best        ${JSON.stringify(json.best?.params ?? {})}`,
  ];
  const wf = json.walkForward;
  if (wf) {
    out.push(`  Walk-forward ${wf.windows.length} windows (train ${wf.train}, test ${wf.test}, step ${wf.step}${wf.anchored ? ', anchored' : ''}): OOS return ${pct(wf.outOfSample.totalReturn)}, OOS CAGR ${pct(wf.outOfSample.cagr)}, efficiency ${wf.efficiency === null ? 'n/a (in-sample CAGR not positive)' : wf.efficiency.toFixed(2)}`);
  }
  const of = json.overfitting;
  if (of) {
    const p = (x: number | null): string => (x === null ? 'n/a' : x.toFixed(3));
    out.push(`  Is it luck?  Deflated Sharpe ${p(of.deflatedSharpe)} (over ${of.trials} trials, ${of.days} days), PBO ${p(of.pbo)}${of.pboPartitions === null ? '' : ` (CSCV, S=${of.pboPartitions})`}`);
  }
  out.push(`  Run folder  ${dir}`, `  Report      ${join(dir, 'report.html')}`, `  Best run    ${join(dir, 'best', 'report.html')}`);
  return `${out.join('\n')}\n`;
}
