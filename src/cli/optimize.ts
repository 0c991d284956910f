import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { type Command, Option } from 'commander';
import { HalyardError } from '../core/errors.ts';
import { parseTimeframe } from '../core/timeframe.ts';
import { createLogger } from '../log.ts';
import type { Settings } from '../config.ts';
import { parseConstraint } from '../research/constraint.ts';
import { OBJECTIVES, type Objective } from '../research/objective.ts';
import { METHODS, optimize, type Method, type OptimizeInput } from '../research/optimize.ts';
import { parseSpace } from '../research/space.ts';
import { parseWalkForward } from '../research/walk-forward.ts';
import { loadStrategyFile } from '../strategy/load.ts';
import { warmupOf } from '../strategy/strategy.ts';
import { addCostOptions, addMarketOptions, addRunOptions, claimRunDir, loadMarketData, marketOf, runSettings, type MarketOptions } from './backtest-input.ts';
import { optimizeJson, optimizeTable, writeOptimizeRun } from './optimize-output.ts';

interface OptimizeOptions extends MarketOptions {
  param: string[];
  paramsFile?: string;
  constraint: string[];
  method: Method;
  trials: number;
  objective: Objective;
  minTrades: number;
  workers: number;
  heatmap?: string;
  walkForward?: string;
  warmup?: number;
  progress: boolean;
}

/** A whole number option from `min` up (`flag` names it in the error). */
function wholeNumber(flag: string, min: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\s*\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < min) throw new HalyardError('invalid_input', `${flag} must be a whole number >= ${min}, got "${v}"`);
    return n;
  };
}

/** The entries of a --params-file: a JSON object of parameter specs. */
async function readParamsFile(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new HalyardError('invalid_input', `--params-file: cannot read ${file}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new HalyardError('invalid_input', `--params-file: ${file} is not JSON (${(e as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HalyardError('invalid_input', `--params-file: ${file} must hold one JSON object of parameter specs, e.g. {"fast": "10..100:5", "slow": [100, 200]}`);
  }
  return value as Record<string, unknown>;
}

/** Registers `halyard optimize`. */
export function registerOptimizeCommand(program: Command, settings: () => Settings): void {
  const collect = (v: string, acc: string[]): string[] => [...acc, v];
  const cmd = program
    .command('optimize')
    .description('Search a strategy\'s parameters (grid, seeded random or TPE) on worker threads, optionally walking forward, and write a report')
    .argument('<strategy>', 'strategy file (.ts or .js) exporting a Strategy class');
  addMarketOptions(cmd, 'seed of the synthetic data and of a random or TPE search (whole number)')
    .option('--param <name=spec>', 'a parameter\'s values: a range lo..hi:step (inclusive), a list a,b,c, or one value (repeatable)', collect, [] as string[])
    .option('--params-file <file>', 'a JSON object of parameter specs, e.g. {"fast": "10..100:5", "slow": [100, 200]}')
    .option('--constraint <expr>', 'a comparison between parameters, e.g. "fast < slow" or "slow >= 2 * fast" (repeatable)', collect, [] as string[])
    .addOption(new Option('--method <method>', 'search method').choices([...METHODS]).default('grid'))
    .option('--trials <n>', 'combinations a random or TPE search runs', wholeNumber('--trials', 1), 50)
    .addOption(new Option('--objective <metric>', 'what to maximise').choices([...OBJECTIVES]).default('sharpe'))
    .option('--min-trades <n>', 'combinations with fewer trades rank last (infeasible)', wholeNumber('--min-trades', 0), 0)
    .addOption(new Option('--workers <n>', 'worker threads').argParser(wholeNumber('--workers', 1)).default(availableParallelism(), 'the cores available'))
    .option('--heatmap <a,b>', 'the two parameters of the report\'s heatmap (default: the first two numbers searched)')
    .option('--walk-forward <spec>', 'walk forward: train=180d,test=30d[,step=30d][,anchored]')
    .option('--warmup <n>', "base candles before --from that feed indicators without trading (default: the strategy's warmup with each combination's parameters)", wholeNumber('--warmup', 0));
  addRunOptions(addCostOptions(cmd), 'print only optimize.json on stdout')
    .option('--no-progress', 'no progress bar')
    .action(async (file: string, o: OptimizeOptions) => {
      const s = settings();
      const log = createLogger(s);
      const Cls = await loadStrategyFile(file);
      const space = parseSpace(Cls.defaults, o.param, o.paramsFile === undefined ? {} : await readParamsFile(o.paramsFile));
      if (space.dims.length === 0) throw new HalyardError('invalid_input', 'give the parameters to search with --param name=spec (e.g. --param fast=10..100:5) or --params-file');
      const numeric = Object.keys(Cls.defaults).filter((k) => typeof Cls.defaults[k] === 'number');
      const constraints = o.constraint.map((c) => parseConstraint(c, numeric));
      const heatmap = o.heatmap?.split(',').map((x) => x.trim());
      if (heatmap && (heatmap.length !== 2 || heatmap.some((h) => !space.dims.some((d) => d.name === h)))) {
        throw new HalyardError('invalid_input', `--heatmap names two searched parameters, e.g. --heatmap ${space.dims.slice(0, 2).map((d) => d.name).join(',') || 'fast,slow'}; got "${o.heatmap}"`);
      }
      const walkForward = o.walkForward === undefined ? undefined : parseWalkForward(o.walkForward);
      const strategy = new Cls();
      const base = parseTimeframe(o.timeframe ?? strategy.timeframes[0] ?? '1m');
      const market = marketOf(o, s);
      const settingsOfRun = await runSettings(o, s, market.symbol);
      const input: OptimizeInput = {
        strategyFile: file, Cls, space, constraints, method: o.method, trials: o.trials, seed: o.seed, objective: o.objective, minTrades: o.minTrades,
        workers: o.workers, exchange: market.exchange, symbol: market.symbol, timeframe: base, settings: settingsOfRun, ...(walkForward ? { walkForward } : {}),
        warmup: (params) => o.warmup ?? warmupOf(new Cls(params)),
      };
      const showBar = o.progress && !o.json && process.stderr.isTTY;
      const cliProgress = showBar ? (await import('cli-progress')).default : undefined;
      const bar = cliProgress ? new cliProgress.SingleBar({ format: 'optimize [{bar}] {percentage}% | {value}/{total} runs | ETA {eta_formatted}', hideCursor: true, etaBuffer: 50 }, cliProgress.Presets.shades_classic) : null;
      let done = 0;
      let tPhase = performance.now();
      const onPhase = (phase: string): void => {
        log.debug({ ms: Math.round(performance.now() - tPhase) }, phase);
        tPhase = performance.now();
      };
      const outcome = await optimize({
        ...input,
        onStart: (total) => bar?.start(total, 0),
        onDone: (n) => {
          done += n;
          bar?.update(done);
        },
        onPhase,
      }, (warmup) => loadMarketData(o, s, market, base, log, warmup));
      bar?.stop();
      const json = optimizeJson(input, outcome);
      const dir = o.out ?? (await claimRunDir(s.OUTPUT_PATH, `optimize-${json.strategy}`));
      const text = await writeOptimizeRun(dir, json, outcome, { ...(o.owner !== undefined ? { owner: o.owner } : {}), ...(o.share ? { shared: true } : {}) }, heatmap);
      onPhase('run written');
      process.stdout.write(o.json ? text : optimizeTable(json, dir));
    });
}
