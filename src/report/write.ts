import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { BacktestResult } from '../engine/result.ts';
import { tradesCsv } from './csv.ts';
import { reportHtml } from './html.ts';
import { RUN_META_FILE, runMetaJson, type RunMeta } from './run-meta.ts';
import { serializeResults } from './results.ts';
import { DEFAULT_MONTE_CARLO, tradeMonteCarlo, type MonteCarloSettings } from './monte-carlo.ts';

/** Files a run writes, in the order they are written (and `run.json` when it has an owner or is shared). */
export const RUN_FILES = ['results.json', 'trades.csv', 'report.html'] as const;

/** Where a run was written: the absolute directory and the absolute path of each file. */
export interface WrittenRun {
  readonly dir: string;
  readonly files: readonly string[];
  /** The results.json text written (so callers printing it need not serialize twice). */
  readonly resultsJson: string;
}

/**
 * Writes results.json, trades.csv and report.html into `outDir` (created if missing; files overwritten),
 * and run.json when `meta` names an owner or shares the run. Both results.json and the report carry the
 * Monte Carlo of the trades (`monteCarlo`; `runs: 0` leaves it out).
 */
export async function writeRun(result: BacktestResult, outDir: string, meta: RunMeta = {}, monteCarlo: MonteCarloSettings = DEFAULT_MONTE_CARLO): Promise<WrittenRun> {
  const metaJson = runMetaJson(meta); // checked before anything is written
  const dir = resolve(outDir);
  await mkdir(dir, { recursive: true });
  const mc = tradeMonteCarlo(result.trades, result.config.initialBalance, monteCarlo);
  const contents: Record<(typeof RUN_FILES)[number], string> = {
    'results.json': serializeResults(result, mc),
    'trades.csv': tradesCsv(result.trades),
    'report.html': reportHtml(result, mc),
  };
  const files: string[] = [];
  for (const name of RUN_FILES) {
    const file = join(dir, name);
    await writeFile(file, contents[name], 'utf8');
    files.push(file);
  }
  if (metaJson !== null) {
    const file = join(dir, RUN_META_FILE);
    await writeFile(file, metaJson, 'utf8');
    files.push(file);
  }
  return { dir, files, resultsJson: contents['results.json'] };
}
