import { readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { HalyardError } from '../core/errors.ts';
import type { ChartData } from './chart-data.ts';
import { OPTIMIZE_FILE, optimizeListing, type OptimizeListing } from './optimize-runs.ts';
import type { ResultsJson } from './results.ts';
import { finite, objectOf, paramsOf, readJsonFile, type RunParams } from './run-files.ts';
import { readRunMeta, visibleTo, type RunMeta } from './run-meta.ts';

/** A backtest run found under the output folder, with its headline figures. */
export interface RunListing {
  /** The run's folder name. */
  readonly id: string;
  readonly strategy: string;
  /** The strategy's parameters the run used (defaults merged with overrides), keys sorted. */
  readonly params: RunParams;
  readonly symbol: string;
  readonly exchange: string;
  /** The base timeframe the loop walked. */
  readonly timeframe: string;
  readonly from: string;
  readonly to: string;
  /** Epoch ms results.json was written. */
  readonly created_at: number;
  readonly trades: number;
  /** Quote. */
  readonly net_profit: number;
  /** Quote. */
  readonly final_equity: number;
  /** Percent. */
  readonly return_pct: number | null;
  /** Percent (a positive depth). */
  readonly max_drawdown_pct: number | null;
  /** Percent. */
  readonly win_rate: number | null;
  readonly has_report: boolean;
}

/** What one run folder holds: a backtest (results.json) or an optimisation (optimize.json, which wins), and who may see it. */
export type RunFolder =
  | { readonly kind: 'backtest'; readonly meta: RunMeta; readonly run: RunListing }
  | { readonly kind: 'optimize'; readonly meta: RunMeta; readonly run: OptimizeListing };

/** Told of a run folder that is skipped: its folder name and one sentence saying why. */
export type SkipNote = (id: string, why: string) => void;

/** A run's results and the chart its report draws. */
export interface RunDetail {
  readonly run: RunListing;
  readonly summary: Record<string, unknown>;
  readonly config: Record<string, unknown>;
  readonly trades: Record<string, unknown>[];
  readonly chart: ChartData | null;
}

/** Trades a detail answer carries at most (the full list is in the run's trades.csv). */
export const DETAIL_TRADES = 500;

const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** The results of a run folder: null when it has no results.json, a reason when the file is not a run's results. */
async function readResults(dir: string): Promise<{ results: ResultsJson; writtenAt: number } | string | null> {
  const f = await readJsonFile(join(dir, 'results.json'));
  if (f === null) return null;
  if (!f.ok) return `results.json ${f.why}`;
  const o = objectOf(f.value);
  if (!objectOf(o?.summary) || !objectOf(o?.config)) return 'results.json holds no summary and config (not the results of a backtest)';
  return { results: f.value as ResultsJson, writtenAt: f.mtimeMs };
}

async function exists(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

function listing(id: string, r: ResultsJson, writtenAt: number, hasReport: boolean): RunListing {
  const s = r.summary;
  const ret = finite(s.totalReturn);
  const dd = finite(s.maxDrawdown);
  const win = finite(s.winRate);
  const finalEquity = finite(s.finalEquity) ?? 0;
  const initial = finite(s.initialBalance) ?? 0;
  return {
    id,
    strategy: String(r.config.strategy ?? ''),
    params: paramsOf(r.config.params),
    symbol: String(r.config.symbol ?? ''),
    exchange: String(r.config.exchange ?? ''),
    timeframe: String(r.config.timeframe ?? ''),
    from: String(r.config.fromIso ?? ''),
    to: String(r.config.toIso ?? ''),
    created_at: Math.round(writtenAt),
    trades: finite(s.trades) ?? 0,
    net_profit: finalEquity - initial,
    final_equity: finalEquity,
    return_pct: ret === null ? null : ret * 100,
    max_drawdown_pct: dd === null ? null : Math.abs(dd) * 100,
    win_rate: win === null ? null : win * 100,
    has_report: hasReport,
  };
}

/** One run folder: optimize.json first, else results.json; null when it holds neither (not a run) or cannot be read. */
async function readFolder(dir: string, id: string, meta: RunMeta, skip: SkipNote): Promise<RunFolder | null> {
  const opt = await readJsonFile(join(dir, OPTIMIZE_FILE));
  if (opt !== null) {
    const run = opt.ok ? optimizeListing(id, opt.value, opt.mtimeMs) : `${OPTIMIZE_FILE} ${opt.why}`;
    if (typeof run !== 'string') return { kind: 'optimize', meta, run };
    skip(id, run);
    return null;
  }
  const r = await readResults(dir);
  if (typeof r === 'string') skip(id, r);
  if (r === null || typeof r === 'string') return null;
  return { kind: 'backtest', meta, run: listing(id, r.results, r.writtenAt, await exists(join(dir, 'report.html'))) };
}

/**
 * Every run folder under `outputDir` whose run.json `visible` accepts (all by default), newest first; a
 * folder whose JSON cannot be read is skipped and `skip` is told why (in folder-name order); a missing output
 * folder has none.
 */
export async function scanRuns(outputDir: string, skip: SkipNote, visible: (meta: RunMeta) => boolean = () => true): Promise<RunFolder[]> {
  const root = resolve(outputDir);
  let names: string[];
  try {
    names = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory() && RUN_ID.test(d.name)).map((d) => d.name);
  } catch {
    return [];
  }
  const skipped: [string, string][] = [];
  const found = await Promise.all(
    names.map(async (id) => {
      const dir = join(root, id);
      const meta = await readRunMeta(dir);
      return visible(meta) ? readFolder(dir, id, meta, (...s) => skipped.push(s)) : null;
    }),
  );
  // Told in folder-name order, whichever folder was read first.
  for (const [id, why] of skipped.sort((a, b) => a[0].localeCompare(b[0]))) skip(id, why);
  return found.filter((r): r is RunFolder => r !== null).sort((a, b) => b.run.created_at - a.run.created_at || a.run.id.localeCompare(b.run.id));
}

/**
 * The backtest runs under `outputDir` (each a folder with results.json) that `viewer` may see (owned by that
 * user name or shared), newest first; a missing folder has none.
 */
export async function listRuns(outputDir: string, viewer: string): Promise<RunListing[]> {
  const folders = await scanRuns(outputDir, () => undefined, (meta) => visibleTo(meta, viewer));
  return folders.flatMap((f) => (f.kind === 'backtest' ? [f.run] : []));
}

/**
 * One run `viewer` may see: its results and the chart data embedded in its report.html (null without a
 * report). Another user's run and a missing one answer the same not_found, which names no server path.
 */
export async function runDetail(outputDir: string, id: string, viewer: string): Promise<RunDetail> {
  if (!RUN_ID.test(id)) throw new HalyardError('invalid_input', `not a run id: ${JSON.stringify(id)}`);
  const dir = join(resolve(outputDir), id);
  const r = visibleTo(await readRunMeta(dir), viewer) ? await readResults(dir) : null;
  if (r === null || typeof r === 'string') throw new HalyardError('not_found', `no backtest run '${id}'`);
  const chart = await chartOfReport(join(dir, 'report.html'));
  return {
    run: listing(id, r.results, r.writtenAt, chart !== null),
    summary: { ...r.results.summary },
    config: { ...r.results.config },
    trades: (Array.isArray(r.results.trades) ? r.results.trades : []).slice(0, DETAIL_TRADES).map((t) => ({ ...t })),
    chart,
  };
}

/** The chart data a report embeds (`<script id="halyard-data">`), or null when there is no readable report. */
export async function chartOfReport(file: string): Promise<ChartData | null> {
  let html: string;
  try {
    html = await readFile(file, 'utf8');
  } catch {
    return null;
  }
  const m = /<script id="halyard-data" type="application\/json">([\s\S]*?)<\/script>/.exec(html);
  if (!m?.[1]) return null;
  try {
    return JSON.parse(m[1]) as ChartData;
  } catch {
    return null;
  }
}
