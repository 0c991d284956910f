import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { HalyardError } from '../core/errors.ts';
import type { ChartData } from './chart-data.ts';
import type { ResultsJson } from './results.ts';
import { readRunMeta, visibleTo } from './run-meta.ts';

/** A backtest run found under the output folder, with its headline figures. */
export interface RunListing {
  /** The run's folder name. */
  readonly id: string;
  readonly strategy: string;
  readonly symbol: string;
  readonly exchange: string;
  readonly from: string;
  readonly to: string;
  /** Epoch ms results.json was written. */
  readonly created_at: number;
  readonly trades: number;
  /** Quote. */
  readonly net_profit: number;
  /** Percent. */
  readonly return_pct: number | null;
  /** Percent (a positive depth). */
  readonly max_drawdown_pct: number | null;
  /** Percent. */
  readonly win_rate: number | null;
  readonly has_report: boolean;
}

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

function finite(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

async function readResults(dir: string): Promise<{ results: ResultsJson; writtenAt: number } | null> {
  const file = join(dir, 'results.json');
  try {
    const [text, st] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
    const results = JSON.parse(text) as ResultsJson;
    if (typeof results !== 'object' || results === null || !results.summary || !results.config) return null;
    return { results, writtenAt: st.mtimeMs };
  } catch {
    return null;
  }
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
    symbol: String(r.config.symbol ?? ''),
    exchange: String(r.config.exchange ?? ''),
    from: String(r.config.fromIso ?? ''),
    to: String(r.config.toIso ?? ''),
    created_at: Math.round(writtenAt),
    trades: finite(s.trades) ?? 0,
    net_profit: finalEquity - initial,
    return_pct: ret === null ? null : ret * 100,
    max_drawdown_pct: dd === null ? null : Math.abs(dd) * 100,
    win_rate: win === null ? null : win * 100,
    has_report: hasReport,
  };
}

/**
 * The runs under `outputDir` (each a folder with results.json) that `viewer` may see (owned by that user
 * name or shared), newest first; a missing folder has none.
 */
export async function listRuns(outputDir: string, viewer: string): Promise<RunListing[]> {
  const root = resolve(outputDir);
  let names: string[];
  try {
    names = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory() && RUN_ID.test(d.name)).map((d) => d.name);
  } catch {
    return [];
  }
  const found = await Promise.all(
    names.map(async (id) => {
      const dir = join(root, id);
      if (!visibleTo(await readRunMeta(dir), viewer)) return null;
      const r = await readResults(dir);
      return r ? listing(id, r.results, r.writtenAt, await exists(join(dir, 'report.html'))) : null;
    }),
  );
  return found.filter((r): r is RunListing => r !== null).sort((a, b) => b.created_at - a.created_at || a.id.localeCompare(b.id));
}

/**
 * One run `viewer` may see: its results and the chart data embedded in its report.html (null without a
 * report). Another user's run and a missing one answer the same not_found, which names no server path.
 */
export async function runDetail(outputDir: string, id: string, viewer: string): Promise<RunDetail> {
  if (!RUN_ID.test(id)) throw new HalyardError('invalid_input', `not a run id: ${JSON.stringify(id)}`);
  const dir = join(resolve(outputDir), id);
  const r = visibleTo(await readRunMeta(dir), viewer) ? await readResults(dir) : null;
  if (!r) throw new HalyardError('not_found', `no backtest run '${id}'`);
  const chart = await chartOfReport(join(dir, 'report.html'));
  return {
    run: listing(id, r.results, r.writtenAt, chart !== null),
    summary: { ...r.results.summary },
    config: { ...r.results.config },
    trades: r.results.trades.slice(0, DETAIL_TRADES).map((t) => ({ ...t })),
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
