/**
 * `halyard optimize` as a user runs it (the build: HALYARD_RUN=build), on the year of BTCUSDT 1m with the
 * SMA strategy, next-open fills and no fees: the 10-combination grid (fast 20,30,50,80,100 × slow 200,300)
 * and the 300-combination grid (fast 5..100:5 × slow 50..400:25, fast < slow), the latter with the shared
 * indicator series on and off (HALYARD_SHARE_INDICATORS=0), interleaved so both meet the same minutes.
 *
 *   node --import tsx bench/optimize.ts [--rounds 3]   (or npm run bench -- --only optimize)
 *
 * Prints wall time, CPU time, the sweep phase alone (from the command's debug log), combinations per second
 * and candles per second per core, with the load average before and after: a busy machine moves them all.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const SYMBOL = 'BTC/USDT:USDT';
const TIME = '/usr/bin/time';

/** One run of the command: wall and CPU (ms), the sweep's duration from the debug log, and what it reported. */
export interface OptimizeSample {
  wallMs: number;
  cpuMs: number | null;
  sweepMs: number;
  runs: number;
  candles: number;
  best: string;
}

/** The figures of one grid. */
export interface GridFigures {
  combinations: number;
  workers: number;
  wallMsMedian: number;
  wallMsAll: number[];
  cpuMsMedian: number | null;
  sweepMsMedian: number;
  combinationsPerSec: number;
  candlesPerSecPerCore: number;
  best: string;
}

/** Everything bench/optimize.ts measures (written under `optimize` in bench/results.json). */
export interface OptimizeFigures {
  loadBefore: number[];
  loadAfter: number[];
  grid10: GridFigures;
  grid300: GridFigures;
  grid300NoSharing: GridFigures;
  /** One `halyard backtest` of the same year (SMA 50/200) in the same minutes: what the machine gives right now. */
  backtestWallMsMedian: number;
  targets: { grid10WallMs: number; grid300WallMs: number };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const round = (x: number): number => Math.round(x * 100) / 100;

function once(repo: string, cache: string, args: readonly string[], share: boolean): OptimizeSample {
  const out = mkdtempSync(join(tmpdir(), 'halyard-bench-opt-'));
  const env = { ...process.env, CACHE_PATH: cache, OUTPUT_PATH: out, LOG_LEVEL: 'debug', HALYARD_RUN: 'build', HALYARD_SHARE_INDICATORS: share ? '1' : '0' };
  const cmd = [join(repo, 'bin/halyard.js'), 'optimize', 'strategies/sma-cross.ts', '--exchange', 'binance', '--symbol', SYMBOL, '--from', '2023-06-27', '--to', '2024-06-26',
    '--fill', 'next-open', '--maker-fee', '0', '--taker-fee', '0', ...args, '--json', '--log-format', 'json', '--out', join(out, 'run')];
  const timed = existsSync(TIME);
  const t = performance.now();
  const r = timed
    ? spawnSync(TIME, ['-f', 'CPU %U %S', process.execPath, ...cmd], { cwd: repo, env, encoding: 'utf8', maxBuffer: 1 << 28 })
    : spawnSync(process.execPath, cmd, { cwd: repo, env, encoding: 'utf8', maxBuffer: 1 << 28 });
  const wallMs = performance.now() - t;
  rmSync(out, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`bench: optimize failed: ${r.stderr}`);
  const cpu = /CPU ([\d.]+) ([\d.]+)/.exec(r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; ms?: number });
  const json = JSON.parse(r.stdout) as { combinations: { params: unknown }[]; data: { candles: number }; best: { params: unknown } };
  return {
    wallMs,
    cpuMs: cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : null,
    sweepMs: lines.find((l) => l.msg === 'swept')?.ms ?? Number.NaN,
    runs: json.combinations.length,
    candles: json.data.candles,
    best: JSON.stringify(json.best.params),
  };
}

/** One `halyard backtest` run of the year, wall ms (the reference measured beside the grids). */
function backtestOnce(repo: string, cache: string): number {
  const env = { ...process.env, CACHE_PATH: cache, LOG_LEVEL: 'silent', HALYARD_RUN: 'build' };
  const t = performance.now();
  execFileSync(process.execPath, [join(repo, 'bin/halyard.js'), 'backtest', 'strategies/sma-cross.ts', '--exchange', 'binance', '--symbol', SYMBOL, '--from', '2023-06-27', '--to', '2024-06-26',
    '--fill', 'next-open', '--maker-fee', '0', '--taker-fee', '0', '--json', '--no-report'], { cwd: repo, env, stdio: ['ignore', 'ignore', 'inherit'] });
  return performance.now() - t;
}

function figures(samples: OptimizeSample[], workers: number): GridFigures {
  const s0 = samples[0]!;
  const sweepMs = median(samples.map((s) => s.sweepMs));
  const cpus = samples.map((s) => s.cpuMs).filter((x): x is number => x !== null);
  return {
    combinations: s0.runs,
    workers,
    wallMsMedian: round(median(samples.map((s) => s.wallMs))),
    wallMsAll: samples.map((s) => round(s.wallMs)),
    cpuMsMedian: cpus.length ? round(median(cpus)) : null,
    sweepMsMedian: round(sweepMs),
    combinationsPerSec: round(s0.runs / (sweepMs / 1000)),
    candlesPerSecPerCore: Math.round((s0.runs * s0.candles) / (sweepMs / 1000) / workers),
    best: s0.best,
  };
}

/** Runs both grids `rounds` times (the 300 grid with and without shared series, interleaved). */
export function runOptimizeBench(repo: string, cache: string, rounds: number): OptimizeFigures {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repo, stdio: 'inherit' });
  const workers = Math.min(availableParallelism(), 10);
  const loadBefore = loadavg().map(round);
  const small = ['--param', 'fast=20,30,50,80,100', '--param', 'slow=200,300'];
  const large = ['--param', 'fast=5..100:5', '--param', 'slow=50..400:25', '--constraint', 'fast < slow'];
  const s10: OptimizeSample[] = [];
  const s300: OptimizeSample[] = [];
  const s300off: OptimizeSample[] = [];
  const single: number[] = [];
  for (let k = 0; k < rounds; k++) {
    single.push(backtestOnce(repo, cache));
    s10.push(once(repo, cache, small, true));
    s300.push(once(repo, cache, large, true));
    s300off.push(once(repo, cache, large, false));
  }
  return {
    loadBefore,
    loadAfter: loadavg().map(round),
    grid10: figures(s10, workers),
    grid300: figures(s300, workers),
    grid300NoSharing: figures(s300off, workers),
    backtestWallMsMedian: round(median(single)),
    targets: { grid10WallMs: 2000, grid300WallMs: 15_000 },
  };
}

/** Prints the figures beside the targets. */
export function printOptimize(f: OptimizeFigures): void {
  const line = (name: string, g: GridFigures, target: number | null): void => {
    const cpu = g.cpuMsMedian === null ? '' : `, CPU ${(g.cpuMsMedian / 1000).toFixed(2)} s`;
    console.log(`    ${name.padEnd(36)} wall ${(g.wallMsMedian / 1000).toFixed(2)} s (all: ${g.wallMsAll.map((x) => (x / 1000).toFixed(2)).join(' ')})${cpu}${target === null ? '' : `   target ≤ ${target / 1000} s`}`);
    console.log(`    ${''.padEnd(36)} sweep ${(g.sweepMsMedian / 1000).toFixed(2)} s: ${g.combinationsPerSec} combinations/s, ${(g.candlesPerSecPerCore / 1e6).toFixed(1)} M candles/s per core (${g.workers} workers); best ${g.best}`);
  };
  console.log(`\n  halyard optimize, year of BTCUSDT 1m (load average before ${f.loadBefore.join(' ')}, after ${f.loadAfter.join(' ')})`);
  line(`${f.grid10.combinations} combinations`, f.grid10, f.targets.grid10WallMs);
  line(`${f.grid300.combinations} combinations (the "300" grid)`, f.grid300, f.targets.grid300WallMs);
  line(`${f.grid300NoSharing.combinations}, no shared series`, f.grid300NoSharing, null);
  const b = f.backtestWallMsMedian;
  console.log(`    ${'one backtest (same minutes)'.padEnd(36)} wall ${(b / 1000).toFixed(2)} s: the 10-combination grid takes ${(f.grid10.wallMsMedian / b).toFixed(1)}× and the 300 ${(f.grid300.wallMsMedian / b).toFixed(1)}× one backtest`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string): string | undefined => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
  const repo = join(import.meta.dirname, '..');
  const f = runOptimizeBench(repo, join(repo, 'data/bench-cache/year'), Number(arg('--rounds') ?? 3));
  printOptimize(f);
}
