/**
 * Runs one backtest in a fresh process and prints its peak RSS, so the memory figure covers everything the
 * command does (reading the cache, the loop, results), not the bench harness. Usage:
 *   node --import tsx bench/rss-child.ts <cacheRoot> <from> <to> [timeframes]
 */
import { cachePath, readCandles } from '../src/data/index.ts';
import { runBacktest } from '../src/engine/backtest.ts';
import { serializeResults } from '../src/report/index.ts';
import SmaCross from '../strategies/sma-cross.ts';

const [root = '', from = '', to = ''] = process.argv.slice(2);
const candles = await readCandles(cachePath(root, 'binance', 'BTC/USDT:USDT', '1m'), { from: Number(from), to: Number(to) });
const strategy = new SmaCross({ fast: 50, slow: 200, qty: 1, sl: 0.01, tp: 0.02 });
const r = runBacktest({ strategy, candles, timeframe: '1m', exchange: 'binance', symbol: 'BTC/USDT:USDT', initialBalance: 1_000_000, fill: 'next-open', tick: 0.1, lot: 0.001 });
const json = serializeResults(r);
process.stdout.write(JSON.stringify({ candles: candles.length, trades: r.summary.trades, bytes: json.length, maxRssMB: process.resourceUsage().maxRSS / 1024 }) + '\n');
