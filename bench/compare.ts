// Compares this checkout with another one (e.g. a worktree of the previous commit) in the same minutes:
// the backtest loop on a synthetic year (best of 9, in a child process per checkout, alternating) and the
// CLI's start-up (`halyard --version`, median of 5). Usage: node --import tsx bench/compare.ts <other-checkout>
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = resolve(fileURLToPath(new URL('..', import.meta.url)));
const other = process.argv[2];
if (!other) {
  console.log('usage: node --import tsx bench/compare.ts <other-checkout>');
  process.exit(1);
}

const LOOP = `
const root = process.argv[1];
const { syntheticCandles } = await import(root + '/src/data/synthetic.ts');
const { runBacktest } = await import(root + '/src/engine/backtest.ts');
const SmaCross = (await import(root + '/strategies/sma-cross.ts')).default;
const c = syntheticCandles({ seed: 7, count: 525_600 });
let best = Infinity; let r;
for (let k = 0; k < 9; k++) {
  r = runBacktest({ strategy: new SmaCross({ fast: 50, slow: 200, qty: 1, sl: 0.01, tp: 0.02 }), exchange: 'binance', symbol: 'BTC/USDT:USDT', candles: c, timeframe: '1m', initialBalance: 1e6, stopwatch: () => performance.now() });
  best = Math.min(best, r.timings.loopMs);
}
console.log(JSON.stringify({ loopMps: c.length / best / 1000, trades: r.trades.length, equity: r.summary.finalEquity }));
`;

function loop(root: string): { loopMps: number; trades: number; equity: number } {
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', LOOP, root], { cwd: here, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1) as string) as { loopMps: number; trades: number; equity: number };
}

function startup(root: string): number {
  const t = performance.now();
  execFileSync(process.execPath, [resolve(root, 'bin/halyard.js'), '--version'], { cwd: root, stdio: 'ignore' });
  return performance.now() - t;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const roots = { this: here, other: resolve(other) };
const loops: Record<string, number[]> = { this: [], other: [] };
const starts: Record<string, number[]> = { this: [], other: [] };
let results: Record<string, { trades: number; equity: number }> = {};
for (let round = 0; round < 2; round++) {
  for (const [name, root] of Object.entries(roots)) {
    const r = loop(root);
    loops[name]!.push(r.loopMps);
    results = { ...results, [name]: { trades: r.trades, equity: r.equity } };
  }
}
for (let k = 0; k < 5; k++) for (const [name, root] of Object.entries(roots)) starts[name]!.push(startup(root));
for (const name of Object.keys(roots)) {
  const l = loops[name]!.map((x) => x.toFixed(1)).join(' / ');
  console.log(`${name.padEnd(5)} ${roots[name as 'this']}: loop ${l} M candles/s (${results[name]!.trades} trades, equity ${results[name]!.equity.toFixed(2)}); halyard --version median ${median(starts[name]!).toFixed(0)} ms`);
}
