/**
 * The engine as a user meets it: the FIRST `runBacktest` in a fresh process beside the best warm call of
 * the same process, on the year of 1m candles (SMA 50/200 with SL/TP, next-open fills, as bench/run.ts),
 * and the peak RSS of the whole `backtest` command on the 2.5-year file, report included.
 *
 *   node --import tsx bench/cold.ts [--base <checkout>] [--rounds 5] [--no-rss]   (or npm run bench -- --only engine)
 *
 * With `--base`, the same children run from that checkout too, interleaved (this, other, this, …), so
 * both are measured in the same minutes. A child is `bench/cold.ts --child <checkout> <cacheRoot>`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');
const SYMBOL = 'BTC/USDT:USDT';

/** One fresh process: its first call and its best warm call (ms), whole call and candle loop. */
export interface ColdSample {
  firstMs: number;
  firstLoopMs: number;
  warmMs: number;
  warmLoopMs: number;
  /** CPU time (user + system, all threads: the optimizing compiler's too) of the first call and of the best warm one. */
  firstCpuMs: number;
  warmCpuMs: number;
  candles: number;
  trades: number;
  finalEquity: number;
}

/** Medians over the fresh processes of one checkout, and the cold ÷ warm ratios. */
export interface ColdFigures {
  processes: number;
  candles: number;
  trades: number;
  finalEquity: number;
  firstMsMedian: number;
  firstLoopMsMedian: number;
  warmMsMedian: number;
  warmLoopMsMedian: number;
  /** First loop ÷ best warm loop of the same process, median over processes (target ≤ 1.5). */
  loopColdToWarm: number;
  /** First whole call ÷ best warm whole call. */
  callColdToWarm: number;
  /** The same in CPU time (less moved by other processes on a busy machine; includes compiler threads). */
  firstCpuMsMedian: number;
  warmCpuMsMedian: number;
  cpuColdToWarm: number;
  firstLoopMsAll: number[];
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const round = (x: number): number => Math.round(x * 100) / 100;

/** Child: the first call, then the best of `warm` more, in this process. */
async function child(root: string, cache: string, warm: number): Promise<void> {
  const { cachePath, readCandles } = (await import(join(root, 'src/data/index.ts'))) as typeof import('../src/data/index.ts');
  const { runBacktest } = (await import(join(root, 'src/engine/backtest.ts'))) as typeof import('../src/engine/backtest.ts');
  const SmaCross = ((await import(join(root, 'strategies/sma-cross.ts'))) as typeof import('../strategies/sma-cross.ts')).default;
  const candles = await readCandles(cachePath(cache, 'binance', SYMBOL, '1m'));
  const once = () => {
    const strategy = new SmaCross({ fast: 50, slow: 200, qty: 1, sl: 0.01, tp: 0.02 });
    const u = process.cpuUsage();
    const t = performance.now();
    const r = runBacktest({ strategy, candles, timeframe: '1m', exchange: 'binance', symbol: SYMBOL, initialBalance: 1_000_000, fill: 'next-open', tick: 0.1, lot: 0.001, stopwatch: () => performance.now() });
    const ms = performance.now() - t;
    const cpu = process.cpuUsage(u);
    return { ms, cpuMs: (cpu.user + cpu.system) / 1000, loopMs: r.timings?.loopMs ?? Number.NaN, trades: r.summary.trades, finalEquity: r.summary.finalEquity };
  };
  const first = once();
  let warmMs = Number.POSITIVE_INFINITY;
  let warmLoopMs = Number.POSITIVE_INFINITY;
  let warmCpuMs = Number.POSITIVE_INFINITY;
  for (let k = 0; k < warm; k++) {
    const r = once();
    warmMs = Math.min(warmMs, r.ms);
    warmLoopMs = Math.min(warmLoopMs, r.loopMs);
    warmCpuMs = Math.min(warmCpuMs, r.cpuMs);
  }
  const out: ColdSample = { firstMs: first.ms, firstLoopMs: first.loopMs, warmMs, warmLoopMs, firstCpuMs: first.cpuMs, warmCpuMs, candles: candles.length, trades: first.trades, finalEquity: first.finalEquity };
  process.stdout.write(JSON.stringify(out) + '\n');
}

function sample(root: string, cache: string, warm: number): ColdSample {
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(here, 'cold.ts'), '--child', root, cache, String(warm)], { cwd: root, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1) as string) as ColdSample;
}

function summarize(xs: ColdSample[]): ColdFigures {
  const s = xs[0] as ColdSample;
  return {
    processes: xs.length,
    candles: s.candles,
    trades: s.trades,
    finalEquity: round(s.finalEquity),
    firstMsMedian: round(median(xs.map((x) => x.firstMs))),
    firstLoopMsMedian: round(median(xs.map((x) => x.firstLoopMs))),
    warmMsMedian: round(median(xs.map((x) => x.warmMs))),
    warmLoopMsMedian: round(median(xs.map((x) => x.warmLoopMs))),
    loopColdToWarm: round(median(xs.map((x) => x.firstLoopMs / x.warmLoopMs))),
    callColdToWarm: round(median(xs.map((x) => x.firstMs / x.warmMs))),
    firstCpuMsMedian: round(median(xs.map((x) => x.firstCpuMs))),
    warmCpuMsMedian: round(median(xs.map((x) => x.warmCpuMs))),
    cpuColdToWarm: round(median(xs.map((x) => x.firstCpuMs / x.warmCpuMs))),
    firstLoopMsAll: xs.map((x) => round(x.firstLoopMs)),
  };
}

/** Cold and warm engine figures of `roots` (interleaved fresh processes, `rounds` each). */
export function runColdBench(cache: string, roots: readonly string[], rounds = 5, warm = 6): ColdFigures[] {
  const all: ColdSample[][] = roots.map(() => []);
  for (let k = 0; k < rounds; k++) roots.forEach((root, j) => all[j]!.push(sample(root, cache, warm)));
  return all.map(summarize);
}

/** The whole `backtest` command's peak RSS (MB, /usr/bin/time's maximum resident set), report written. */
export interface CommandRss {
  trades: number;
  maxRssMB: number;
  wallMs: number;
}

/** Runs `halyard backtest` of `root` on `cache` (HTML report written) under /usr/bin/time and reads its peak RSS. */
export function commandRss(root: string, cache: string, from: string, to: string): CommandRss {
  const tmp = mkdtempSync(join(tmpdir(), 'halyard-rss-'));
  try {
    const env = { ...process.env, CACHE_PATH: cache, OUTPUT_PATH: join(tmp, 'out'), LOG_LEVEL: 'silent' };
    const log = join(tmp, 'time.txt');
    const args = ['-v', '-o', log, process.execPath, join(root, 'bin/halyard.js'), 'backtest', join(root, 'strategies/sma-cross.ts'), '--exchange', 'binance', '--symbol', SYMBOL, '--from', from, '--to', to, '--fill', 'next-open', '--allow-partial'];
    for (const [k, v] of Object.entries({ fast: 50, slow: 200, qty: 1, sl: 0.01, tp: 0.02 })) args.push('--param', `${k}=${v}`);
    args.push('--balance', '1000000', '--json');
    const t = performance.now();
    const out = execFileSync('/usr/bin/time', args, { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 28 });
    const wallMs = performance.now() - t;
    const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(log, 'utf8'))?.[1] ?? Number.NaN);
    const json = JSON.parse(out) as { summary: { trades: number } };
    return { trades: json.summary.trades, maxRssMB: round(kb / 1024), wallMs: round(wallMs) };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Prints one checkout's cold and warm figures. */
export function printCold(label: string, f: ColdFigures): void {
  console.log(`  ${label}: first call ${f.firstMsMedian} ms (loop ${f.firstLoopMsMedian} ms) vs best warm ${f.warmMsMedian} ms (loop ${f.warmLoopMsMedian} ms), median of ${f.processes} fresh processes`);
  console.log(`    cold ÷ warm: loop ${f.loopColdToWarm}×, whole call ${f.callColdToWarm}×, whole call CPU ${f.cpuColdToWarm}× (${f.firstCpuMsMedian} / ${f.warmCpuMsMedian} ms)   target loop ≤ 1.5×   (${f.trades} trades, equity ${f.finalEquity}; first loops ${f.firstLoopMsAll.join(' / ')} ms)`);
}

/** What `npm run bench -- --only engine` measures, for this checkout and optionally a base one. */
export interface EngineColdBench {
  loadBefore: number[];
  loadAfter: number[];
  cold: { root: string; figures: ColdFigures }[];
  /** The whole backtest command on the 2.5-year file (report written), peak RSS; two runs per checkout. */
  command1m25y: { root: string; maxRssMB: number[]; wallMs: number[]; trades: number }[];
  targets: { loopColdToWarm: number; commandPeakRssMB: number };
}

/** Cold / warm engine figures and the command's peak RSS, `base` interleaved with this checkout when given. */
export function runEngineBench(root: string, yearCache: string, fullCache: string, base?: string, rounds = 5, rss = true): EngineColdBench {
  const roots = base ? [root, resolve(base)] : [root];
  const loadBefore = loadavg().map(round);
  const cold = runColdBench(yearCache, roots, rounds).map((figures, j) => ({ root: roots[j] as string, figures }));
  const command1m25y = roots.map((r) => ({ root: r, maxRssMB: [] as number[], wallMs: [] as number[], trades: 0 }));
  if (rss) {
    for (let k = 0; k < 2; k++) {
      roots.forEach((r, j) => {
        const m = commandRss(r, fullCache, '2022-01-01', '2024-06-26');
        const row = command1m25y[j]!;
        row.maxRssMB.push(m.maxRssMB);
        row.wallMs.push(m.wallMs);
        row.trades = m.trades;
      });
    }
  }
  return { loadBefore, loadAfter: loadavg().map(round), cold, command1m25y, targets: { loopColdToWarm: 1.5, commandPeakRssMB: 300 } };
}

/** Prints `runEngineBench`'s figures. */
export function printEngine(b: EngineColdBench): void {
  console.log(`\n  Cold and warm engine (365 d of 1m, SMA 50/200 + SL/TP, next-open), load average ${b.loadBefore.join(' ')} → ${b.loadAfter.join(' ')}`);
  for (const c of b.cold) printCold(c.root, c.figures);
  for (const c of b.command1m25y) {
    if (c.maxRssMB.length > 0) console.log(`  ${c.root}: backtest command on 1.3 M bars (2022-01 → 2024-06, ${c.trades} trades), report written: peak RSS ${c.maxRssMB.join(' / ')} MB   target < 300 MB`);
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') return child(argv[1] as string, argv[2] as string, Number(argv[3] ?? 6));
  const arg = (name: string): string | undefined => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
  const b = runEngineBench(repo, resolve(repo, 'data/bench-cache/year'), resolve(repo, 'data/bench-cache/full'), arg('--other') ?? arg('--base'), Number(arg('--rounds') ?? 5), !argv.includes('--no-rss'));
  printEngine(b);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
