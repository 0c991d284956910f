/**
 * Runs one backtest in a fresh process and prints its peak RSS, so the memory figure covers everything the
 * command does (reading the cache, the loop, results), not the bench harness. Usage:
 *   node --import tsx bench/rss-child.ts <cacheRoot> <from> <to> [timeframes]
 */
import { readFileSync } from 'node:fs';
import { cachePath, readCandles } from '../src/data/index.ts';
import { runBacktest } from '../src/engine/backtest.ts';
import { serializeResults } from '../src/report/index.ts';
import SmaCross from '../strategies/sma-cross.ts';

const [root = '', from = '', to = ''] = process.argv.slice(2);
const candles = await readCandles(cachePath(root, 'binance', 'BTC/USDT:USDT', '1m'), { from: Number(from), to: Number(to) });
const strategy = new SmaCross({ fast: 50, slow: 200, qty: 1, sl: 0.01, tp: 0.02 });
const r = runBacktest({ strategy, candles, timeframe: '1m', exchange: 'binance', symbol: 'BTC/USDT:USDT', initialBalance: 1_000_000, fill: 'next-open', tick: 0.1, lot: 0.001 });
const json = serializeResults(r);
process.stdout.write(JSON.stringify({ candles: candles.length, trades: r.summary.trades, bytes: json.length, maxRssMB: peakRssKB() / 1024 }) + '\n');

/**
 * This process's own peak RSS (KB). Linux carries getrusage's maxRSS across exec from the parent that
 * spawned us (the bench harness, hundreds of MB), so read the high-water mark of our own memory map.
 */
function peakRssKB(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m?.[1]) return Number(m[1]);
  } catch {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS;
}
