import type { RunParams } from '../report/run-files.ts';
import { table } from './output.ts';
import type { RunRow } from './runs.ts';

/** `2024-01-01 12:34` (UTC, to the minute); `—` for none. */
function minute(ms: number | null): string {
  return ms === null ? '—' : new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

/** An ISO time as `2024-01-01`, or `2024-01-01 12:34` when it is not midnight. */
function isoShort(iso: string): string {
  return iso.slice(11, 16) === '00:00' ? iso.slice(0, 10) : iso.slice(0, 16).replace('T', ' ');
}

const range = (from: string, to: string): string => `${isoShort(from)} → ${isoShort(to)}`;
const money = (x: number | null): string => (x === null ? '—' : x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }));
const percent = (x: number | null): string => (x === null ? '—' : `${x > 0 ? '+' : ''}${x.toFixed(2)} %`);
const score = (x: number | null): string => (x === null ? '—' : String(Number(x.toPrecision(6))));

/** `fast=20 slow=80` (a string value with spaces, or an empty one, in JSON quotes); `—` for none. */
export function paramsText(p: RunParams): string {
  const parts = Object.entries(p).map(([k, v]) => `${k}=${typeof v === 'string' && (v === '' || /\s/.test(v)) ? JSON.stringify(v) : String(v)}`);
  return parts.length === 0 ? '—' : parts.join(' ');
}

type Of<K extends RunRow['kind']> = Extract<RunRow, { kind: K }>;

function backtests(rows: readonly Of<'backtest'>[]): string {
  const header = ['id', 'time (UTC)', 'strategy', 'symbol', 'tf', 'range (UTC)', 'trades', 'return', 'final equity', 'params'];
  const body = rows.map((r) => [r.id, minute(r.created_at), r.strategy, r.symbol, r.timeframe, range(r.from, r.to), String(r.trades), percent(r.return_pct), money(r.final_equity), paramsText(r.params)]);
  return table(header, body, new Set([6, 7, 8]));
}

function optimizations(rows: readonly Of<'optimize'>[]): string {
  const header = ['id', 'time (UTC)', 'strategy', 'symbol', 'tf', 'range (UTC)', 'method', 'objective', 'combinations', 'best score', 'best params'];
  const body = rows.map((r) => [
    r.id, minute(r.created_at), r.strategy, r.symbol || '—', r.timeframe || '—', r.from && r.to ? range(r.from, r.to) : '—',
    r.method || '—', r.objective || '—', String(r.combinations), score(r.best_score), paramsText(r.best_params),
  ]);
  return table(header, body, new Set([8, 9]));
}

function papers(rows: readonly Of<'paper'>[]): string {
  const header = ['name', 'started (UTC)', 'last candle (UTC)', 'strategy', 'symbol', 'tf', 'target', 'mode', 'status', 'trades', 'return', 'equity', 'params'];
  const body = rows.map((r) => [r.id, minute(r.started_at), minute(r.last_candle), r.strategy, r.symbol, r.timeframe, r.target, r.mode, r.status, String(r.trades), percent(r.return_pct), money(r.equity), paramsText(r.params)]);
  return table(header, body, new Set([9, 10, 11]));
}

/**
 * The runs as text: one table per kind (backtests, optimisations, paper runs), each newest first; a sentence
 * saying how to make one when there are none (`filter`: the filter options given, if any).
 */
export function runsText(rows: readonly RunRow[], o: { readonly outputDir: string; readonly filter: string | null }): string {
  if (rows.length === 0) {
    return o.filter !== null
      ? `no runs match ${o.filter} (halyard runs lists them all)`
      : `no runs under ${o.outputDir}/ nor in the store; make one with: halyard backtest strategies/sma-cross.ts --synthetic`;
  }
  const of = <K extends RunRow['kind']>(k: K): Of<K>[] => rows.filter((r): r is Of<K> => r.kind === k);
  const sections: string[] = [];
  const b = of('backtest');
  if (b.length > 0) sections.push(`Backtests (${o.outputDir}/)\n${backtests(b)}`);
  const opt = of('optimize');
  if (opt.length > 0) sections.push(`Optimisations (${o.outputDir}/)\n${optimizations(opt)}`);
  const p = of('paper');
  if (p.length > 0) sections.push(`Paper runs (store)\n${papers(p)}`);
  return sections.join('\n\n');
}
