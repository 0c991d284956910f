/**
 * `npm run bench`: the figures of ARCHITECTURE.md's performance budget, printed and written to
 * bench/results.json. Never a pass/fail: targets are printed beside the measured values.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import { cachePath, importCsv, readCandles } from '../src/data/index.ts';
import type { CandleColumns } from '../src/core/candles.ts';
import { runBacktest } from '../src/engine/backtest.ts';
import type { Strategy } from '../src/strategy/strategy.ts';
import SmaCross from '../strategies/sma-cross.ts';
import { handwrittenSmaCross } from './handwritten.ts';
import { MtfSmaCross } from './mtf-strategy.ts';
import { printIntake, runIntakeBench } from './intake.ts';
import { printStartup, runStartupBench } from './startup.ts';
import { printEngine, runEngineBench } from './cold.ts';
import { printOptimize, runOptimizeBench } from './optimize.ts';
import { printCache, runCacheBench } from './series-cache.ts';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const shared = resolve(repo, '../shared/data');
/** Two caches: the one-year file alone (what the README's user imports), and the full 2.5-year history. */
const cacheYear = resolve(repo, 'data/bench-cache/year');
const cacheFull = resolve(repo, 'data/bench-cache/full');
const SYMBOL = 'BTC/USDT:USDT';
const FROM = Date.UTC(2023, 5, 27);
const TO = Date.UTC(2024, 5, 26);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function ensureImported(cache: string, file: string, tf: '1m' | '1h' | '4h'): Promise<void> {
  const p = cachePath(cache, 'binance', SYMBOL, tf);
  if (existsSync(p)) return;
  const t = performance.now();
  await importCsv({ file: join(shared, file), exchange: 'binance', symbol: SYMBOL, timeframe: tf, cacheRoot: cache });
  console.log(`  imported ${file} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}

/** Best of `reps` runs: the whole runBacktest call, and the candle loop alone (engine stopwatch). */
function timeEngine(make: () => Strategy, candles: CandleColumns, reps: number): { ms: number; loopMs: number; trades: number; finalEquity: number } {
  let best = Number.POSITIVE_INFINITY;
  let bestLoop = Number.POSITIVE_INFINITY;
  let trades = 0;
  let finalEquity = 0;
  for (let k = 0; k < reps; k++) {
    const strategy = make();
    const t = performance.now();
    const r = runBacktest({ strategy, candles, timeframe: '1m', exchange: 'binance', symbol: SYMBOL, initialBalance: 1_000_000, fill: 'next-open', tick: 0.1, lot: 0.001, stopwatch: () => performance.now() });
    best = Math.min(best, performance.now() - t);
    bestLoop = Math.min(bestLoop, r.timings?.loopMs ?? Number.POSITIVE_INFINITY);
    trades = r.summary.trades;
    finalEquity = r.summary.finalEquity;
  }
  return { ms: best, loopMs: bestLoop, trades, finalEquity };
}

const smaParams = { fast: 50, slow: 200, qty: 1, sl: 0.01, tp: 0.02 };

/** The value after `name` on the command line. */
const arg = (name: string): string | undefined => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);

/** The parts `--only` runs alone: each prints its figures and returns them under its key in results.json. */
const ONLY: Readonly<Record<string, () => Promise<Record<string, unknown>>>> = {
  // `--only intake`: the signal intake.
  intake: async () => {
    const signalIntake = await runIntakeBench();
    printIntake(signalIntake);
    return { signalIntake };
  },
  // `--only startup [--base <checkout>] [--runs N]`: the CLI's start-up beside `node -e 0` (bench/startup.ts).
  startup: async () => {
    await ensureImported(cacheYear, 'binance-spot-BTCUSDT-1m-365d.csv.gz', '1m');
    const startup = runStartupBench(repo, cacheYear, arg('--base'), Number(arg('--runs') ?? 9));
    printStartup(startup);
    return { startup };
  },
  // `--only engine [--base <checkout>] [--rounds N]`: the first run in a fresh process beside the best warm
  // one, and the backtest command's peak RSS on 1.3 M bars (bench/cold.ts).
  engine: async () => {
    await ensureImported(cacheYear, 'binance-spot-BTCUSDT-1m-365d.csv.gz', '1m');
    await ensureImported(cacheFull, 'binance-spot-BTCUSDT-1m.csv.gz', '1m');
    const engineCold = runEngineBench(repo, cacheYear, cacheFull, arg('--base'), Number(arg('--rounds') ?? 5));
    printEngine(engineCold);
    return { engineCold };
  },
  // `--only optimize [--rounds N]`: halyard optimize's 10- and 300-combination grids (bench/optimize.ts) and
  // what the shared indicator series save per run (bench/series-cache.ts).
  optimize: async () => {
    await ensureImported(cacheYear, 'binance-spot-BTCUSDT-1m-365d.csv.gz', '1m');
    const optimize = runOptimizeBench(repo, cacheYear, Number(arg('--rounds') ?? 3));
    printOptimize(optimize);
    const seriesCache = await runCacheBench(cacheYear);
    printCache(seriesCache);
    return { optimize: { ...optimize, seriesCache } };
  },
};

async function main(): Promise<void> {
  // `npm run bench -- --only <part>`: one part alone, merged into bench/results.json.
  const only = arg('--only');
  if (only !== undefined) {
    const part = ONLY[only];
    if (part === undefined) throw new Error(`bench: --only ${only}: use one of ${Object.keys(ONLY).join(', ')}`);
    const file = join(here, 'results.json');
    const prev = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
    writeFileSync(file, JSON.stringify({ ...prev, ...(await part()) }, null, 2) + '\n');
    console.log('\n  written to bench/results.json');
    return;
  }
  if (!existsSync(shared)) {
    console.log(`bench: ${shared} is absent; the benchmark needs the shared market data.`);
    process.exitCode = 1;
    return;
  }
  mkdirSync(cacheYear, { recursive: true });
  mkdirSync(cacheFull, { recursive: true });
  console.log(`Halyard bench on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`);
  await ensureImported(cacheYear, 'binance-spot-BTCUSDT-1m-365d.csv.gz', '1m');
  await ensureImported(cacheFull, 'binance-spot-BTCUSDT-1m.csv.gz', '1m');

  const tRead = performance.now();
  const year = await readCandles(cachePath(cacheYear, 'binance', SYMBOL, '1m'), { from: FROM, to: TO });
  const readMs = performance.now() - tRead;
  const all = await readCandles(cachePath(cacheFull, 'binance', SYMBOL, '1m'));

  const engine = timeEngine(() => new SmaCross(smaParams), year, 7);
  let handBest = Number.POSITIVE_INFINITY;
  let hand = { trades: 0, finalEquity: 0 };
  for (let k = 0; k < 7; k++) {
    const t = performance.now();
    hand = handwrittenSmaCross(year, 50, 200, 1, 0.01, 0.02, 1_000_000, 5, 2);
    handBest = Math.min(handBest, performance.now() - t);
  }
  const full = timeEngine(() => new SmaCross(smaParams), all, 6);
  const mtf = timeEngine(() => new MtfSmaCross(), year, 8);

  // The whole command, as a user runs it, from the Parquet cache (report files included).
  const env = { ...process.env, CACHE_PATH: cacheYear, OUTPUT_PATH: resolve(repo, 'data/bench-output'), LOG_LEVEL: 'silent' };
  const args = ['bin/halyard.js', 'backtest', 'strategies/sma-cross.ts', '--exchange', 'binance', '--symbol', SYMBOL, '--from', '2023-06-27', '--to', '2024-06-26', '--fill', 'next-open'];
  for (const [k, v] of Object.entries(smaParams)) args.push('--param', `${k}=${v}`);
  args.push('--balance', '1000000', '--json');
  const walls: number[] = [];
  for (let k = 0; k < 5; k++) {
    const t = performance.now();
    execFileSync(process.execPath, args, { cwd: repo, env, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 28 });
    walls.push(performance.now() - t);
  }
  const rss = (cache: string) =>
    JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', 'bench/rss-child.ts', cache, '0', String(Number.MAX_SAFE_INTEGER)], { cwd: repo, encoding: 'utf8' })) as { candles: number; maxRssMB: number };
  const rssFull = rss(cacheFull);
  const rssYear = rss(cacheYear);

  const results = {
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '', node: process.version },
    year1m: {
      candles: year.length,
      parquetReadMs: round(readMs),
      engineLoopMs: round(engine.loopMs),
      engineLoopCandlesPerSec: Math.round(year.length / (engine.loopMs / 1000)),
      engineMs: round(engine.ms),
      engineCandlesPerSec: Math.round(year.length / (engine.ms / 1000)),
      handwrittenMs: round(handBest),
      handwrittenCandlesPerSec: Math.round(year.length / (handBest / 1000)),
      ratioToHandwritten: round(engine.ms / handBest),
      trades: engine.trades,
      handwrittenTrades: hand.trades,
      finalEquity: round(engine.finalEquity),
      handwrittenFinalEquity: round(hand.finalEquity),
      commandWallMsMedian: round(median(walls)),
      commandWallMsAll: walls.map(round),
      peakRssMB: round(rssYear.maxRssMB),
    },
    full1m: { candles: all.length, engineLoopCandlesPerSec: Math.round(all.length / (full.loopMs / 1000)), engineMs: round(full.ms), engineCandlesPerSec: Math.round(all.length / (full.ms / 1000)), trades: full.trades, peakRssMB: round(rssFull.maxRssMB) },
    mtf1m4h: { candles: year.length, engineLoopCandlesPerSec: Math.round(year.length / (mtf.loopMs / 1000)), engineMs: round(mtf.ms), engineCandlesPerSec: Math.round(year.length / (mtf.ms / 1000)), trades: mtf.trades },
    targets: { engineLoopCandlesPerSec: 20_000_000, commandWallMs: 1000, ratioToHandwritten: 5, peakRssMBFull: 300 },
  };
  const y = results.year1m;
  console.log(`\n  365 d 1m SMA(50/200)+SL/TP  ${y.candles.toLocaleString()} candles`);
  console.log(`    engine loop        ${(y.engineLoopCandlesPerSec / 1e6).toFixed(1)} M candles/s (${y.engineLoopMs} ms)   target ≥ 20 M/s`);
  console.log(`    whole runBacktest  ${(y.engineCandlesPerSec / 1e6).toFixed(1)} M candles/s (${y.engineMs} ms: + indicator precompute, results, metrics)`);
  console.log(`    hand-written loop  ${(y.handwrittenCandlesPerSec / 1e6).toFixed(1)} M candles/s (${y.handwrittenMs} ms)   runBacktest/hand = ${y.ratioToHandwritten}×   target ≤ 5×`);
  console.log(`    trades             engine ${y.trades}, hand-written ${y.handwrittenTrades}; final equity ${y.finalEquity} vs ${y.handwrittenFinalEquity}`);
  console.log(`    parquet read       ${y.parquetReadMs} ms`);
  console.log(`    whole command      ${y.commandWallMsMedian} ms median of 5   target < 1000 ms`);
  console.log(`    peak RSS           ${y.peakRssMB} MB`);
  const f = results.full1m;
  const m = results.mtf1m4h;
  console.log(`  ${f.candles.toLocaleString()} bars (2022-01 → 2024-06): loop ${(f.engineLoopCandlesPerSec / 1e6).toFixed(1)} M/s, runBacktest ${(f.engineCandlesPerSec / 1e6).toFixed(1)} M/s, peak RSS ${f.peakRssMB} MB   target < 300 MB`);
  console.log(`  1m + 4h multi-timeframe:   loop ${(m.engineLoopCandlesPerSec / 1e6).toFixed(1)} M/s, runBacktest ${(m.engineCandlesPerSec / 1e6).toFixed(1)} M/s (${m.engineMs} ms, ${m.trades} trades)`);
  const engineCold = runEngineBench(repo, cacheYear, cacheFull, undefined, 5);
  printEngine(engineCold);
  const signalIntake = await runIntakeBench();
  printIntake(signalIntake);
  writeFileSync(join(here, 'results.json'), JSON.stringify({ ...results, engineCold, signalIntake }, null, 2) + '\n');
  console.log('\n  written to bench/results.json');
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

await main();
