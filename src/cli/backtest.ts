import type { Command } from 'commander';
import { HalyardError } from '../core/errors.ts';
import { parseTimeframe } from '../core/timeframe.ts';
import { createLogger } from '../log.ts';
import type { Settings } from '../config.ts';
import { runBacktest } from '../engine/backtest.ts';
import { serializeResults, writeRun } from '../report/index.ts';
import { DEFAULT_MONTE_CARLO, tradeMonteCarlo, type MonteCarloSettings } from '../report/monte-carlo.ts';
import { loadStrategyFile } from '../strategy/load.ts';
import { parseParams, warmupOf } from '../strategy/strategy.ts';
import { addCostOptions, addMarketOptions, addRunOptions, claimRunDir, loadMarketData, marketOf, runSettings, type MarketOptions } from './backtest-input.ts';
import { summaryTable } from './summary.ts';

/** `--warmup`: a whole number of candles >= 0. */
function parseWarmup(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < 0) throw new HalyardError('invalid_input', `--warmup must be a whole number of candles >= 0, got "${v}"`);
  return n;
}

/** `--monte-carlo`: simulations, a whole number from 0 (none) to 1,000,000. */
function parseRuns(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < 0 || n > 1_000_000) throw new HalyardError('invalid_input', `--monte-carlo must be a whole number of simulations from 0 (none) to 1000000, got "${v}"`);
  return n;
}

/** `--ruin-drawdown`: a fraction of the peak above 0 and at most 1 (0.5 = a 50 % drawdown). */
function parseRuin(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !(n > 0 && n <= 1)) throw new HalyardError('invalid_input', `--ruin-drawdown must be a fraction above 0 and at most 1 (0.5 = a 50 % drawdown), got "${v}"`);
  return n;
}

interface BacktestOptions extends MarketOptions {
  param: string[];
  warmup?: number;
  monteCarlo: number;
  ruinDrawdown: number;
  report: boolean;
  progress: boolean;
}

/** Registers `halyard backtest`. */
export function registerBacktestCommand(program: Command, settings: () => Settings): void {
  const cmd = program
    .command('backtest')
    .description('Backtest a strategy file on cached candles (or built-in synthetic data) and write a report')
    .argument('<strategy>', 'strategy file (.ts or .js) exporting a Strategy class');
  addMarketOptions(cmd).option('--param <name=value>', 'strategy parameter (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[]);
  cmd.option('--warmup <n>', "base candles before --from that feed indicators without trading (default: the strategy's warmup)", parseWarmup);
  cmd.option('--monte-carlo <runs>', 'bootstrap resamplings of the trades for the report (0: none)', parseRuns, DEFAULT_MONTE_CARLO.runs);
  cmd.option('--ruin-drawdown <fraction>', "the drawdown from a peak the Monte Carlo counts as ruin (0.5 = 50 %)", parseRuin, DEFAULT_MONTE_CARLO.ruinDrawdown);
  addRunOptions(addCostOptions(cmd), 'print only the results JSON on stdout')
    .option('--no-report', 'do not write the run folder')
    .option('--no-progress', 'no progress bar')
    .action(async (file: string, o: BacktestOptions) => {
      const s = settings();
      const log = createLogger(s);
      const Cls = await loadStrategyFile(file);
      const params = parseParams(Cls.defaults, o.param);
      const strategy = new Cls(params);
      const base = parseTimeframe(o.timeframe ?? strategy.timeframes[0] ?? '1m');
      const market = marketOf(o, s);
      const { exchange, symbol } = market;
      const data = await loadMarketData(o, s, market, base, log, o.warmup ?? warmupOf(strategy));
      log.debug({ strategy: strategy.name, params, exchange, symbol, timeframe: base, candles: data.base.length, drillDown: [...data.finer.keys()] }, 'data loaded');
      const showBar = o.progress && !o.json && process.stderr.isTTY && data.base.length > 200_000;
      // cli-progress loads only when a bar is drawn (a terminal, a long run): piped runs start sooner.
      const cliProgress = showBar ? (await import('cli-progress')).default : undefined;
      const bar = cliProgress ? new cliProgress.SingleBar({ format: 'backtest [{bar}] {percentage}% | {value}/{total} candles', hideCursor: true }, cliProgress.Presets.shades_classic) : null;
      bar?.start(data.base.length, 0);
      const result = runBacktest({
        strategy,
        exchange,
        symbol,
        candles: data.base,
        timeframe: base,
        finer: data.finer,
        ...(await runSettings(o, s, symbol)),
        ...(data.tradeFrom !== undefined ? { tradeFrom: data.tradeFrom } : {}),
        onProgress: bar ? (done, total) => (bar.setTotal(total), bar.update(done)) : undefined,
      });
      bar?.stop();
      log.debug({ trades: result.summary.trades, finalEquity: result.summary.finalEquity }, 'backtest done');
      let dir: string | null = null;
      let json: string | null = null;
      const monteCarlo: MonteCarloSettings = { runs: o.monteCarlo, seed: DEFAULT_MONTE_CARLO.seed, ruinDrawdown: o.ruinDrawdown };
      if (o.report) {
        dir = o.out ?? (await claimRunDir(s.OUTPUT_PATH, strategy.name));
        json = (await writeRun(result, dir, { ...(o.owner !== undefined ? { owner: o.owner } : {}), ...(o.share ? { shared: true } : {}) }, monteCarlo)).resultsJson;
      }
      if (o.json) {
        process.stdout.write(json ?? serializeResults(result, tradeMonteCarlo(result.trades, result.config.initialBalance, monteCarlo)));
      } else {
        process.stdout.write(summaryTable(result, dir));
      }
    });
}
